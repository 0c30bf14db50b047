/**
 * A liaison registers or reassigns a selection of the unit's cases at once (转派); each case is its own
 * audited action, and one refusal does not stop the others. The bulk request runs as a `bulkAction` workflow
 * (one per unit and Idempotency-Key), so a repeated request applies nothing again.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, caseEvents } from '../../db/schema.ts';
import { demoStaffId } from '../../db/seed.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';
import { recordHistory } from '../workflow/support.ts';

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

describe('bulk actions of a liaison', () => {
  it('registers a selection, then reassigns it; other units’ cases and agents are refused per case', async () => {
    const [req, lia, agent, otherReq] = await Promise.all([
      h.login('req-a'),
      h.login('iss-a-lia'),
      h.login('iss-a'),
      h.login('req-b'),
    ]);
    const start = async (auth: string, n: number) => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: auth, 'idempotency-key': `bulk-${Date.now()}-${n}` },
        payload: startBody(),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    const mine = [await start(req, 1), await start(req, 2)];
    const foreign = await start(otherReq, 3); // also addressed to ZB-GA, so visible to the liaison
    const unknown = 'case-ZB-RS-doesnotexist';

    const byAgent = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications/bulk/register',
      headers: { authorization: agent },
      payload: { ids: mine },
    });
    expect(byAgent.statusCode).toBe(403);

    const registersOk = async () =>
      (await h.metrics.caseUpdates.get()).values.find(
        (v) => v.labels.kind === 'register' && v.labels.outcome === 'ok',
      )?.value ?? 0;
    const registeredBefore = await registersOk();
    const reg = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications/bulk/register',
      headers: { authorization: lia },
      payload: { ids: [...mine, foreign, unknown] },
    });
    expect(reg.statusCode, reg.body).toBe(200);
    const regResults = reg.json().results as {
      id: string;
      status: number;
      outcome: string;
      case?: { status: string; assigneeId: string };
    }[];
    expect(regResults.map((r) => r.status)).toEqual([200, 200, 200, 404]);
    expect(regResults.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'refused']);
    // The batch's Updates count in the operators' metrics as the API's own do.
    expect((await registersOk()) - registeredBefore).toBe(3);
    expect(regResults[0]?.case).toMatchObject({ status: 'registered', assigneeId: demoStaffId('iss-a-lia') });

    const again = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications/bulk/register',
      headers: { authorization: lia },
      payload: { ids: mine },
    });
    expect((again.json().results as { status: number }[]).map((r) => r.status)).toEqual([409, 409]);

    const moved = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications/bulk/reassign',
      headers: { authorization: lia },
      payload: { ids: mine, toStaffId: demoStaffId('iss-a2'), reason: '工作调整' },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    for (const r of moved.json().results as { status: number; case: { assigneeId: string } }[]) {
      expect(r.status).toBe(200);
      expect(r.case.assigneeId).toBe(demoStaffId('iss-a2'));
    }
  });

  it('runs once per Idempotency-Key: per-case results, a repeat applies nothing again, another unit’s case refused', async () => {
    const [req, lia, otherLia] = await Promise.all([
      h.login('req-a'),
      h.login('iss-a-lia'),
      h.login('iss-b-lia'),
    ]);
    const start = async (n: number, body: Record<string, unknown> = {}) => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: req, 'idempotency-key': `bulk-once-${Date.now()}-${n}` },
        payload: startBody(body),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    const mine = [await start(1), await start(2), await start(3)];
    // Addressed to 民政局: not a case of the liaison's unit.
    const otherUnits = await start(4, { catalogCode: 'HY-003', fields: { declaredStatus: '已婚' } });
    const key = `bulk-once-${Date.now()}`;
    const bulk = (payload: object, headers: Record<string, string> = {}) =>
      h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications/bulk/register',
        headers: { authorization: lia, 'idempotency-key': key, ...headers },
        payload,
      });
    const registrations = async () =>
      (
        await Promise.all(
          mine.map((id) =>
            h.database.db
              .select()
              .from(caseEvents)
              .where(and(eq(caseEvents.caseId, id), eq(caseEvents.type, 'registered'))),
          ),
        )
      ).flat().length;
    const attempts = async () =>
      (
        await h.database.db
          .select()
          .from(auditLog)
          .where(and(eq(auditLog.action, 'case.register'), eq(auditLog.actorId, demoStaffId('iss-a-lia'))))
      ).length;

    const first = await bulk({ ids: [...mine, otherUnits] });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['idempotency-key']).toBe(key);
    const body = first.json();
    expect(body).toMatchObject({ state: 'completed', total: 4, done: 4, idempotencyKey: key });
    expect(body.id).toMatch(/^bulk-ZB-GA-[0-9a-f]{32}$/);
    expect(body.results.map((r: { id: string }) => r.id)).toEqual([...mine, otherUnits]);
    expect(body.results.map((r: { status: number }) => r.status)).toEqual([200, 200, 200, 404]);
    expect(body.results.map((r: { outcome: string }) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'refused']);
    expect(body.results[3].detail).toBe('未找到该协查，或您无权查看');
    expect(body.results[3].case).toBeUndefined();
    for (const r of body.results.slice(0, 3))
      expect(r.case).toMatchObject({ status: 'registered', assigneeId: demoStaffId('iss-a-lia') });
    expect(await registrations()).toBe(3);
    const audited = await attempts();

    // The same request again (a client retry): the same answer, and nothing applied or audited again.
    const again = await bulk({ ids: [...mine, otherUnits] });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual(body);
    expect(await registrations()).toBe(3);
    expect(await attempts()).toBe(audited);
    // The same key for another request is refused, as for single actions.
    const reused = await bulk({ ids: mine.slice(0, 1) });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');

    // The outcome can be read again by the unit, and only by it.
    const read = await h.app.inject({
      url: `/api/v1/verifications/bulk/${body.id}`,
      headers: { authorization: lia },
    });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toEqual(withoutKey(body));
    for (const stranger of [otherLia, req]) {
      const hidden = await h.app.inject({
        url: `/api/v1/verifications/bulk/${body.id}`,
        headers: { authorization: stranger },
      });
      expect(hidden.statusCode).toBe(404);
    }
    expect(
      (
        await h.app.inject({
          url: '/api/v1/verifications/bulk/bulk-ZB-GA-nothing',
          headers: { authorization: lia },
        })
      ).statusCode,
    ).toBe(404);
    await recordHistory(env.client.workflow.getHandle(body.id), 'bulk-action');

    // Not done within the wait the client asked for: 202 and where to read the outcome; no key given, so the
    // server made one and says which.
    const late = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications/bulk/reassign',
      headers: { authorization: lia, prefer: 'wait=0' },
      payload: { ids: mine, toStaffId: demoStaffId('iss-a2'), reason: '工作调整' },
    });
    expect(late.statusCode, late.body).toBe(202);
    expect(late.json()).toMatchObject({ state: 'running', total: 3 });
    expect(late.headers.location).toBe(`/api/v1/verifications/bulk/${late.json().id}`);
    expect(late.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(late.json().idempotencyKey).toBe(late.headers['idempotency-key']);
    const until = Date.now() + 20_000;
    let progress = late.json();
    while (progress.state !== 'completed' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      progress = (
        await h.app.inject({ url: String(late.headers.location), headers: { authorization: lia } })
      ).json();
    }
    expect(progress).toMatchObject({ state: 'completed', total: 3, done: 3 });
    for (const r of progress.results) {
      expect(r).toMatchObject({ status: 200, outcome: 'ok' });
      expect(r.case.assigneeId).toBe(demoStaffId('iss-a2'));
    }
  });
});

function withoutKey<T extends { idempotencyKey?: string }>(body: T): Omit<T, 'idempotencyKey'> {
  const { idempotencyKey: _, ...rest } = body;
  return rest;
}
