/**
 * 取消认领 (issue 14, item 6): the assignee gives a registered case back to the unit's 待认领, or a liaison
 * takes it from an assignee; the reason is required, the deadline and the first registration stay, every
 * attempt is audited, and another unit cannot even see the case.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema.ts';
import { demoStaffId } from '../../db/seed.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
let h: ApiHarness;
beforeAll(async () => {
  env = await createDevServerEnv();
  const [pglite] = databaseTargets();
  if (!pglite) throw new Error('no database target');
  h = await createApiHarness(env, pglite);
});
afterAll(async () => {
  await h?.close();
  await env?.teardown();
});

describe('取消认领', () => {
  it('gives a registered case back to the unit; refusals are clear and audited; a colleague claims it again', async () => {
    const [req, agent, liaison, otherUnit] = await Promise.all([
      h.login('req-a'),
      h.login('iss-a'),
      h.login('iss-a-lia'),
      h.login('iss-b'),
    ]);
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: req, 'idempotency-key': `unclaim-${Date.now()}` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    const act = (auth: string, name: string, payload: Record<string, unknown> = {}) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${id}/${name}`,
        headers: { authorization: auth },
        payload,
      });
    const counts = async (auth: string) =>
      (
        await h.app.inject({
          method: 'GET',
          url: '/api/v1/verifications/counts?box=inbox',
          headers: { authorization: auth },
        })
      ).json() as {
        unclaimed: number;
        mine: number;
      };

    // Not registered yet: nothing to give back.
    const early = await act(agent, 'unclaim', { reason: '交回单位' });
    expect(early.statusCode, early.body).toBe(409);

    const reg = await act(agent, 'register');
    expect(reg.statusCode, reg.body).toBe(200);
    const registeredAt = reg.json().registeredAt as string;
    const before = await counts(agent);

    const noReason = await act(agent, 'unclaim', {});
    expect(noReason.statusCode).toBe(400);
    expect(noReason.body).toContain('reason');
    const foreign = await act(otherUnit, 'unclaim', { reason: '不是本单位的' });
    expect(foreign.statusCode).toBe(404);

    const given = await act(agent, 'unclaim', { reason: '本人出差，交回单位另行安排' });
    expect(given.statusCode, given.body).toBe(200);
    expect(given.json()).toMatchObject({ status: 'awaiting_registration' });
    expect(given.json().assigneeId).toBeNull();
    expect(given.json().registeredAt).toBe(registeredAt);
    const after = await counts(agent);
    expect(after.unclaimed - before.unclaimed).toBe(1);
    expect(before.mine - after.mine).toBe(1);

    // The read model and the timeline show it, attributed to the person, with the reason.
    const detail = await h.app.inject({
      method: 'GET',
      url: `/api/v1/verifications/${id}`,
      headers: { authorization: agent },
    });
    expect(detail.statusCode, detail.body).toBe(200);
    expect(detail.json().case).toMatchObject({ status: 'awaiting_registration', assigneeId: null });
    const event = (detail.json().timeline as { type: string; actorId: string; reason?: string }[]).find(
      (e) => e.type === 'unclaimed',
    );
    expect(event).toMatchObject({ actorId: demoStaffId('iss-a'), reason: '本人出差，交回单位另行安排' });

    // The liaison claims it, and may give it back for the unit as well.
    expect((await act(liaison, 'register')).statusCode).toBe(200);
    const byLiaison = await act(liaison, 'unclaim', { reason: '重新分配承办人' });
    expect(byLiaison.statusCode, byLiaison.body).toBe(200);

    const audited = await h.database.db
      .select({ outcome: auditLog.outcome, actorId: auditLog.actorId })
      .from(auditLog)
      .where(and(eq(auditLog.caseId, id), eq(auditLog.action, 'case.unclaim')))
      .orderBy(auditLog.id);
    expect(audited.map((a) => a.actorId)).toContain(demoStaffId('iss-a'));
    expect(audited.map((a) => a.actorId)).toContain(demoStaffId('iss-a-lia'));
    expect(audited.some((a) => a.outcome !== 'allowed' && a.actorId === demoStaffId('iss-a'))).toBe(true);
  });
});
