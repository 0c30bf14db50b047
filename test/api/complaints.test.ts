/**
 * Complaints (投诉, Zibo attachment 4) through the API and the real complaint workflow on the time-skipping
 * server: the office accepts and assigns; the unit it is assigned to answers, or asks once for an extension of
 * at most 5 working days that the office approves; an overdue complaint is escalated. Isolation as for cases
 * (a unit sees only what is assigned to it; refusals 403 and audited), request validation 400 naming the field,
 * rule violations 422 in Chinese, the list's filters and masked phone, and the Art. 13 complaint figures.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, complaints, notifications } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read loosely in assertions
type Json = any;

async function eventually<T>(probe: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const DAY = 86_400_000;

describe.each(databaseTargets())('complaints through the API on $name', (target) => {
  let env: TestWorkflowEnvironment;
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  let n = 0;
  const key = () => `complaint-${target.name}-${Date.now()}-${++n}`;

  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: {
        authorization: auth[who] as string,
        ...(method === 'POST' ? { 'idempotency-key': key() } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
  const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await call(who, method, url, payload);
    expect(res.statusCode, `${who} ${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as Json;
  };
  const url = (id: string, tail = '') => `/api/v1/complaints/${encodeURIComponent(id)}${tail}`;
  const denials = (action: string, actor: string) =>
    h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, action), eq(auditLog.actorId, actor), eq(auditLog.outcome, 'denied')));

  const body = (overrides: Record<string, unknown> = {}) => ({
    unitCode: 'ZB-GA',
    channel: 'hotline_12345',
    ticketNo: `ZB12345-${++n}`,
    complainant: { name: '李四', phone: '13800138000' },
    content: '到公安局窗口办理业务时，仍被要求提供已列入免提交清单的证明',
    ...overrides,
  });

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    h = await createApiHarness(env, target);
    for (const who of ['office', 'admin', 'iss-a', 'iss-a-lia', 'iss-b', 'req-a', 'gov-review'])
      auth[who] = await h.login(who);
  });
  afterAll(async () => {
    await h?.close();
    await env?.teardown();
  });

  let first: Json;

  it('the office accepts a complaint: 5 working days, the channel and its ticket number recorded', async () => {
    const res = await call('office', 'POST', '/api/v1/complaints', body({ ticketNo: 'ZB12345-0001' }));
    expect(res.statusCode, res.body).toBe(201);
    first = res.json();
    expect(first).toMatchObject({
      status: 'accepted',
      statusLabel: '已受理',
      unitCode: 'ZB-GA',
      unitName: '淄博市公安局',
      handlingUnit: null,
      channel: 'hotline_12345',
      channelLabel: '12345 政务服务热线',
      ticketNo: 'ZB12345-0001',
      complainantPhone: '13800138000',
      acceptedBy: { id: 'stf-office', name: '韩梅' },
      extension: null,
      escalated: false,
      overdue: false,
    });
    // Five working days: at least a week of calendar time away, at the close of office hours (Beijing).
    expect(Date.parse(first.dueAt) - Date.now()).toBeGreaterThan(5 * DAY);
    expect(new Date(first.dueAt).toISOString().slice(11, 16)).toBe('09:30'); // 17:30 Beijing
  });

  it('validation: 400 naming the field; rule violations 422 in Chinese; only the office accepts (403, audited)', async () => {
    const noPhone = await call(
      'office',
      'POST',
      '/api/v1/complaints',
      body({ complainant: { name: '李四' } }),
    );
    expect(noPhone.statusCode).toBe(400);
    expect(JSON.stringify(noPhone.json().errors)).toContain('/body/complainant');
    const badChannel = await call('office', 'POST', '/api/v1/complaints', body({ channel: 'pigeon' }));
    expect(badChannel.statusCode).toBe(400);
    expect(JSON.stringify(badChannel.json().errors)).toContain('/body/channel');

    const noTicket = await call('office', 'POST', '/api/v1/complaints', body({ ticketNo: undefined }));
    expect(noTicket.statusCode).toBe(422);
    expect(noTicket.json().detail).toContain('工单号');
    expect(JSON.stringify(noTicket.json().errors)).toContain('/body/ticketNo');
    const noUnit = await call('office', 'POST', '/api/v1/complaints', body({ unitCode: 'ZB-NONE' }));
    expect(noUnit.statusCode).toBe(422);
    expect(noUnit.json().detail).toBe('被投诉单位不存在');
    const noCase = await call(
      'office',
      'POST',
      '/api/v1/complaints',
      body({ relatedCase: '淄人协〔2026〕99999号' }),
    );
    expect(noCase.statusCode).toBe(422);
    expect(noCase.json().detail).toBe('未找到相关协查');

    const byUnit = await call('iss-a', 'POST', '/api/v1/complaints', body());
    expect(byUnit.statusCode).toBe(403);
    expect(await denials('complaint.accept', 'stf-iss-a')).toHaveLength(1);
  });

  it('isolation: a unit sees only the complaints assigned to it; others are refused (403, audited)', async () => {
    // Before assignment the unit complained about does not see it yet.
    expect((await ok('iss-a', 'GET', '/api/v1/complaints')).items.map((c: Json) => c.id)).not.toContain(
      first.id,
    );
    expect((await call('iss-a', 'GET', url(first.id))).statusCode).toBe(403);

    const badAssignee = await call('office', 'POST', url(first.id, '/assign'), {
      unitCode: 'ZB-GA',
      assigneeId: 'stf-iss-b',
    });
    expect(badAssignee.statusCode).toBe(422);
    expect(JSON.stringify(badAssignee.json().errors)).toContain('/body/assigneeId');
    expect((await call('iss-a', 'POST', url(first.id, '/assign'), { unitCode: 'ZB-GA' })).statusCode).toBe(
      403,
    );

    const assigned = await ok('office', 'POST', url(first.id, '/assign'), {
      unitCode: 'ZB-GA',
      assigneeId: 'stf-iss-a',
      note: '请核实窗口情况',
    });
    expect(assigned).toMatchObject({
      status: 'assigned',
      handlingUnit: 'ZB-GA',
      assignee: { id: 'stf-iss-a' },
    });

    const mine = await ok('iss-a', 'GET', '/api/v1/complaints');
    const listed = mine.items.find((c: Json) => c.id === first.id);
    expect(listed.complainantPhone).toBe('138****8000');
    expect((await ok('iss-a-lia', 'GET', url(first.id))).complaint.complainantPhone).toBe('13800138000');

    expect((await ok('iss-b', 'GET', '/api/v1/complaints')).items.map((c: Json) => c.id)).not.toContain(
      first.id,
    );
    expect((await call('iss-b', 'GET', url(first.id))).statusCode).toBe(403);
    expect(await denials('complaint.read', 'stf-iss-b')).toHaveLength(1);
    expect((await call('iss-b', 'POST', url(first.id, '/answer'), { text: '已处理完毕' })).statusCode).toBe(
      403,
    );
    expect((await call('req-a', 'GET', url(first.id))).statusCode).toBe(403);
    expect((await call('gov-review', 'GET', '/api/v1/complaints')).statusCode).toBe(403);
    // The office reads everything, the administrator too.
    expect((await ok('admin', 'GET', url(first.id))).complaint.id).toBe(first.id);
    // The unit's liaison was told (Beijing time in the text).
    const told = await h.database.db
      .select()
      .from(notifications)
      .where(
        and(
          eq(notifications.recipientStaffId, 'stf-iss-a-lia'),
          like(notifications.eventKey, `complaint:${first.id}:%`),
        ),
      );
    expect(told[0]?.message).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 17:30 前办结答复/);
  });

  it('extension: at most 5 working days (422), approved by the office only, once (422 the second time)', async () => {
    const tooLong = await call('iss-a', 'POST', url(first.id, '/extension'), { days: 6, reason: '情况复杂' });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json().detail).toBe('延期最长不得超过 5 个工作日');
    const noReason = await call('iss-a', 'POST', url(first.id, '/extension'), { days: 2 });
    expect(noReason.statusCode).toBe(400);
    expect(JSON.stringify(noReason.json().errors)).toContain('/body/reason');
    expect(
      (await call('office', 'POST', url(first.id, '/extension'), { days: 2, reason: '代为申请' })).statusCode,
    ).toBe(403);

    const requested = await ok('iss-a', 'POST', url(first.id, '/extension'), {
      days: 3,
      reason: '需调取窗口录像并约谈当事人',
    });
    expect(requested.extension).toMatchObject({
      status: 'pending',
      days: 3,
      requestedBy: { id: 'stf-iss-a' },
    });
    const pending = await ok('office', 'GET', '/api/v1/complaints?extensionPending=true');
    expect(pending.items.map((c: Json) => c.id)).toContain(first.id);

    expect((await call('iss-a', 'POST', url(first.id, '/extension/approve'), {})).statusCode).toBe(403);
    const approved = await ok('office', 'POST', url(first.id, '/extension/approve'), { note: '同意' });
    expect(approved.extension).toMatchObject({
      status: 'approved',
      decidedBy: { id: 'stf-office' },
      note: '同意',
    });
    expect(approved.extensionUsed).toBe(true);
    expect(Date.parse(approved.dueAt)).toBeGreaterThan(Date.parse(first.dueAt) + 3 * DAY - 1);
    expect(approved.originalDueAt).toBe(first.dueAt);

    const again = await call('iss-a', 'POST', url(first.id, '/extension'), { days: 1, reason: '还需一天' });
    expect(again.statusCode).toBe(422);
    expect(again.json().detail).toContain('不能再次延期');
    const nothingToDecide = await call('office', 'POST', url(first.id, '/extension/deny'), {
      note: '不同意',
    });
    expect(nothingToDecide.statusCode).toBe(422);
    expect(nothingToDecide.json().detail).toBe('没有待审批的延期申请');
  });

  it('answer: the handling unit answers once; a closed complaint refuses further actions (422)', async () => {
    const answered = await ok('iss-a', 'POST', url(first.id, '/answer'), {
      text: '已核实并整改，窗口不再索要该证明，已电话告知投诉人',
    });
    expect(answered).toMatchObject({
      status: 'answered',
      answeredOnTime: true,
      answeredBy: { id: 'stf-iss-a', name: '郑伟' },
      overdue: false,
    });
    const twice = await call('iss-a', 'POST', url(first.id, '/answer'), { text: '再次答复' });
    expect(twice.statusCode).toBe(422);
    expect(twice.json().detail).toBe('该投诉已办结答复，不能重复答复');
    expect((await call('office', 'POST', url(first.id, '/assign'), { unitCode: 'ZB-MZ' })).statusCode).toBe(
      422,
    );
    const detail = await ok('office', 'GET', url(first.id));
    expect(detail.events.map((e: Json) => [e.type, e.actorId])).toEqual([
      ['accepted', 'stf-office'],
      ['assigned', 'stf-office'],
      ['extension_requested', 'stf-iss-a'],
      ['extension_approved', 'stf-office'],
      ['answered', 'stf-iss-a'],
    ]);
    const audited = await h.database.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.outcome, 'allowed'), like(auditLog.action, 'complaint.%')));
    expect(new Set(audited.map((a) => a.action))).toEqual(
      new Set([
        'complaint.accept',
        'complaint.list',
        'complaint.read',
        'complaint.assign',
        'complaint.extension.request',
        'complaint.extension.approve',
        'complaint.answer',
      ]),
    );
  });

  it('overdue: escalated to the office, found by the overdue filter, counted in the Art. 13 figures', async () => {
    const second = await ok(
      'office',
      'POST',
      '/api/v1/complaints',
      body({ channel: 'window', ticketNo: undefined }),
    );
    await ok('office', 'POST', url(second.id, '/assign'), { unitCode: 'ZB-GA' });
    // A denied request leaves the deadline as it was.
    await ok('iss-a', 'POST', url(second.id, '/extension'), { days: 2, reason: '需要更多时间' });
    const denied = await ok('office', 'POST', url(second.id, '/extension/deny'), {
      note: '事实清楚，不予延期',
    });
    expect(denied.extension).toMatchObject({ status: 'denied', note: '事实清楚，不予延期' });
    expect(denied.dueAt).toBe(second.dueAt);

    await env.sleep(Date.parse(second.dueAt) - Date.now() + 60_000);
    const escalated = await eventually(async () => {
      const [row] = await h.database.db.select().from(complaints).where(eq(complaints.id, second.id));
      expect(row?.escalatedAt).not.toBeNull();
      return row;
    });
    expect(escalated?.status).toBe('assigned');
    const officeNotice = await h.database.db
      .select()
      .from(notifications)
      .where(
        and(eq(notifications.recipientStaffId, 'stf-office'), eq(notifications.kind, 'complaint_overdue')),
      );
    expect(officeNotice.map((x) => x.eventKey)).toContain(`complaint:${second.id}:5:escalated`);

    // The supervisor's message centre shows it with its title, in Beijing time.
    const inbox = await ok('office', 'GET', '/api/v1/notifications');
    const shown = inbox.items.find((x: Json) => x.id === `complaint:${second.id}:5:escalated:stf-office`);
    expect(shown).toMatchObject({ title: '投诉逾期督办', caseId: null });
    expect(shown.message).toMatch(/已超过办结期限（\d{4}年\d{1,2}月\d{1,2}日 17:30）仍未答复/);
    const overdue = await ok('office', 'GET', '/api/v1/complaints?overdue=true&unit=ZB-GA');
    expect(overdue.items.map((c: Json) => c.id)).toEqual([second.id]);
    expect(overdue.items[0]).toMatchObject({
      escalated: true,
      overdue: true,
      complainantPhone: '138****8000',
    });
    const answeredList = await ok('office', 'GET', '/api/v1/complaints?status=answered');
    expect(answeredList.items.map((c: Json) => c.id)).toEqual([first.id]);
    const paged = await ok('office', 'GET', '/api/v1/complaints?limit=1');
    expect(paged.items.map((c: Json) => c.id)).toEqual([second.id]);
    const next = await ok('office', 'GET', `/api/v1/complaints?limit=1&cursor=${paged.nextCursor}`);
    expect(next.items.map((c: Json) => c.id)).toEqual([first.id]);

    const late = await ok('iss-a-lia', 'POST', url(second.id, '/answer'), { text: '逾期办结，已告知投诉人' });
    expect(late).toMatchObject({ answeredOnTime: false, overdue: true });

    const stats = await ok('office', 'GET', '/api/v1/stats/units');
    expect(stats.complaints).toEqual([
      {
        unitId: 'ZB-GA',
        unitName: '淄博市公安局',
        received: 2,
        answeredOnTime: 1,
        answeredLate: 1,
        overdue: 1,
        escalated: 1,
      },
    ]);
  });
});
