/**
 * A liaison registers or reassigns a selection of the unit's cases at once (转派); each case is its own
 * audited action, and one refusal does not stop the others.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      case?: { status: string; assigneeId: string };
    }[];
    expect(regResults.map((r) => r.status)).toEqual([200, 200, 200, 404]);
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
});
