/**
 * Issue 9, through the real system (API, dev server, worker, database): actions on a finished case,
 * date-times the API cannot represent, the tier a requester may ask for, the requester's clock pause
 * and application number, and the response letter's own number.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const ANSWER = { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } };

describe.each(databaseTargets())('issue 9 on $name', (target) => {
  let h: ApiHarness;
  let reqA: string;
  let issA: string;
  let n = 0;
  const key = (what: string) => `i9-${what}-${target.name}-${Date.now()}-${++n}`;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [reqA, issA] = await Promise.all([h.login('req-a'), h.login('iss-a')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (auth: string, url: string, payload: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { authorization: auth, ...headers },
      payload: payload as Record<string, unknown>,
    });
  const start = async (overrides: Record<string, unknown> = {}) => {
    const res = await post(reqA, '/api/v1/verifications', startBody(overrides), {
      'idempotency-key': key('start'),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; docNumber: string };
  };
  const registered = async (overrides: Record<string, unknown> = {}) => {
    const c = await start(overrides);
    const reg = await post(issA, `/api/v1/verifications/${c.id}/register`, {});
    expect(reg.statusCode, reg.body).toBe(200);
    return c;
  };

  describe('item 7: actions on a finished case', () => {
    it('20 parallel responds: exactly one 200, every other one 409, none 404', async () => {
      const c = await registered();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          post(issA, `/api/v1/verifications/${c.id}/respond`, ANSWER, { 'idempotency-key': key('resp') }),
        ),
      );
      const statuses = answers.map((a) => a.statusCode);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(
        statuses.filter((s) => s === 409),
        statuses.join(','),
      ).toHaveLength(19);
    });

    it('every other action on an answered case is a 409 case_closed', async () => {
      const c = await registered();
      const done = await post(issA, `/api/v1/verifications/${c.id}/respond`, ANSWER);
      expect(done.statusCode, done.body).toBe(200);
      const attempts: [string, string, unknown][] = [
        [issA, 'respond', ANSWER],
        [issA, 'register', {}],
        [reqA, 'urge', {}],
        [reqA, 'withdraw', { reason: '不再需要' }],
        [issA, 'return', { reason: '非本单位职责' }],
        [issA, 'reclassify', { tier: '1d', reason: '需查纸质档案' }],
        [reqA, 'offline', { channel: 'fax', note: '传真核验' }],
        [reqA, 'applicant-proof', { note: '申请人自带证明' }],
        [reqA, 'close', { reason: '办结关闭' }],
        [reqA, 'reroute', { issuingUnit: 'ZB-MZ' }],
      ];
      for (const [auth, action, body] of attempts) {
        const res = await post(auth, `/api/v1/verifications/${c.id}/${action}`, body);
        expect(res.statusCode, `${action}: ${res.body}`).toBe(409);
        expect(res.json().code, action).toBe('case_closed');
      }
    });

    it('a case nobody may see is still a 404', async () => {
      const res = await post(issA, '/api/v1/verifications/case-ZB-RS-nosuchcase/respond', ANSWER);
      expect(res.statusCode).toBe(404);
    });
  });
});
