/**
 * Every Update the API sends has a deadline (api/services/case-gateway.ts): when no worker answers — the
 * worker is down, or the case is busy in a retrying activity — the caller gets a 504 problem with a clear
 * Chinese message within the deadline, instead of a request that hangs. The audit row says the outcome is
 * unknown (`error`), not that the action was refused.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE_TIMEOUT, createCaseGateway } from '../../api/services/case-gateway.ts';
import { auditLog } from '../../db/schema.ts';
import { DEMO_PASSWORD } from '../../db/seed.ts';
import { registerUpdate } from '../../workflows/definitions.ts';
import { createApiHarness, startBody } from '../support/api.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal.ts';
import { issuer } from '../workflow/support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const [pglite] = databaseTargets();

describe('a deadline on every Update from the API', () => {
  it('an Update to a case no worker serves fails with a timeout problem after the deadline', async () => {
    const taskQueue = uniqueTaskQueue('no-worker');
    const caseId = `case-deadline-${process.pid}-${Date.now()}`;
    const handle = await env.client.workflow.start('verificationCase', {
      taskQueue,
      workflowId: caseId,
      args: [{ caseId }],
    });
    try {
      const gateway = createCaseGateway(env.client, taskQueue, { updateTimeoutMs: 1500 });
      const started = Date.now();
      const err = await gateway.act(caseId, registerUpdate, { actor: issuer }).catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(err).toMatchObject({ status: 504, code: CASE_TIMEOUT });
      expect((err as Error).message).toMatch(/规定时间内/);
      expect(waited).toBeGreaterThanOrEqual(1400);
      expect(waited).toBeLessThan(10_000);
    } finally {
      await handle.terminate('test finished');
    }
  });

  it('through HTTP: 504 application/problem+json, audited as an unknown outcome', async () => {
    if (!pglite) throw new Error('no database target');
    const database = await pglite.open();
    const taskQueue = uniqueTaskQueue('deadline');
    // The case is opened by a running system…
    const first = await createApiHarness(env, pglite, { database, taskQueue });
    const key = `deadline-${Date.now()}`;
    const started = await first.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: await first.login('req-a'), 'idempotency-key': key },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const caseId = started.json().id as string;
    await first.close();
    // …then its worker is gone: the API alone, with a short deadline for the test.
    const app = await buildAppWithoutTemporal(database, {
      gateway: createCaseGateway(env.client, taskQueue, { updateTimeoutMs: 1500 }),
    });
    try {
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'iss-a', password: DEMO_PASSWORD },
      });
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${caseId}/register`,
        headers: { authorization: `Bearer ${login.json().token}` },
        payload: {},
      });
      expect(res.statusCode, res.body).toBe(504);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 504, code: CASE_TIMEOUT, title: '处理超时' });
      expect(res.json().detail).toMatch(/操作可能尚未生效/);
      const rows = await database.db
        .select({ outcome: auditLog.outcome })
        .from(auditLog)
        .where(and(eq(auditLog.caseId, caseId), eq(auditLog.action, 'case.register')));
      expect(rows.map((r) => r.outcome)).toEqual(['attempted', 'error']);
    } finally {
      await app.close();
      await env.client.workflow
        .getHandle(caseId)
        .terminate('test finished')
        .catch(() => {});
      await database.dispose();
    }
  });
});
