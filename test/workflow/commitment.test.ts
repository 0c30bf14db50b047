/**
 * 告知承诺 (seed 004) on the time-skipping server, through the API and the real workflows: the check's
 * verification case starts when the check is due (the opening of the COMMITMENT_CHECK_WORKING_DAYS-th working
 * day after the commitment was recorded) and not before; a consistent answer fulfils the commitment; an
 * inconsistent one waits for the requesting unit, whose written "false" writes a credit record that bars the
 * subject; a new commitment of a barred subject is refused (422, naming until when in Beijing time).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { cases, commitments, creditRecords } from '../../db/schema.ts';
import { officeIntervals, shanghaiInstant, workingDaysAfter } from '../../domain/working-time/index.ts';
import { commitmentCaseId } from '../../workflows/commitment-definitions.ts';
import { type ApiHarness, createApiHarness, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import { residentId } from '../web/browser.ts';
import { recordHistory } from './support.ts';

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read loosely in assertions
type Json = any;
const MINUTE = 60_000;
const DAY = 86_400_000;

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

describe('告知承诺: the after-the-fact check', () => {
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
        ...(method === 'POST' ? { 'idempotency-key': `commitment-wf-${process.pid}-${++n}` } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
  const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await call(who, method, url, payload);
    expect(res.statusCode, `${who} ${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as Json;
  };
  const commitmentBody = (idNumber: string, name: string, applicationNumber: string) => ({
    subject: { kind: 'person', name, idNumber },
    catalogCode: 'HJ-001',
    promise: '本人承诺户籍登记地址为淄博市张店区人民西路 1 号，如有不实愿承担法律责任',
    applicationNumber,
    serviceName: '社会保险参保登记',
    signedAt: new Date(Date.now() - 10 * MINUTE).toISOString(),
    fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
  });
  const rowOf = async (id: string) =>
    (await h.database.db.select().from(commitments).where(eq(commitments.id, id)))[0];
  const statusBecomes = (id: string, status: string) =>
    eventually(async () => {
      const row = await rowOf(id);
      if (row?.status !== status) throw new Error(`${id} is ${row?.status}, not ${status}`);
      return row;
    });

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    h = await createApiHarness(env, target as NonNullable<typeof target>);
    for (const who of ['req-a', 'iss-a', 'office']) auth[who] = await h.login(who);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await env?.teardown();
  });

  it('starts the check at its due time; consistent → fulfilled; inconsistent + false → credit record and bar', async () => {
    const honest = await ok(
      'req-a',
      'POST',
      '/api/v1/commitments',
      commitmentBody(VALID_ID, '张三', 'SB-0001'),
    );
    const falseId = residentId('37030219800101123');
    const liar = await ok('req-a', 'POST', '/api/v1/commitments', commitmentBody(falseId, '李四', 'SB-0002'));
    expect(honest.status).toBe('scheduled');
    expect(honest.subject).toBe('张*（1101**********002X）');

    // Due at the opening of the 10th working day after recording (the city's calendar).
    const { data } = await createCalendarSource(h.database.db).current();
    const day = workingDaysAfter(new Date(honest.recordedAt), 10, data);
    const expectedDue = shanghaiInstant(day.date, officeIntervals(data, day.date)[0]?.[0] ?? 540);
    expect(honest.checkDueAt).toBe(expectedDue.toISOString());
    expect(Date.parse(honest.checkDueAt) - Date.parse(honest.recordedAt)).toBeGreaterThan(10 * DAY);

    // A minute before: no case yet.
    const caseOf = (id: string) =>
      h.database.db
        .select()
        .from(cases)
        .where(eq(cases.id, commitmentCaseId(id)));
    await env.sleep(Date.parse(honest.checkDueAt) - (await env.currentTimeMs()) - MINUTE);
    await new Promise((r) => setTimeout(r, 500));
    expect(await caseOf(honest.id)).toHaveLength(0);
    expect((await rowOf(honest.id))?.status).toBe('scheduled');

    // At the due time both checks start: verification cases to the issuing unit, linked to the commitments.
    await env.sleep(2 * MINUTE);
    const honestCase = await eventually(async () => {
      const [c] = await caseOf(honest.id);
      if (!c) throw new Error('no check case yet');
      return c;
    });
    expect(honestCase.createdAt.getTime()).toBeGreaterThanOrEqual(Date.parse(honest.checkDueAt));
    expect(honestCase.issuingUnit).toBe('ZB-GA');
    expect(honestCase.requestingUnit).toBe('ZB-RS');
    expect(honestCase.purpose).toContain('告知承诺事后核查');
    expect(honestCase.applicationNumber).toBe('SB-0001');
    const checking = await statusBecomes(honest.id, 'checking');
    expect(checking.caseId).toBe(honestCase.id);
    expect(checking.caseDocNumber).toBe(honestCase.docNumber);
    const liarCase = await eventually(async () => {
      const [c] = await caseOf(liar.id);
      if (!c) throw new Error('no check case yet');
      return c;
    });

    // The issuing unit answers: consistent for one, inconsistent for the other.
    for (const [c, result] of [
      [honestCase, 'consistent'],
      [liarCase, 'inconsistent'],
    ] as const) {
      await ok('iss-a', 'POST', `/api/v1/verifications/${c.id}/register`, {});
      await ok('iss-a', 'POST', `/api/v1/verifications/${c.id}/respond`, {
        result,
        fields: { registeredAddress: result === 'consistent' ? '淄博市张店区人民西路 1 号' : '济南市历下区' },
      });
    }
    const fulfilled = await statusBecomes(honest.id, 'fulfilled');
    expect(fulfilled.checkOutcome).toBe('consistent');
    expect(fulfilled.checkNote).toContain('反馈结果：一致');
    expect(fulfilled.decision).toBeNull();

    const waiting = await statusBecomes(liar.id, 'awaiting_confirmation');
    expect(waiting.checkOutcome).toBe('inconsistent');
    expect(waiting.checkNote).toContain('反馈结果：不一致');
    expect(waiting.checkNote).toContain('登记的户籍地址：济南市历下区');
    expect(
      await h.database.db.select().from(creditRecords).where(eq(creditRecords.commitmentId, liar.id)),
    ).toEqual([]);

    // The requesting unit confirms in writing that the commitment was false.
    const confirmed = await ok('req-a', 'POST', `/api/v1/commitments/${liar.id}/confirm-false`, {
      reason: '经公安部门核查，户籍登记地址与承诺不符',
    });
    expect(confirmed.status).toBe('false');
    expect(confirmed.decision).toBe('false');
    expect(confirmed.decidedBy).toBe('stf-req-a');
    const [credit] = await h.database.db
      .select()
      .from(creditRecords)
      .where(eq(creditRecords.commitmentId, liar.id));
    expect(credit?.reason).toBe('经公安部门核查，户籍登记地址与承诺不符');
    expect(credit?.subjectMasked).toBe(liar.subject);
    expect(credit?.subjectIdHash).not.toContain(falseId);
    expect((credit?.barredUntil.getTime() ?? 0) - (credit?.recordedAt.getTime() ?? 0)).toBe(365 * DAY);

    // A new commitment of the barred subject is refused, naming until when (Beijing date); others go through.
    const refused = await call(
      'req-a',
      'POST',
      '/api/v1/commitments',
      commitmentBody(falseId, '李四', 'SB-0003'),
    );
    expect(refused.statusCode, refused.body).toBe(422);
    const until = new Date((credit?.barredUntil.getTime() ?? 0) + 8 * 3_600_000);
    expect(refused.json().detail).toContain(
      `${until.getUTCFullYear()}年${until.getUTCMonth() + 1}月${until.getUTCDate()}日前不适用告知承诺制`,
    );
    expect(refused.json().errors?.[0]?.pointer).toBe('/body/subject/idNumber');
    // Both checks have ended (their histories are kept for the replay test).
    for (const [c, name, status] of [
      [honest, 'commitment-fulfilled', 'fulfilled'],
      [liar, 'commitment-false', 'false'],
    ] as const) {
      const handle = env.client.workflow.getHandle(c.id);
      expect((await handle.result()).status).toBe(status);
      await recordHistory(handle, name);
    }
    const again = await call(
      'req-a',
      'POST',
      '/api/v1/commitments',
      commitmentBody(VALID_ID, '张三', 'SB-0004'),
    );
    expect(again.statusCode, again.body).toBe(201);
  }, 180_000);
});
