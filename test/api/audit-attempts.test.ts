/**
 * An action is audited before it reaches its workflow: when the Update succeeds but the API loses the
 * answer (a crash, a timeout), the `attempted` row still says who did what to which case, and the
 * outcome row (`error` here) names it. Real dev server and database.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('audited attempts on $name', (target) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness(env, target, {
      // The Update is applied, then the answer is lost on the way back.
      wrapGateway: (gateway) => ({
        ...gateway,
        start: (...args) => gateway.start(...args),
        act: async (...args) => {
          await gateway.act(...args);
          throw new Error('connection lost after the Update was applied');
        },
      }),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('leaves an attributable `attempted` row when the Update succeeded and the API failed after it', async () => {
    const req = await h.login('req-a');
    const iss = await h.login('iss-a');
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: req, 'idempotency-key': `${target.name}-attempt-0001` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const caseId = started.json().id;
    const register = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${caseId}/register`,
      headers: { authorization: iss },
      payload: {},
    });
    expect(register.statusCode).toBe(500);

    const rows = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, caseId), eq(auditLog.action, 'case.register')))
      .orderBy(auditLog.id);
    expect(rows.map((r) => `${r.actorId}:${r.outcome}`)).toEqual(['stf-iss-a:attempted', 'stf-iss-a:error']);
    expect(rows[1]?.detail).toMatchObject({ attemptId: rows[0]?.id });
    // The case was registered all the same: the attempt is what the log shows for it.
    const detail = await h.app.inject({
      url: `/api/v1/verifications/${caseId}`,
      headers: { authorization: iss },
    });
    expect(detail.json().case.status).toBe('registered');

    const starts = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, caseId), eq(auditLog.action, 'case.start')))
      .orderBy(auditLog.id);
    expect(starts.map((r) => r.outcome)).toEqual(['attempted', 'allowed']);
    expect(starts[1]?.detail).toMatchObject({ attemptId: starts[0]?.id });
  });
});
