/**
 * A case through the API as its users live it: a requester starts it, the issuer finds it in the inbox,
 * registers and answers it, the requester sees the result; every step on the real dev server and DB.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../api/services/audit.ts';
import { type ApiHarness, createApiHarness, startBody, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, TEST_AUDIT_KEY } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('a verification through the API on $name', (target) => {
  let h: ApiHarness;
  let reqA: string;
  let issA: string;
  let reqB: string;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [reqA, issA, reqB] = await Promise.all([h.login('req-a'), h.login('iss-a'), h.login('req-b')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is started, registered, answered, and the requester sees the result; every read and act is audited', async () => {
    // Unique per run and database: the Temporal server is shared, so a key reused across runs finds the old case.
    const key = `flow-${target.name}-${Date.now()}`;
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': key },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const c = started.json();
    expect(c.docNumber).toMatch(/^淄人社协〔\d{4}〕\d+号$/);
    expect(c.issuingUnit).toBe('ZB-GA');
    expect(c.tier).toBe('30m');
    expect(c.subject).toBe('张*（1101**********002X）');

    // A retry with the same key returns the same case, not a second one.
    const retried = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': key },
      payload: startBody(),
    });
    expect(retried.statusCode).toBe(200);
    expect(retried.json().id).toBe(c.id);

    const inbox = await h.app.inject({
      url: '/api/v1/verifications?box=inbox&unregistered=true',
      headers: { authorization: issA },
    });
    expect(inbox.statusCode).toBe(200);
    expect(inbox.json().items.map((i: { id: string }) => i.id)).toContain(c.id);
    expect(JSON.stringify(inbox.json())).not.toContain(VALID_ID);

    const reg = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${c.id}/register`,
      headers: { authorization: issA },
      payload: {},
    });
    expect(reg.statusCode, reg.body).toBe(200);
    expect(reg.json().status).toBe('registered');

    const answered = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${c.id}/respond`,
      headers: { authorization: issA },
      payload: { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } },
    });
    expect(answered.statusCode, answered.body).toBe(200);
    expect(answered.json().status).toBe('answered');

    const detail = await h.app.inject({
      url: `/api/v1/verifications/${c.id}`,
      headers: { authorization: reqA },
    });
    expect(detail.statusCode).toBe(200);
    const d = detail.json();
    expect(d.case.result).toBe('consistent');
    expect(d.content.subject.idNumber).toBe(VALID_ID);
    expect(d.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'registered', 'answered']);
    expect(d.timeline[1].actorName).toBe('郑伟');

    // A retry that arrives after the case has ended still finds that case, never a new run.
    const late = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': key },
      payload: startBody(),
    });
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json()).toMatchObject({ id: c.id, status: 'answered', docNumber: c.docNumber });

    // Another requesting unit cannot see it, and does not learn that it exists.
    const other = await h.app.inject({
      url: `/api/v1/verifications/${c.id}`,
      headers: { authorization: reqB },
    });
    expect(other.statusCode).toBe(404);
    expect(other.headers['content-type']).toContain('application/problem+json');

    const chain = await verifyAuditChain(h.database.db, { key: TEST_AUDIT_KEY });
    expect(chain.ok).toBe(true);
    expect(chain.rows).toBeGreaterThanOrEqual(8);
  });
});
