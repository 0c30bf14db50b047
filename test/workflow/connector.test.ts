/**
 * The automatic answer (patch connector-auto-answer) on the time-skipping server, with the real case
 * activities on PGlite and a connector activity the test controls: a clear match answers the case as the
 * system acting for the issuing unit; no match, an error (5xx) or a timeout leave it to a person with the
 * reason; and when the connector and a person race, the case has exactly one answer.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorTimeout, connectorUnavailable } from '../../activities/connectors.ts';
import { notifications } from '../../db/schema.ts';
import type { ConnectorQueryInput, ConnectorQueryResult } from '../../workflows/activity-contract.ts';
import { registerUpdate, respondUpdate, snapshotQuery } from '../../workflows/definitions.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import { connectorInput, HASH, match, SOURCE, activitiesWith as withConnector } from './connector-support.ts';
import {
  caseRow,
  eventRows,
  eventually,
  finalResult,
  issuer,
  openCase,
  recordHistory,
  startOfTest,
  TestCalendar,
  withCaseWorker,
} from './support.ts';

let env: TestWorkflowEnvironment;
let database: TestDatabase;
beforeAll(async () => {
  const pglite = databaseTargets()[0];
  if (!pglite) throw new Error('no PGlite target');
  [env, database] = await Promise.all([createTimeSkippingEnv(), pglite.open()]);
});
afterAll(async () => {
  await env?.teardown();
  await database?.dispose();
});

const activitiesWith = (
  calendar: TestCalendar,
  query: (input: ConnectorQueryInput) => Promise<ConnectorQueryResult>,
) => withConnector(database.db, calendar, query);

describe('A case whose catalog item names a connector', () => {
  it('is answered by the system on a clear match: fields, source, query time, evidence hash, one answer', {
    timeout: 120_000,
  }, async () => {
    const calendar = new TestCalendar();
    const acts = activitiesWith(calendar, async () => match());
    await withCaseWorker(env, acts, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const input = connectorInput('auto', start);
      const { handle } = await openCase(env, taskQueue, input);
      const done = await finalResult(env, handle);
      expect(done.status).toBe('answered');
      expect(done.answer).toMatchObject({
        result: 'consistent',
        fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
        answeredBy: 'system:connector:hukou-test',
        late: false,
        automatic: { connector: 'hukou-test', source: SOURCE, evidenceHash: HASH },
      });
      expect(done.answer?.replyNumber).toMatch(/^淄公复〔\d{4}〕\d+号$/);
      expect(done.routing.registeredBy).toBe('system:connector:hukou-test');
      expect(done.autoCheck).toMatchObject({ connector: 'hukou-test', status: 'answered' });
      expect(acts.calls).toEqual([
        {
          caseId: input.caseId,
          connector: 'hukou-test',
          issuingUnit: 'ZB-GA',
          subject: input.subject,
          fields: input.fields,
        },
      ]);
      // The read model: answered by the system for ZB-GA; the requester is told where the answer came from.
      const events = await eventRows(database.db, input.caseId);
      expect(events.map((e) => [e.type, e.actorId, e.actorUnit])).toEqual([
        ['created', 'stf-req-a', 'ZB-RS'],
        ['answered', 'system:connector:hukou-test', 'ZB-GA'],
      ]);
      expect(events[1]?.data).toMatchObject({ automatic: true, source: SOURCE, evidenceHash: HASH });
      const row = await caseRow(database.db, input.caseId);
      expect(row.status).toBe('answered');
      expect(row.answer).toMatchObject({ automatic: { evidenceHash: HASH } });
      const told = await database.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.caseId, input.caseId), eq(notifications.kind, 'answered')));
      expect(told.map((n) => n.message)).toEqual(
        told.map(() => `协查已由系统自动核验反馈：一致（数据来源：${SOURCE}）`),
      );
      expect(told.length).toBeGreaterThan(0);
      await recordHistory(handle, 'connector-answered');
    });
  });

  it('goes to a person on no match, with the reason on the case; the person answers as usual', async () => {
    const calendar = new TestCalendar();
    const reason = '数据源中没有身份证号 1101**********002X 的记录';
    const acts = activitiesWith(calendar, async () => ({
      outcome: 'no_match',
      reason,
      source: SOURCE,
      queriedAt: new Date().toISOString(),
      evidenceHash: HASH,
    }));
    await withCaseWorker(env, acts, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const input = connectorInput('no-match', start);
      const { handle } = await openCase(env, taskQueue, input);
      const fell = await eventually(async () => {
        const s = await handle.query(snapshotQuery);
        expect(s.autoCheck?.status).toBe('fallback');
        return s;
      });
      expect(fell.status).toBe('awaiting_registration');
      expect(fell.autoCheck?.reason).toBe(reason);
      const events = await eventRows(database.db, input.caseId);
      expect(events.map((e) => [e.type, e.actorId, e.reason])).toEqual([
        ['created', 'stf-req-a', null],
        ['auto_check_fallback', 'system:connector:hukou-test', reason],
      ]);
      const told = await database.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.caseId, input.caseId), eq(notifications.kind, 'auto_check_fallback')));
      expect(told.length).toBeGreaterThan(0);
      expect(told[0]?.message).toContain(`自动核验未能答复，请人工办理：${reason}`);

      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'consistent', fields: { registeredAddress: '人民西路 1 号' } }],
      });
      expect(answered.answer).toMatchObject({ answeredBy: issuer.staffId });
      expect(answered.answer?.automatic).toBeUndefined();
      await recordHistory(handle, 'connector-fallback');
    });
  });

  it('goes to a person after a 5xx on every attempt (3 attempts), with the reason', async () => {
    const calendar = new TestCalendar();
    const acts = activitiesWith(calendar, async () => {
      throw connectorUnavailable('HTTP 503');
    });
    await withCaseWorker(env, acts, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const { handle } = await openCase(env, taskQueue, connectorInput('5xx', start));
      const fell = await eventually(async () => {
        const s = await handle.query(snapshotQuery);
        expect(s.autoCheck?.status).toBe('fallback');
        return s;
      }, 30_000);
      expect(fell.autoCheck?.reason).toBe('数据源服务异常（HTTP 503）');
      expect(fell.status).toBe('awaiting_registration');
      expect(acts.calls).toHaveLength(3);
    });
  });

  it('goes to a person when the source times out, and at once when it refuses the request (no retry)', {
    timeout: 180_000,
  }, async () => {
    const calendar = new TestCalendar();
    let refused = false;
    const acts = activitiesWith(calendar, async () => {
      if (refused)
        throw ApplicationFailure.create({
          type: 'ConnectorRefused',
          message: '数据源拒绝了查询（HTTP 401：bad_signature）',
          nonRetryable: true,
        });
      throw connectorTimeout(5000);
    });
    await withCaseWorker(env, acts, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const { handle } = await openCase(env, taskQueue, connectorInput('timeout', start));
      const fell = await eventually(async () => {
        const s = await handle.query(snapshotQuery);
        expect(s.autoCheck?.status).toBe('fallback');
        return s;
      }, 30_000);
      expect(fell.autoCheck?.reason).toBe('数据源查询超时（超过 5 秒未答复）');
      expect(acts.calls).toHaveLength(3);

      refused = true;
      acts.calls.length = 0;
      const second = await openCase(env, taskQueue, connectorInput('refused', start));
      const fellAgain = await eventually(async () => {
        const s = await second.handle.query(snapshotQuery);
        expect(s.autoCheck?.status).toBe('fallback');
        return s;
      }, 30_000);
      expect(fellAgain.autoCheck?.reason).toBe('数据源拒绝了查询（HTTP 401：bad_signature）');
      expect(acts.calls).toHaveLength(1);
    });
  });
});
