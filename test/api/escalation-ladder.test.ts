/**
 * The Art. 11 ladder through the API and the real case workflow on the time-skipping test server: cases
 * sent and registered through the API miss their deadline when the clock is moved on, and escalate. Then
 * the office investigates (组织调查), judges the level (raise to 2 because of harm / hold at 1), asks the
 * city government to interview (约谈) the responsible leaders and follows the request up, orders a deadline
 * that is missed again (kept visible on the level-1 record, level 2 opens), and closes the whole ladder in
 * one action. Who was responsible when the deadline was missed is stored on the escalation; the issuing
 * unit's leaders get one notice each at level 2. The city government's reviewer reads the list and the
 * records and nothing else. Refusals: wrong role 403 (audited), bad input 400 naming the field, rule
 * violations 422.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationRow } from '../../activities/case-activities.ts';
import { createLocalLiveEvents, type LiveEvent } from '../../api/services/live-events.ts';
import { attachments, auditLog, escalations, notifications } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';

/**
 * One time-skipping server per database target: the cases' deadlines are worked out on the API's clock, so
 * a server whose clock an earlier target's run has moved on would fire them at once (before registration).
 */
let env: TestWorkflowEnvironment;

const MINUTE = 60_000;
const BEIJING_TIME = /\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/;

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

/** A Beijing calendar date, `days` after the instant's. */
const beijingDate = (iso: string | Date, days = 0) =>
  new Date(new Date(iso).getTime() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);

