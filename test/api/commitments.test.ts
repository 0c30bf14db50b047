/**
 * 告知承诺 through the API (seed 004): validation (400 naming the field, 422 in Chinese), isolation (a unit sees its
 * own commitments and credit records, the office's supervisors every unit's; 403 audited; another unit's
 * commitment is a 404), the asked agency's refusal in writing (a returned check closed by the requester waits for
 * the unit's written decision), decisions only when a check asks for one, and the credit records' list, paging
 * and workbook (Chinese headers, Beijing time).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDIT_HEADERS } from '../../api/services/commitments.ts';
import { auditLog, commitments, notifications } from '../../db/schema.ts';
import { commitmentCaseId } from '../../workflows/commitment-definitions.ts';
import { type ApiHarness, createApiHarness, VALID_CREDIT_CODE, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import { residentId } from '../web/browser.ts';

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read loosely in assertions
type Json = any;
const MINUTE = 60_000;
const BEIJING_TIME = /^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/;

async function eventually<T>(probe: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
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

const [target] = databaseTargets();

describe('告知承诺 and 信用记录 through the API', () => {
  let env: TestWorkflowEnvironment;
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  let n = 0;
  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: {
        authorization: auth[who] as string,
        ...(method === 'POST' ? { 'idempotency-key': `commitment-api-${process.pid}-${++n}` } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
  const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await call(who, method, url, payload);
    expect(res.statusCode, `${who} ${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as Json;
  };
  const body = (overrides: Record<string, unknown> = {}) => ({
    subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
    catalogCode: 'HJ-001',
    promise: '本人承诺户籍登记地址属实',
    applicationNumber: 'SB-1001',
    serviceName: '社会保险参保登记',
    signedAt: new Date(Date.now() - MINUTE).toISOString(),
    fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
    ...overrides,
  });
  const statusBecomes = (id: string, status: string) =>
    eventually(async () => {
      const [row] = await h.database.db.select().from(commitments).where(eq(commitments.id, id));
      if (row?.status !== status) throw new Error(`${id} is ${row?.status}, not ${status}`);
      return row;
    });
  const denials = (actorId: string, action: string) =>
    h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, actorId), eq(auditLog.action, action), eq(auditLog.outcome, 'denied')));

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    h = await createApiHarness(env, target as NonNullable<typeof target>);
    for (const who of ['req-a', 'req-b', 'iss-a', 'office', 'admin']) auth[who] = await h.login(who);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await env?.teardown();
  });

  it('refuses bad input: 400 naming the field, 422 in Chinese', async () => {
    const { promise: _p, ...noPromise } = body();
    const missing = await call('req-a', 'POST', '/api/v1/commitments', noPromise);
    expect(missing.statusCode).toBe(400);
    expect(JSON.stringify(missing.json().errors)).toContain('/body/promise');

    const badDate = await call('req-a', 'POST', '/api/v1/commitments', body({ signedAt: '2026-13-01' }));
    expect(badDate.statusCode).toBe(400);
    expect(JSON.stringify(badDate.json().errors)).toContain('/body/signedAt');

    const badId = await call(
      'req-a',
      'POST',
      '/api/v1/commitments',
      body({ subject: { kind: 'person', name: '张三', idNumber: '110105194912310021' } }),
    );
    expect(badId.statusCode).toBe(422);
    expect(badId.json().detail).toBe('公民身份号码无效（校验位不符）');
    expect(badId.json().errors[0].pointer).toBe('/body/subject/idNumber');

    const company = await call(
      'req-a',
      'POST',
      '/api/v1/commitments',
      body({ subject: { kind: 'company', name: '淄博某某有限公司', idNumber: VALID_CREDIT_CODE } }),
    );
    expect(company.statusCode).toBe(422);
    expect(company.json().detail).toContain('承诺人只能是个人');

    const template = await call('req-a', 'POST', '/api/v1/commitments', body({ fields: {} }));
    expect(template.statusCode).toBe(422);
    expect(template.json().detail).toContain('不符合「');

    const future = await call(
      'req-a',
      'POST',
      '/api/v1/commitments',
      body({ signedAt: new Date(Date.now() + 86_400_000).toISOString() }),
    );
    expect(future.statusCode).toBe(422);
    expect(future.json().errors[0].pointer).toBe('/body/signedAt');
  });

  it('isolates units, lets the office see all, and audits every 403', async () => {
    const mine = await ok('req-a', 'POST', '/api/v1/commitments', body({ applicationNumber: 'SB-ISO-1' }));
    await ok('req-a', 'POST', '/api/v1/commitments', body({ applicationNumber: 'SB-ISO-3' }));
    const theirs = await ok(
      'req-b',
      'POST',
      '/api/v1/commitments',
      body({
        applicationNumber: 'SB-ISO-2',
        subject: { kind: 'person', name: '王五', idNumber: residentId('37030219900101456') },
      }),
    );
    expect(mine.subject).not.toContain(VALID_ID);
    expect(mine.checkDueAt).toMatch(/Z$/);

    const listA = await ok('req-a', 'GET', '/api/v1/commitments');
    expect(listA.items.map((c: Json) => c.id)).toContain(mine.id);
    expect(listA.items.map((c: Json) => c.id)).not.toContain(theirs.id);
    expect(JSON.stringify(listA)).not.toContain(VALID_ID);
    const otherUnit = await call('req-b', 'GET', `/api/v1/commitments/${mine.id}`);
    expect(otherUnit.statusCode).toBe(404);
    expect(await denials('stf-req-b', 'commitment.read')).toHaveLength(1);

    const office = await ok('office', 'GET', '/api/v1/commitments?limit=200');
    expect(office.items.map((c: Json) => c.id)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect((await ok('office', 'GET', `/api/v1/commitments/${theirs.id}`)).requestingUnitName).toBe(
      '淄博市市场监督管理局',
    );
    // Paging: one at a time, newest first, no repeats.
    const first = await ok('req-a', 'GET', '/api/v1/commitments?limit=1');
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBeTruthy();
    const second = await ok('req-a', 'GET', `/api/v1/commitments?limit=1&cursor=${first.nextCursor}`);
    expect(second.items[0]?.id).not.toBe(first.items[0].id);
    expect((await call('req-a', 'GET', '/api/v1/commitments?cursor=nonsense')).statusCode).toBe(400);
    expect((await call('req-a', 'GET', '/api/v1/commitments?status=unknown')).statusCode).toBe(400);

    // The office reads but does not record or decide; an administrator does neither (Art. 12).
    expect((await call('office', 'POST', '/api/v1/commitments', body())).statusCode).toBe(403);
    expect(await denials('stf-office', 'commitment.record')).toHaveLength(1);
    const decide = await call('office', 'POST', `/api/v1/commitments/${mine.id}/confirm-false`, {
      reason: '越权确认',
    });
    expect(decide.statusCode).toBe(403);
    expect(await denials('stf-office', 'commitment.confirm_false')).toHaveLength(1);
    for (const url of ['/api/v1/commitments', '/api/v1/credit-records', '/api/v1/credit-records/export.xlsx'])
      expect((await call('admin', 'GET', url)).statusCode).toBe(403);
    expect(await denials('stf-admin', 'commitments.list')).toHaveLength(1);
    expect(await denials('stf-admin', 'credit_records.export')).toHaveLength(1);

    // No decision before the check asks for one.
    const early = await call('req-a', 'POST', `/api/v1/commitments/${mine.id}/confirm-true`, {
      reason: '提前确认',
    });
    expect(early.statusCode).toBe(409);
    const noReason = await call('req-a', 'POST', `/api/v1/commitments/${mine.id}/confirm-true`, {
      reason: ' ',
    });
    expect(noReason.statusCode).toBe(400);
  });

  it('records a refusal in writing, a decision true, a false one, and exports the credit records', async () => {
    const returned = await ok(
      'req-a',
      'POST',
      '/api/v1/commitments',
      body({ applicationNumber: 'SB-RET-1' }),
    );
    const falseSubject = residentId('37030219851212789');
    const lying = await ok(
      'req-a',
      'POST',
      '/api/v1/commitments',
      body({
        applicationNumber: 'SB-FALSE-1',
        subject: { kind: 'person', name: '赵六', idNumber: falseSubject },
      }),
    );
    await env.sleep(
      Math.max(Date.parse(lying.checkDueAt), Date.parse(returned.checkDueAt)) -
        (await env.currentTimeMs()) +
        MINUTE,
    );
    for (const c of [returned, lying]) await statusBecomes(c.id, 'checking');

    // The asked agency returns the check with its reason; the requester closes it → the unit must decide.
    const retCase = commitmentCaseId(returned.id);
    await ok('iss-a', 'POST', `/api/v1/verifications/${retCase}/return`, {
      reason: '该户籍档案已迁出本市，非本单位职责',
    });
    await ok('req-a', 'POST', `/api/v1/verifications/${retCase}/close`, {
      reason: '被请求单位书面说明无法协助',
    });
    const waiting = await statusBecomes(returned.id, 'awaiting_confirmation');
    expect(waiting.checkOutcome).toBe('closed_after_return');
    const told = await h.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.recipientUnit, 'ZB-RS'), eq(notifications.kind, 'commitment_check')));
    expect(told.map((x) => x.caseId)).toContain(retCase);
    expect(told.find((x) => x.caseId === retCase)?.message).toContain('请在「告知承诺」中书面确认');
    expect(waiting.checkNote).toContain('退回理由（ZB-GA）：该户籍档案已迁出本市，非本单位职责');
    const detail = await ok('req-a', 'GET', `/api/v1/commitments/${returned.id}`);
    expect(detail.statusLabel).toBe('待确认核查结论');
    expect(detail.caseId).toBe(retCase);
    const held = await ok('req-a', 'POST', `/api/v1/commitments/${returned.id}/confirm-true`, {
      reason: '申请人补充提交了迁出证明，承诺属实',
    });
    expect(held.status).toBe('fulfilled');
    expect(held.decision).toBe('true');

    const lyingCase = commitmentCaseId(lying.id);
    await ok('iss-a', 'POST', `/api/v1/verifications/${lyingCase}/register`, {});
    await ok('iss-a', 'POST', `/api/v1/verifications/${lyingCase}/respond`, {
      result: 'inconsistent',
      fields: { registeredAddress: '青岛市市南区' },
    });
    await statusBecomes(lying.id, 'awaiting_confirmation');
    const others = await call('req-b', 'POST', `/api/v1/commitments/${lying.id}/confirm-false`, {
      reason: '他人确认',
    });
    expect(others.statusCode).toBe(404);
    await ok('req-a', 'POST', `/api/v1/commitments/${lying.id}/confirm-false`, {
      reason: '户籍登记地址与承诺不符',
    });
    const twice = await call('req-a', 'POST', `/api/v1/commitments/${lying.id}/confirm-false`, {
      reason: '再次确认',
    });
    expect(twice.statusCode).toBe(409);

    const credits = await ok('req-a', 'GET', '/api/v1/credit-records');
    expect(credits.items).toHaveLength(1);
    expect(credits.items[0]).toMatchObject({
      commitmentId: lying.id,
      subject: `赵*（3703**********${falseSubject.slice(-4)}）`,
      reason: '户籍登记地址与承诺不符',
      barred: true,
      recordedByName: '王芳',
    });
    expect((await ok('req-b', 'GET', '/api/v1/credit-records')).items).toHaveLength(0);
    expect((await ok('office', 'GET', '/api/v1/credit-records')).items).toHaveLength(1);

    // Barred: any unit's new commitment for this subject is refused.
    const barred = await call(
      'req-b',
      'POST',
      '/api/v1/commitments',
      body({ subject: { kind: 'person', name: '赵六', idNumber: falseSubject } }),
    );
    expect(barred.statusCode).toBe(422);
    expect(barred.json().detail).toMatch(/\d{4}年\d{1,2}月\d{1,2}日前不适用告知承诺制/);

    const xlsx = await call('office', 'GET', '/api/v1/credit-records/export.xlsx');
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.headers['content-disposition']).toContain(encodeURIComponent('信用记录'));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('信用记录');
    expect(ws?.getRow(1).values).toEqual([undefined, ...CREDIT_HEADERS]);
    const row = ws?.getRow(2).values as unknown[];
    expect(row[2]).toBe(credits.items[0].subject);
    expect(JSON.stringify(row)).not.toContain(falseSubject);
    expect(row[9]).toMatch(BEIJING_TIME);
    expect(row[10]).toMatch(BEIJING_TIME);
    expect(row[11]).toBe('限制中');
    const exports = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, 'stf-office'), eq(auditLog.action, 'credit_records.export')));
    expect(exports.map((e) => e.outcome)).toEqual(['allowed']);
  }, 120_000);
});
