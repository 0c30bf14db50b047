/**
 * Issue 9: an Idempotency-Key has one scope, the unit, for both its record and the case ID derived from
 * it. A colleague's same key with another body is refused (422 naming the header), never answered with
 * the other person's case; the same request retried still finds its case.
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

describe.each(databaseTargets())('Idempotency-Key scope on $name', (target) => {
  let h: ApiHarness;
  let reqA: string;
  let reqA2: string;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [reqA, reqA2] = await Promise.all([h.login('req-a'), h.login('req-a2')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const start = (authorization: string, key: string, body: Record<string, unknown>) =>
    h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization, 'idempotency-key': key },
      payload: body,
    });

  it("a colleague's same key with a different request is a 422, not the other person's case", async () => {
    const key = `scope-${target.name}-${Date.now()}`;
    const first = await start(reqA, key, startBody());
    expect(first.statusCode, first.body).toBe(201);

    const other = startBody({
      subject: { kind: 'person', name: '李四', idNumber: '110101199003077571' },
      purpose: '另一位办事人的协查',
    });
    const clash = await start(reqA2, key, other);
    expect(clash.statusCode, clash.body).toBe(422);
    expect(clash.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(clash.json().errors[0].pointer).toBe('/headers/idempotency-key');
    expect(clash.json().detail).toMatch(/Idempotency-Key/);
    expect(clash.body).not.toContain(first.json().id);

    // The same person retrying the same body still gets the same case.
    const retry = await start(reqA, key, startBody());
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json().id).toBe(first.json().id);
    // And the same person with another body under that key is refused too.
    expect((await start(reqA, key, other)).statusCode).toBe(422);
  });
});