describe.each(databaseTargets())('the Art. 11 escalation ladder through the API on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  let n = 0;
  const key = (what: string) => `ladder-${what}-${target.name}-${Date.now()}-${++n}`;
  /** The escalated cases, by name: case id, escalation id. */
  const esc: Record<string, { caseId: string; escId: string; docNumber: string }> = {};

  const call = (who: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: {
        authorization: auth[who] as string,
        ...(method === 'POST' ? { 'idempotency-key': key('k') } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
  const ok = async (who: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) => {
    const res = await call(who, method, url, payload);
    expect(res.statusCode, `${who} ${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as Json;
  };
  const detail = (id: string, who = 'office') =>
    ok(who, 'GET', `/api/v1/escalations/${encodeURIComponent(id)}`);
  const escUrl = (id: string, tail: string) => `/api/v1/escalations/${encodeURIComponent(id)}/${tail}`;
  const rowsOf = (caseId: string) =>
    h.database.db.select().from(escalations).where(eq(escalations.caseId, caseId)).orderBy(escalations.id);
  const notificationsOf = (caseId: string, kind: string) =>
    h.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.caseId, caseId), eq(notifications.kind, kind)));

  /** What the live stream and the delivery channel (a webhook in the system) were given. */
  const streamed: Extract<LiveEvent, { type: 'notification' }>[] = [];
  const delivered: NotificationRow[] = [];

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    const events = createLocalLiveEvents();
    events.subscribe((e) => {
      if (e.type === 'notification') streamed.push(e);
    });
    h = await createApiHarness(env, target, {
      events,
      notifier: { deliver: async (rows) => void delivered.push(...rows) },
    });
    for (const who of ['req-a', 'iss-a', 'iss-a-lia', 'iss-a2', 'iss-b', 'office', 'admin', 'gov-review'])
      auth[who] = await h.login(who);

    // The administrator names the public security bureau's leaders (a staff flag); nobody else may.
    for (const id of ['stf-iss-a-lia', 'stf-iss-a2']) {
      const set = await ok('admin', 'PATCH', `/api/v1/admin/staff/${id}`, { isLeader: true });
      expect(set.staff.isLeader).toBe(true);
    }
    expect(
      (await call('office', 'PATCH', '/api/v1/admin/staff/stf-iss-a', { isLeader: true })).statusCode,
    ).toBe(403);

    // Cases sent and registered now (the API's clock), before the test server's clock moves on.
    const send = async (name: string, body: Record<string, unknown>, registrar: string) => {
      const res = await call('req-a', 'POST', '/api/v1/verifications', startBody(body));
      expect(res.statusCode, res.body).toBe(201);
      const c = res.json() as { id: string; docNumber: string; dueAt: string };
      await ok(registrar, 'POST', `/api/v1/verifications/${c.id}/register`, {});
      return { name, ...c };
    };
    const sent = [
      await send('raised', {}, 'iss-a'),
      await send('held', {}, 'iss-a'),
      await send('ordered', {}, 'iss-a'),
      await send('mechanical', {}, 'iss-a'),
      await send('mz', { catalogCode: 'HY-003', fields: { declaredStatus: '已婚' } }, 'iss-b'),
    ];
    // Past every deadline: each case escalates (level 1) in the workflow, and the projection writes it.
    const latest = Math.max(...sent.map((c) => Date.parse(c.dueAt)));
    await env.sleep(latest - (await env.currentTimeMs()) + MINUTE);
    for (const c of sent) {
      const [row] = await eventually(async () => {
        const rows = await rowsOf(c.id);
        if (!rows.length) throw new Error(`${c.name} did not escalate`);
        return rows;
      });
      esc[c.name] = { caseId: c.id, escId: (row as { id: string }).id, docNumber: c.docNumber };
    }
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await env?.teardown();
  });

  it('stores who was responsible when the deadline was missed: the assignee and the liaison on duty', async () => {
    const { escalation } = await detail(esc.raised?.escId as string);
    expect(escalation).toMatchObject({
      level: 1,
      effectiveLevel: 1,
      status: 'open',
      issuingUnit: 'ZB-GA',
      responsible: {
        assignee: { id: 'stf-iss-a', name: '郑伟' },
        liaisons: [{ id: 'stf-iss-a-lia', name: '陈静' }],
        backupActing: false,
      },
    });
    expect(escalation.responsible.at).toBe(escalation.openedAt);
    const mz = await detail(esc.mz?.escId as string);
    expect(mz.escalation.responsible).toMatchObject({
      assignee: { id: 'stf-iss-b', name: '褚亮' },
      liaisons: [{ id: 'stf-iss-b-lia', name: '蒋涛' }],
    });
  });

  it('records an investigation: who, findings and documents (a reference, or an attachment of the case)', async () => {
    const { escId, caseId } = esc.raised as { escId: string; caseId: string };
    await h.database.db.insert(attachments).values({
      id: `att-ladder-${target.name}`,
      fileName: '调查笔录.pdf',
      mediaType: 'application/pdf',
      sizeBytes: 4,
      sha256: '0'.repeat(64),
      content: Buffer.from('%PDF'),
      uploadedBy: 'stf-iss-a',
      uploaderUnit: 'ZB-GA',
      caseId,
    });
    const body = {
      investigators: [{ name: '韩梅', post: '联席会议办公室督办科' }, { name: '王磊' }],
      findings: '经调查，承办人未及时查询户籍档案，联络员未跟踪督促。',
      documents: [
        { title: '调查报告', reference: '淄联办〔2026〕12号' },
        { title: '调查笔录', attachmentId: `att-ladder-${target.name}` },
      ],
    };
    const created = await call('office', 'POST', escUrl(escId, 'investigations'), body);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ ...body, recordedBy: 'stf-office', recordedByName: '韩梅' });

    const d = await detail(escId);
    expect(d.investigations).toHaveLength(1);
    expect(d.investigations[0]).toMatchObject(body);

    // Refusals: each document needs one of the two; an attachment must be this case's.
    const neither = await call('office', 'POST', escUrl(escId, 'investigations'), {
      ...body,
      documents: [{ title: '调查报告' }],
    });
    expect(neither.statusCode).toBe(422);
    expect(neither.json().errors[0].pointer).toBe('/body/documents/0');
    const foreign = await call('office', 'POST', escUrl(escId, 'investigations'), {
      ...body,
      documents: [
        { title: '他案附件', reference: 'x' },
        { title: '他案附件', attachmentId: 'att-nosuch' },
      ],
    });
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().errors[0].pointer).toBe('/body/documents/1/attachmentId');
    // Bad input: 400 naming the field.
    const noFindings = await call('office', 'POST', escUrl(escId, 'investigations'), {
      investigators: [{ name: '韩梅' }],
    });
    expect(noFindings.statusCode).toBe(400);
    expect(JSON.stringify(noFindings.json().errors)).toContain('/body/findings');
    const nobody = await call('office', 'POST', escUrl(escId, 'investigations'), {
      ...body,
      investigators: [],
    });
    expect(nobody.statusCode).toBe(400);
    expect(JSON.stringify(nobody.json().errors)).toContain('/body/investigators');
    expect((await detail(escId)).investigations).toHaveLength(1);
  });

  it('raises to level 2 for harm with a reason: recorded with person and time, one notice per leader', async () => {
    const { escId, caseId, docNumber } = esc.raised as { escId: string; caseId: string; docNumber: string };
    // Before level 2, no interview request.
    const early = await call('office', 'POST', escUrl(escId, 'interview-requests'), {
      requestedOn: '2026-12-01',
      persons: [{ name: '张局长', post: '淄博市公安局副局长' }],
      reason: '造成不良影响',
    });
    expect(early.statusCode).toBe(422);

    const before = Date.now();
    const raised = await ok('office', 'POST', escUrl(escId, 'raise'), {
      reason: '申请人因证明延误未能按期办理社保，媒体报道，造成不良影响',
    });
    expect(raised).toMatchObject({ level: 1, effectiveLevel: 2, judgedLevel: 2, status: 'open' });
    expect(Date.parse(raised.judgedAt)).toBeGreaterThanOrEqual(before - 1000);
    const d = await detail(escId);
    expect(d.judgements).toEqual([
      expect.objectContaining({
        decision: 'raise',
        reason: '申请人因证明延误未能按期办理社保，媒体报道，造成不良影响',
        recordedBy: 'stf-office',
        recordedByName: '韩梅',
      }),
    ]);
    const [row] = await rowsOf(caseId);
    expect(row).toMatchObject({ judgedLevel: 2, judgedBy: 'stf-office', level: 1 });

    // The issuing unit's two leaders: one notice each, in Chinese with Beijing times.
    const notices = await notificationsOf(caseId, 'escalation_level2_leader');
    expect(notices.map((x) => x.recipientStaffId).sort()).toEqual(['stf-iss-a-lia', 'stf-iss-a2']);
    for (const x of notices) {
      expect(x.message).toContain(docNumber);
      expect(x.message).toContain('第二级督办');
      expect(x.message).toMatch(BEIJING_TIME);
    }
    const inbox = await ok('iss-a-lia', 'GET', '/api/v1/notifications');
    expect(
      inbox.items.filter((i: Json) => i.kind === 'escalation_level2_leader' && i.caseId === caseId),
    ).toHaveLength(1);
    // The agent who is not a leader gets none.
    const agent = await ok('iss-a', 'GET', '/api/v1/notifications');
    expect(agent.items.some((i: Json) => i.kind === 'escalation_level2_leader')).toBe(false);
    // Delivered as the worker delivers a case's notices: live to the leaders' open pages, then the channel.
    const sent = (list: { id: string }[]) =>
      list
        .filter((x) => notices.some((n) => n.id === x.id))
        .map((x) => x.id)
        .sort();
    expect(sent(streamed)).toEqual(notices.map((x) => x.id).sort());
    expect(sent(delivered)).toEqual(notices.map((x) => x.id).sort());

    // Rules: raised once; no hold after a raise.
    expect((await call('office', 'POST', escUrl(escId, 'raise'), { reason: '再次提级' })).statusCode).toBe(
      422,
    );
    const hold = await call('office', 'POST', escUrl(escId, 'hold'), { reason: '影响有限' });
    expect(hold.statusCode).toBe(422);
    expect(hold.json().detail).toContain('已认定提级');
    expect(await notificationsOf(caseId, 'escalation_level2_leader')).toHaveLength(2);

    // The list filters on the level the office deals with.
    const level2 = await ok('office', 'GET', '/api/v1/escalations?level=2&status=all');
    expect(level2.items.map((i: Json) => i.id)).toContain(escId);
    const level1 = await ok('office', 'GET', '/api/v1/escalations?level=1&status=all&limit=200');
    expect(level1.items.map((i: Json) => i.id)).not.toContain(escId);

    const audit = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, caseId), eq(auditLog.action, 'escalation.raise')))
      .orderBy(auditLog.id);
    expect(audit.map((a) => [a.actorId, a.outcome])).toEqual([
      ['stf-office', 'allowed'],
      ['stf-office', 'denied'],
    ]);
  });

  it('records the interview request (date, persons, posts, reason) and its follow-ups with the outcome', async () => {
    const { escId } = esc.raised as { escId: string };
    const request = {
      requestedOn: beijingDate(new Date()),
      persons: [
        { name: '张立', post: '淄博市公安局副局长' },
        { name: '陈静', post: '户政科科长（联络员）' },
      ],
      reason: '逾期未反馈并造成不良影响，提请市政府约谈分管负责人',
    };
    const created = await call('office', 'POST', escUrl(escId, 'interview-requests'), request);
    expect(created.statusCode, created.body).toBe(201);
    const rid = created.json().id as string;
    expect(created.json()).toMatchObject({ ...request, outcome: null, followUps: [] });

    await ok('office', 'POST', escUrl(escId, `interview-requests/${rid}/follow-ups`), {
      date: beijingDate(new Date(), 1),
      note: '市政府办公室已受理，拟于下周约谈',
      outcome: 'scheduled',
    });
    await ok('office', 'POST', escUrl(escId, `interview-requests/${rid}/follow-ups`), {
      date: beijingDate(new Date(), 8),
      note: '市政府分管副市长已约谈张立、陈静，责令整改',
      outcome: 'interviewed',
    });
    const d = await detail(escId);
    expect(d.interviewRequests).toHaveLength(1);
    expect(d.interviewRequests[0]).toMatchObject({
      ...request,
      outcome: 'interviewed',
      followUps: [
        { outcome: 'scheduled', note: '市政府办公室已受理，拟于下周约谈' },
        { outcome: 'interviewed', recordedByName: '韩梅' },
      ],
    });

    // Bad input names the field; a follow-up of a request that is not this escalation's is a 404.
    const noPersons = await call('office', 'POST', escUrl(escId, 'interview-requests'), {
      ...request,
      persons: [],
    });
    expect(noPersons.statusCode).toBe(400);
    expect(JSON.stringify(noPersons.json().errors)).toContain('/body/persons');
    const badDate = await call('office', 'POST', escUrl(escId, 'interview-requests'), {
      ...request,
      requestedOn: '2026-02-30',
    });
    expect(badDate.statusCode).toBe(400);
    expect(JSON.stringify(badDate.json().errors)).toContain('/body/requestedOn');
    const noPost = await call('office', 'POST', escUrl(escId, 'interview-requests'), {
      ...request,
      persons: [{ name: '张立' }],
    });
    expect(noPost.statusCode).toBe(400);
    expect(JSON.stringify(noPost.json().errors)).toContain('/body/persons/0');
    const elsewhere = await call(
      'office',
      'POST',
      escUrl(esc.held?.escId as string, `interview-requests/${rid}/follow-ups`),
      { date: '2026-12-01', note: '跟进' },
    );
    expect(elsewhere.statusCode).toBe(404);
  });

  it('holds an escalation at level 1 with a reason; it stays level 1 and no leader is told', async () => {
    const { escId, caseId } = esc.held as { escId: string; caseId: string };
    const held = await ok('office', 'POST', escUrl(escId, 'hold'), { reason: '延误半日，申请人未受影响' });
    expect(held).toMatchObject({ level: 1, effectiveLevel: 1, judgedLevel: 1 });
    expect((await detail(escId)).judgements).toEqual([
      expect.objectContaining({
        decision: 'hold',
        reason: '延误半日，申请人未受影响',
        recordedBy: 'stf-office',
      }),
    ]);
    expect(await notificationsOf(caseId, 'escalation_level2_leader')).toHaveLength(0);
    // Held: not again, and no interview request at level 1.
    expect((await call('office', 'POST', escUrl(escId, 'hold'), { reason: '再次维持' })).statusCode).toBe(
      422,
    );
    const interview = await call('office', 'POST', escUrl(escId, 'interview-requests'), {
      requestedOn: '2026-12-01',
      persons: [{ name: '张立', post: '副局长' }],
      reason: '约谈',
    });
    expect(interview.statusCode).toBe(422);
    expect(interview.json().detail).toContain('第二级');
    // Bad input: a reason is required.
    const empty = await call('office', 'POST', escUrl(escId, 'raise'), { reason: '' });
    expect(empty.statusCode).toBe(400);
    expect(JSON.stringify(empty.json().errors)).toContain('/body/reason');
    // A hold may become a raise when harm comes to light; both judgements stay on record.
    const raised = await ok('office', 'POST', escUrl(escId, 'raise'), { reason: '申请人投诉，造成不良影响' });
    expect(raised).toMatchObject({ level: 1, effectiveLevel: 2, judgedLevel: 2 });
    expect((await detail(escId)).judgements.map((j: Json) => j.decision)).toEqual(['hold', 'raise']);
    expect(await notificationsOf(caseId, 'escalation_level2_leader')).toHaveLength(2);
  });

  it('a missed ordered deadline stays on the level-1 record; level 2 opens and each leader is told once', async () => {
    const { escId, caseId, docNumber } = esc.ordered as { escId: string; caseId: string; docNumber: string };
    const dueAt = new Date((await env.currentTimeMs()) + 2 * 3_600_000).toISOString();
    await ok('office', 'POST', escUrl(escId, 'order'), { dueAt, note: '请于两小时内办结' });
    await eventually(async () =>
      expect((await detail(escId)).escalation).toMatchObject({
        status: 'ordered',
        orderedDueAt: dueAt,
        missedOrders: [],
      }),
    );

    await env.sleep(Date.parse(dueAt) - (await env.currentTimeMs()) + MINUTE);
    const rows = await eventually(async () => {
      const r = await rowsOf(caseId);
      if (r.length < 2) throw new Error('no level 2 yet');
      return r;
    });
    expect(rows.map((r) => [r.level, r.status])).toEqual([
      [1, 'open'],
      [2, 'open'],
    ]);
    const level1 = (await detail(escId)).escalation;
    expect(level1.missedOrders).toEqual([{ dueAt, orderedAt: expect.any(String), note: '请于两小时内办结' }]);
    expect(level1.orderNote).toBe('请于两小时内办结');
    const level2 = (await detail(rows[1]?.id as string)).escalation;
    expect(level2).toMatchObject({ level: 2, effectiveLevel: 2, missedDueAt: dueAt, missedOrders: [] });
    expect(level2.responsible).toMatchObject({ assignee: { id: 'stf-iss-a' } });

    // The mechanical level 2: one notice per leader.
    const notices = await eventually(async () => {
      const x = await notificationsOf(caseId, 'escalation_level2_leader');
      if (x.length < 2) throw new Error('leaders not told yet');
      return x;
    });
    expect(notices.map((x) => x.recipientStaffId).sort()).toEqual(['stf-iss-a-lia', 'stf-iss-a2']);
    expect(notices[0]?.message).toContain(docNumber);
    expect(notices[0]?.message).toMatch(BEIJING_TIME);
    // Level 2 by the workflow already: the office need not raise it.
    expect(
      (await call('office', 'POST', escUrl(escId, 'raise'), { reason: '造成不良影响' })).statusCode,
    ).toBe(422);

    // A raised ladder whose order is then missed too: the leaders are not told a second time.
    const raised = esc.raised as { escId: string; caseId: string };
    const due2 = new Date((await env.currentTimeMs()) + 3_600_000).toISOString();
    await ok('office', 'POST', escUrl(raised.escId, 'order'), { dueAt: due2, note: '限一小时内办结' });
    await env.sleep(Date.parse(due2) - (await env.currentTimeMs()) + MINUTE);
    await eventually(async () => {
      if ((await rowsOf(raised.caseId)).length < 2) throw new Error('no level 2 yet');
    });
    expect(await notificationsOf(raised.caseId, 'escalation_level2_leader')).toHaveLength(2);
  });

  it('closes the whole ladder in one action with one outcome', async () => {
    const { escId, caseId } = esc.ordered as { escId: string; caseId: string };
    // The case is answered late, then the office closes both levels at once.
    await ok('iss-a', 'POST', `/api/v1/verifications/${caseId}/respond`, {
      result: 'consistent',
      fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
    });
    const short = await call('office', 'POST', escUrl(escId, 'close'), { outcome: '' });
    expect(short.statusCode).toBe(400);
    expect(JSON.stringify(short.json().errors)).toContain('/body/outcome');
    await ok('office', 'POST', escUrl(escId, 'close'), { outcome: '已责成整改，约谈分管负责人并通报' });
    const rows = await eventually(async () => {
      const r = await rowsOf(caseId);
      if (r.some((x) => x.status !== 'closed')) throw new Error('not all closed yet');
      return r;
    });
    expect(rows.map((r) => [r.level, r.status, r.outcome, r.closedBy])).toEqual([
      [1, 'closed', '已责成整改，约谈分管负责人并通报', 'stf-office'],
      [2, 'closed', '已责成整改，约谈分管负责人并通报', 'stf-office'],
    ]);
    const audit = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, caseId), eq(auditLog.action, 'escalation.close')));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.detail).toMatchObject({ levels: [2, 1] });
    // A closed ladder takes no more records (the interview follow-up excepted).
    const late = await call('office', 'POST', escUrl(escId, 'investigations'), {
      investigators: [{ name: '韩梅' }],
      findings: '补充调查',
    });
    expect(late.statusCode).toBe(422);
    expect((await call('office', 'POST', escUrl(escId, 'close'), { outcome: '再次办结' })).statusCode).toBe(
      409,
    );
  });

  it('pages and filters the list by unit, level, status and Beijing period, without case content', async () => {
    const all = await ok('office', 'GET', '/api/v1/escalations?status=all&limit=200');
    const mine = Object.values(esc).map((e) => e.escId);
    const listed = all.items.filter((i: Json) => mine.includes(i.id));
    expect(listed.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(all)).not.toContain(VALID_ID);
    expect(JSON.stringify(all)).not.toContain('张三');

    // Paging: one at a time through the cursor gives the same rows in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await ok(
        'office',
        'GET',
        `/api/v1/escalations?status=all&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((i: Json) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.items.map((i: Json) => i.id));

    const mz = await ok('office', 'GET', '/api/v1/escalations?status=all&unit=ZB-MZ');
    expect(mz.items.map((i: Json) => i.id)).toEqual([esc.mz?.escId]);
    const closed = await ok('office', 'GET', '/api/v1/escalations?status=closed&limit=200');
    expect(closed.items.every((i: Json) => i.status === 'closed')).toBe(true);
    expect(closed.items.map((i: Json) => i.caseId)).toContain(esc.ordered?.caseId);

    const opened = (listed[0] as Json).openedAt as string;
    const day = beijingDate(opened);
    const sameDay = await ok(
      'office',
      'GET',
      `/api/v1/escalations?status=all&from=${day}&to=${day}&limit=200`,
    );
    expect(sameDay.items.map((i: Json) => i.id)).toContain(listed[0]?.id);
    expect(sameDay.items.every((i: Json) => beijingDate(i.openedAt) === day)).toBe(true);
    const before = await ok(
      'office',
      'GET',
      `/api/v1/escalations?status=all&to=${beijingDate(opened, -1)}&limit=200`,
    );
    expect(before.items.map((i: Json) => i.id)).not.toContain(listed[0]?.id);

    const badDate = await call('office', 'GET', '/api/v1/escalations?from=2026-13-01');
    expect(badDate.statusCode).toBe(400);
    expect(JSON.stringify(badDate.json().errors)).toContain('/querystring/from');
    const badCursor = await call('office', 'GET', '/api/v1/escalations?cursor=nonsense');
    expect(badCursor.statusCode).toBe(400);
    const reversed = await call('office', 'GET', '/api/v1/escalations?from=2026-12-02&to=2026-12-01');
    expect(reversed.statusCode).toBe(422);
    expect(reversed.json().errors[0].pointer).toBe('/querystring/to');
  });

  it("the city government's reviewer reads the escalations and records, never case content, and cannot act", async () => {
    const { escId, caseId } = esc.raised as { escId: string; caseId: string };
    const list = await ok('gov-review', 'GET', '/api/v1/escalations?status=all&limit=200');
    expect(list.items.map((i: Json) => i.id)).toContain(escId);
    const d = await detail(escId, 'gov-review');
    expect(d.interviewRequests).toHaveLength(1);
    expect(d.investigations).toHaveLength(1);
    expect(JSON.stringify(d)).not.toContain(VALID_ID);
    expect(JSON.stringify(d)).not.toContain('张三');
    expect((await ok('gov-review', 'GET', '/api/v1/auth/me')).role).toBe('reviewer');

    // Case content, case lists, the audit log, the codec ticket: refused before any handler runs.
    const refused: [string, 'GET' | 'POST', string, unknown?][] = [
      ['case', 'GET', `/api/v1/verifications/${caseId}?purpose=${encodeURIComponent('查阅督办')}`],
      ['escalated box', 'GET', '/api/v1/verifications?box=escalated'],
      ['outbox', 'GET', '/api/v1/verifications?box=outbox'],
      [
        'reveal',
        'POST',
        `/api/v1/verifications/${caseId}/reveal`,
        { field: 'idNumber', purpose: '核对身份' },
      ],
      ['attachment', 'GET', `/api/v1/attachments/att-ladder-${target.name}`],
      ['audit', 'GET', '/api/v1/audit'],
      ['staffing', 'GET', '/api/v1/admin/staffing-report'],
      ['codec ticket', 'POST', '/api/v1/codec/ticket'],
      ['start', 'POST', '/api/v1/verifications', startBody()],
    ];
    for (const [what, method, url, body] of refused) {
      const res = await call('gov-review', method, url, body);
      expect(res.statusCode, `${what}: ${res.body}`).toBe(403);
    }
    // Nor any office act.
    const acts: [string, unknown][] = [
      ['order', { dueAt: new Date(Date.now() + 3_600_000).toISOString(), note: '限时办结' }],
      ['close', { outcome: '办结' }],
      ['raise', { reason: '造成不良影响' }],
      ['hold', { reason: '影响有限' }],
      ['investigations', { investigators: [{ name: '刘洋' }], findings: '调查情况' }],
      [
        'interview-requests',
        { requestedOn: '2026-12-01', persons: [{ name: '张立', post: '副局长' }], reason: '约谈' },
      ],
    ];
    for (const [act, body] of acts) {
      const res = await call('gov-review', 'POST', escUrl(escId, act), body);
      expect(res.statusCode, `${act}: ${res.body}`).toBe(403);
    }
    const denied = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, 'stf-gov-review'), eq(auditLog.outcome, 'denied')));
    expect(denied.length).toBeGreaterThanOrEqual(refused.length + acts.length);
    expect(denied.map((a) => a.action)).toContain('access.denied');
    expect(await h.database.db.select().from(escalations).where(eq(escalations.id, escId))).toMatchObject([
      { status: 'open' },
    ]);
  });

  it('refuses the office acts to the case units and the administrator (403, audited)', async () => {
    const { escId, caseId } = esc.mz as { escId: string; caseId: string };
    for (const who of ['iss-b', 'req-a', 'admin']) {
      for (const [act, body] of [
        ['raise', { reason: '造成不良影响' }],
        ['investigations', { investigators: [{ name: '某人' }], findings: '调查情况' }],
      ] as const) {
        const res = await call(who, 'POST', escUrl(escId, act), body);
        expect(res.statusCode, `${who} ${act}`).toBe(403);
      }
      expect((await call(who, 'GET', '/api/v1/escalations')).statusCode).toBe(403);
      expect((await call(who, 'GET', `/api/v1/escalations/${encodeURIComponent(escId)}`)).statusCode).toBe(
        403,
      );
    }
    const denied = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, caseId), eq(auditLog.outcome, 'denied')));
    expect(denied.length).toBeGreaterThanOrEqual(6);
    expect((await rowsOf(caseId))[0]).toMatchObject({ judgedLevel: null });
  });
});
