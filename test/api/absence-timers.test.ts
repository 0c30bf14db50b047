/**
 * An absence recorded ahead of time hands the person's registered cases to their A/B partner when it begins,
 * and hands back, when it ends, the cases the partner still holds — by the absence's own workflow and its
 * timers, with no one calling the API at those moments. On the real dev server (a few seconds of real time).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absenceWorkflowId } from '../../workflows/absence-hand-over.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';
import { recordHistory } from '../workflow/support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('an absence recorded ahead of time, on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['req-a', 'iss-a', 'iss-a-lia']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });
  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload ? { payload } : {}),
    });
  const assigneeOf = async (id: string) =>
    (await call('req-a', 'GET', `/api/v1/verifications/${id}`)).json().case;

  it('hands over at its start and back at its end', async () => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-absence-timer-1` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id: string = started.json().id;
    expect((await call('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {})).statusCode).toBe(200);

    const startsAt = new Date(Date.now() + 3_000);
    const endsAt = new Date(Date.now() + 9_000);
    const recorded = await call('iss-a-lia', 'POST', '/api/v1/units/ZB-GA/staff/stf-iss-a/absences', {
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      reason: '年休假',
    });
    expect(recorded.statusCode, recorded.body).toBe(201);
    expect(recorded.json().handOver).toBeNull(); // nothing yet
    expect((await assigneeOf(id)).assigneeId).toBe('stf-iss-a');

    await expect
      .poll(async () => (await assigneeOf(id)).assigneeId, { timeout: 20_000, interval: 250 })
      .toBe('stf-iss-a2');
    expect(Date.now()).toBeGreaterThanOrEqual(startsAt.getTime());
    await expect
      .poll(async () => (await assigneeOf(id)).assigneeId, { timeout: 25_000, interval: 250 })
      .toBe('stf-iss-a');
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt.getTime());
    const timeline = (await call('req-a', 'GET', `/api/v1/verifications/${id}`)).json().timeline as Array<{
      type: string;
      reason?: string | null;
    }>;
    expect(timeline.filter((e) => e.type === 'handed_over').map((e) => e.reason)).toEqual([
      '原承办人缺岗，由A/B角接办',
      '原承办人缺岗结束，交回继续办理',
    ]);
    // For replay.test.ts: the absence workflow's history (RECORD_HISTORIES=1 only).
    const absenceId: string = recorded.json().absence.id;
    const handle = env.client.workflow.getHandle(absenceWorkflowId(absenceId));
    await handle.result();
    if (target.name === 'pglite') await recordHistory(handle, 'absence-hand-over');
  }, 60_000);
});
