/**
 * `npm run cases:reconcile` (api/services/reconcile.ts) against the real dev server, whose visibility
 * lists running workflows: a read-model row deleted by hand is rebuilt from its workflow (request
 * content included), a case whose workflow was terminated has its row closed as 已终止, a dry run
 * writes nothing, a second run finds nothing to do, and every repair is audited under the operator.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReconcileReport, reconcileCases } from '../../api/services/reconcile.ts';
import { auditLog, caseEvents, cases } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';
import { eventually } from '../workflow/support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('cases:reconcile on $name', (target) => {
  let h: ApiHarness;
  let reqA: string;
  let issA: string;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [reqA, issA] = await Promise.all([h.login('req-a'), h.login('iss-a')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const start = async (name: string): Promise<string> => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': `reconcile-${name}-${target.name}-${Date.now()}` },
      payload: startBody(),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  };
  const reconcile = (dryRun = false): Promise<ReconcileReport> =>
    reconcileCases(
      {
        db: h.database.db,
        client: env.client,
        subjectKey: TEST_SUBJECT_KEY,
        contentCipher: TEST_CONTENT_CIPHER,
      },
      { by: 'stf-admin', dryRun, taskQueue: h.worker.options.taskQueue },
    );

  it('rebuilds a deleted row, closes a terminated case, and then finds nothing to do', async () => {
    const [deleted, terminated, intact] = [
      await start('deleted'),
      await start('terminated'),
      await start('intact'),
    ];
    const before = (await h.database.db.select().from(cases).where(eq(cases.id, deleted)))[0];
    await h.database.db.delete(cases).where(eq(cases.id, deleted));
    await env.client.workflow.getHandle(terminated).terminate('operator error');

    // Visibility follows the server a moment later: wait until the listing shows what happened.
    const dry = await eventually(async () => {
      const r = await reconcile(true);
      expect(r.repaired).toEqual([{ caseId: deleted, kind: 'missing' }]);
      expect(r.closed).toEqual([{ caseId: terminated, execution: 'TERMINATED' }]);
      return r;
    });
    expect(dry).toMatchObject({ dryRun: true, checked: 3, skipped: [] });
    // A dry run writes nothing.
    expect(await h.database.db.select().from(cases).where(eq(cases.id, deleted))).toEqual([]);
    const open = (await h.database.db.select().from(cases).where(eq(cases.id, terminated)))[0];
    expect(open?.status).toBe('awaiting_registration');
    expect(await h.database.db.select().from(auditLog).where(eq(auditLog.action, 'cases.reconcile'))).toEqual(
      [],
    );

    const report = await reconcile();
    expect(report).toMatchObject({
      dryRun: false,
      checked: 3,
      repaired: [{ caseId: deleted, kind: 'missing' }],
      closed: [{ caseId: terminated, execution: 'TERMINATED' }],
      skipped: [],
    });

    // The rebuilt row is the case again, its sealed content included.
    const rebuilt = (await h.database.db.select().from(cases).where(eq(cases.id, deleted)))[0];
    expect(rebuilt).toMatchObject({
      status: 'awaiting_registration',
      docNumber: before?.docNumber,
      issuingUnit: before?.issuingUnit,
      dueAt: before?.dueAt,
      subjectMasked: before?.subjectMasked,
    });
    expect(rebuilt?.runId).toBeTruthy();
    const detail = await h.app.inject({
      url: `/api/v1/verifications/${deleted}`,
      headers: { authorization: reqA },
    });
    expect(detail.statusCode, detail.body).toBe(200);
    // …and it works as before: the issuer registers it.
    const reg = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${deleted}/register`,
      headers: { authorization: issA },
      payload: {},
    });
    expect(reg.statusCode, reg.body).toBe(200);
    expect(reg.json().status).toBe('registered');

    // The terminated case is closed as 已终止, with the reason on its timeline, and takes no more actions.
    const closed = (await h.database.db.select().from(cases).where(eq(cases.id, terminated)))[0];
    expect(closed?.status).toBe('terminated');
    expect(closed?.completedAt).toBeInstanceOf(Date);
    const [lastEvent] = await h.database.db
      .select()
      .from(caseEvents)
      .where(and(eq(caseEvents.caseId, terminated), eq(caseEvents.type, 'terminated')));
    expect(lastEvent).toMatchObject({ actorId: 'stf-admin', data: { execution: 'TERMINATED' } });
    expect(lastEvent?.reason).toMatch(/流程已被终止/);
    const act = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${terminated}/register`,
      headers: { authorization: issA },
      payload: {},
    });
    expect(act.statusCode, act.body).toBe(409);
    expect(act.json().code).toBe('case_closed');

    // Audited under the operator: one row per repaired case and one for the run.
    const audit = await h.database.db
      .select({
        action: auditLog.action,
        caseId: auditLog.caseId,
        actorId: auditLog.actorId,
        detail: auditLog.detail,
      })
      .from(auditLog)
      .where(eq(auditLog.actorId, 'stf-admin'))
      .orderBy(asc(auditLog.id));
    const reconciled = audit.filter((a) => a.action.endsWith('.reconcile'));
    expect(reconciled.map((a) => [a.action, a.caseId])).toEqual([
      ['case.reconcile', deleted],
      ['case.reconcile', terminated],
      ['cases.reconcile', null],
    ]);
    expect(reconciled[2]?.detail).toMatchObject({ checked: 3, repaired: [deleted], closed: [terminated] });

    // A second run finds nothing to repair (the registered case was projected by its workflow).
    const again = await reconcile();
    expect(again).toMatchObject({ checked: 2, repaired: [], closed: [], skipped: [] });
    expect(intact).toBeTruthy();
  });

  it('refuses an operator who is not in the staff registry', async () => {
    await expect(
      reconcileCases(
        {
          db: h.database.db,
          client: env.client,
          subjectKey: TEST_SUBJECT_KEY,
          contentCipher: TEST_CONTENT_CIPHER,
        },
        { by: 'nobody', taskQueue: h.worker.options.taskQueue },
      ),
    ).rejects.toThrow(/unknown staff id/);
  });
});
