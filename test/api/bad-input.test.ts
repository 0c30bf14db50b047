/**
 * The bad-input matrix (issue 4, acceptance): every kind of client mistake gets the right 4xx, an
 * `application/problem+json` body with a Chinese `detail` (and the failing field's pointer where there is
 * one), and changes nothing: no new case row, no new case event, no new idempotency key, the cases'
 * states unchanged. Runs against PGlite and PostgreSQL, on the real dev server.
 */
import { createHmac } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { count, eq } from 'drizzle-orm';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, caseEvents, cases, idempotencyKeys } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody, VALID_CREDIT_CODE, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** An ID number whose GB 11643 check digit is wrong (the valid one ends in X). */
const BAD_CHECK_DIGIT_ID = `${VALID_ID.slice(0, 17)}3`;
const BAD_CREDIT_CODE = `${VALID_CREDIT_CODE.slice(0, 17)}X`;
const CJK = /[\u4e00-\u9fff]/;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function hs256(payload: Record<string, unknown>, secret: string): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

interface Expectation {
  status: number;
  /** JSON pointer of the failing field that must be among `errors`. */
  pointer?: string;
  code?: string;
  detail?: RegExp;
}

function expectProblem(res: LightMyRequestResponse, e: Expectation) {
  expect(res.statusCode, res.body).toBe(e.status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const p = res.json();
  expect(p.status).toBe(e.status);
  expect(typeof p.title).toBe('string');
  expect(p.detail).toMatch(CJK);
  if (e.detail) expect(p.detail).toMatch(e.detail);
  if (e.code) expect(p.code).toBe(e.code);
  if (e.pointer) expect(p.errors?.map((x: { pointer: string }) => x.pointer)).toContain(e.pointer);
  for (const x of p.errors ?? []) expect(x.detail).toMatch(CJK);
  return p;
}

describe.each(databaseTargets())('bad input on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  let reqAId: string;
  /** A case waiting for registration, and one already registered by iss-a. */
  let fresh: string;
  let registered: string;

  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['req-a', 'req-b', 'iss-a', 'iss-b']) auth[u] = await h.login(u);
    const me = await h.app.inject({ url: '/api/v1/auth/me', headers: { authorization: auth['req-a'] } });
    reqAId = me.json().id;
    const start = async (key: string) => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: auth['req-a'], 'idempotency-key': key },
        payload: startBody(),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    // Keys unique per database target: the Temporal server is shared by both targets of this file.
    fresh = await start(`bad-input-fresh-${target.name}`);
    registered = await start(`bad-input-registered-${target.name}`);
    const reg = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${registered}/register`,
      headers: { authorization: auth['iss-a'] },
      payload: {},
    });
    expect(reg.statusCode, reg.body).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Everything a refused request must leave as it was. */
  async function state() {
    const db = h.database.db;
    const [c] = await db.select({ n: count() }).from(cases);
    const [e] = await db.select({ n: count() }).from(caseEvents);
    const [k] = await db.select({ n: count() }).from(idempotencyKeys);
    const rows = await db
      .select({ id: cases.id, status: cases.status, lastSeq: cases.lastSeq, tier: cases.tier })
      .from(cases)
      .orderBy(cases.id);
    return { cases: c?.n, events: e?.n, keys: k?.n, rows };
  }

  const start = (payload: unknown, extra: Partial<InjectOptions> = {}): InjectOptions => ({
    method: 'POST',
    url: '/api/v1/verifications',
    headers: { authorization: auth['req-a'], ...(extra.headers ?? {}) },
    payload: payload as InjectOptions['payload'],
  });
  const act = (who: string, id: () => string, action: string, payload: unknown = {}): InjectOptions => ({
    method: 'POST',
    url: `/api/v1/verifications/${id()}/${action}`,
    headers: { authorization: auth[who] },
    payload: payload as InjectOptions['payload'],
  });
  const withToken = (token: string): InjectOptions => ({
    url: '/api/v1/verifications?box=outbox',
    headers: { authorization: `Bearer ${token}` },
  });

  const matrix: { name: string; request: () => InjectOptions; expect: Expectation }[] = [
    // ─── Syntax and shape ─────────────────────────────────────────────────────────────────────
    {
      name: 'malformed JSON',
      request: () => ({
        ...start(undefined),
        headers: { authorization: auth['req-a'], 'content-type': 'application/json' },
        payload: '{"catalogCode": "HJ-001", "subject": ',
      }),
      expect: { status: 400, detail: /不是有效的 JSON/ },
    },
    {
      name: 'empty JSON body',
      request: () => ({
        ...start(undefined),
        headers: { authorization: auth['req-a'], 'content-type': 'application/json' },
        payload: '',
      }),
      expect: { status: 400, detail: /请求体为空/ },
    },
    {
      name: 'wrong type: an object where text is due',
      request: () => start(startBody({ purpose: { text: '社会保险参保登记' } })),
      expect: { status: 400, pointer: '/body/purpose', detail: /类型不正确/ },
    },
    {
      name: 'wrong type: a number where text is due (no silent coercion of bodies)',
      request: () => start(startBody({ purpose: 20260101 })),
      expect: { status: 400, pointer: '/body/purpose' },
    },
    {
      name: 'wrong type: text where an object is due',
      request: () => start(startBody({ subject: '张三 11010519491231002X' })),
      expect: { status: 400, pointer: '/body/subject' },
    },
    {
      name: 'wrong type in the query string',
      request: () => ({
        url: '/api/v1/verifications?box=outbox&limit=lots',
        headers: { authorization: auth['req-a'] },
      }),
      expect: { status: 400, pointer: '/querystring/limit' },
    },
    {
      name: 'a date PostgreSQL cannot store (year 0)',
      request: () => ({
        url: '/api/v1/verifications?box=outbox&dueBefore=0000-01-01T00:00:00Z',
        headers: { authorization: auth['req-a'] },
      }),
      expect: { status: 400, pointer: '/querystring/dueBefore' },
    },
    {
      name: 'a deadline preview for a year nobody needs',
      request: () => ({ url: '/api/v1/deadline-preview?tier=1d&receivedAt=0017-06-23T10:00:00Z' }),
      expect: { status: 422, pointer: '/querystring/receivedAt' },
    },
    {
      name: 'value outside the allowed set',
      request: () => start(startBody({ tier: '3d' })),
      expect: { status: 400, pointer: '/body/tier' },
    },
    {
      name: 'missing required field',
      request: () => {
        const { purpose: _p, ...rest } = startBody();
        return start(rest);
      },
      expect: { status: 400, pointer: '/body/purpose', detail: /缺少必填字段/ },
    },
    {
      name: 'unknown top-level field',
      request: () => start({ ...startBody(), priority: 'high' }),
      expect: { status: 400, pointer: '/body/priority', detail: /不允许的字段/ },
    },
    {
      name: 'unknown nested field',
      request: () =>
        start(startBody({ subject: { kind: 'person', name: '张三', idNumber: VALID_ID, age: 40 } })),
      expect: { status: 400, pointer: '/body/subject/age' },
    },
    {
      name: 'unknown field in an action body',
      request: () => act('iss-a', () => fresh, 'register', { assignee: 'me' }),
      expect: { status: 400, pointer: '/body/assignee' },
    },
    {
      name: 'unknown query parameter',
      request: () => ({
        url: `/api/v1/verifications/${fresh}?debug=1`,
        headers: { authorization: auth['req-a'] },
      }),
      expect: { status: 400, pointer: '/querystring/debug' },
    },
    {
      name: 'path parameter too long',
      request: () => ({
        url: `/api/v1/verifications/${'x'.repeat(300)}`,
        headers: { authorization: auth['req-a'] },
      }),
      expect: { status: 400, pointer: '/params/id' },
    },
    {
      name: 'oversized body (> 1 MB)',
      request: () => start(startBody({ fields: { declaredAddress: '淄'.repeat(400_000) } })),
      expect: { status: 413, detail: /1 MB/ },
    },
    {
      name: 'wrong content type: text/plain',
      request: () => ({
        ...start(undefined),
        headers: { authorization: auth['req-a'], 'content-type': 'text/plain' },
        payload: JSON.stringify(startBody()),
      }),
      expect: { status: 415, detail: /application\/json/ },
    },
    {
      name: 'wrong content type: form',
      request: () => ({
        ...start(undefined),
        headers: { authorization: auth['req-a'], 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'catalogCode=HJ-001',
      }),
      expect: { status: 415 },
    },
    {
      name: 'a NUL character (PostgreSQL cannot store it)',
      request: () => start(startBody({ purpose: '社会保险\u0000参保登记' })),
      expect: { status: 400, pointer: '/body/purpose', detail: /不允许的字符/ },
    },
    {
      name: 'an unpaired UTF-16 surrogate in a template field',
      request: () => start(startBody({ fields: { declaredAddress: '淄博市\ud800' } })),
      expect: { status: 400, pointer: '/body/fields/declaredAddress' },
    },
    {
      name: 'a NUL character in the query string',
      request: () => ({
        url: '/api/v1/verifications?box=outbox&docNumber=%00',
        headers: { authorization: auth['req-a'] },
      }),
      expect: { status: 400, pointer: '/querystring/docNumber' },
    },
    {
      name: 'nesting deeper than 32 levels',
      request: () => {
        let deep: unknown = '淄博市';
        for (let i = 0; i < 40; i++) deep = { d: deep };
        return start(startBody({ fields: { declaredAddress: deep } }));
      },
      expect: { status: 400, detail: /嵌套层级/ },
    },
    {
      name: 'malformed Idempotency-Key header',
      request: () => start(startBody(), { headers: { 'idempotency-key': 'no spaces allowed' } }),
      expect: { status: 400, pointer: '/headers/idempotency-key' },
    },
    // ─── Content ──────────────────────────────────────────────────────────────────────────────
    {
      name: 'invalid ID check digit',
      request: () =>
        start(startBody({ subject: { kind: 'person', name: '张三', idNumber: BAD_CHECK_DIGIT_ID } })),
      expect: { status: 422, pointer: '/body/subject/idNumber', detail: /校验位/ },
    },
    {
      name: 'invalid unified social credit code',
      request: () =>
        start(
          startBody({ subject: { kind: 'company', name: '淄博某某有限公司', idNumber: BAD_CREDIT_CODE } }),
        ),
      expect: { status: 422, pointer: '/body/subject/idNumber', detail: /统一社会信用代码/ },
    },
    {
      name: 'a company as the subject of an item about persons only (户籍)',
      request: () =>
        start(
          startBody({ subject: { kind: 'company', name: '淄博某某有限公司', idNumber: VALID_CREDIT_CODE } }),
        ),
      expect: { status: 422, pointer: '/body/subject/kind', detail: /只能是个人/ },
    },
    {
      name: 'unknown catalog item',
      request: () => start(startBody({ catalogCode: 'NO-SUCH-ITEM' })),
      expect: { status: 422, pointer: '/body/catalogCode', detail: /未知的证明事项/ },
    },
    {
      name: 'issuing unit not listed for the item',
      request: () => start(startBody({ issuingUnit: 'ZB-MZ' })),
      expect: { status: 422, pointer: '/body/issuingUnit' },
    },
    {
      name: "fields: a required field of the item's template is missing",
      request: () => start(startBody({ fields: {} })),
      expect: { status: 422, pointer: '/body/fields/declaredAddress', detail: /户籍地址/ },
    },
    {
      name: "fields: wrong type for the item's template",
      request: () => start(startBody({ fields: { declaredAddress: 42 } })),
      expect: { status: 422, pointer: '/body/fields/declaredAddress' },
    },
    {
      name: "fields: a field the item's template does not have",
      request: () => start(startBody({ fields: { declaredAddress: '淄博市', bloodType: 'A' } })),
      expect: { status: 422, pointer: '/body/fields/bloodType' },
    },
    {
      name: "fields: value outside the template's enum",
      request: () => start(startBody({ catalogCode: 'HY-003', fields: { declaredStatus: '保密' } })),
      expect: { status: 422, pointer: '/body/fields/declaredStatus' },
    },
    {
      name: "response fields violate the item's response template",
      request: () =>
        act('iss-a', () => registered, 'respond', { result: 'consistent', fields: { remark: 1 } }),
      expect: { status: 422, pointer: '/body/fields/registeredAddress' },
    },
    {
      name: 'reclassify to the same tier (only upward)',
      request: () => act('iss-a', () => fresh, 'reclassify', { tier: '30m', reason: '需要查档案' }),
      expect: { status: 422, detail: /只能向上调整/ },
    },
    // ─── State ────────────────────────────────────────────────────────────────────────────────
    {
      name: 'respond before register',
      request: () =>
        act('iss-a', () => fresh, 'respond', {
          result: 'consistent',
          fields: { registeredAddress: '淄博市' },
        }),
      expect: { status: 409, code: 'invalid_state', detail: /请先登记受理/ },
    },
    {
      name: 'register twice',
      request: () => act('iss-a', () => registered, 'register'),
      expect: { status: 409, code: 'invalid_state' },
    },
    {
      name: 'reroute a case that was not returned',
      request: () => act('req-a', () => fresh, 'reroute', { issuingUnit: 'ZB-MZ' }),
      expect: { status: 409, code: 'invalid_state' },
    },
    {
      name: 'ledger on a case without a mismatch',
      request: () => act('req-a', () => fresh, 'ledger', { kind: 'note', note: '补充材料' }),
      expect: { status: 409, code: 'ledger_not_applicable' },
    },
    // ─── Who ──────────────────────────────────────────────────────────────────────────────────
    {
      name: "another issuing unit acts on someone else's case (hidden: 404)",
      request: () => act('iss-b', () => fresh, 'register'),
      expect: { status: 404, detail: /无权查看/ },
    },
    {
      name: "another requesting unit reads someone else's case (hidden: 404)",
      request: () => ({ url: `/api/v1/verifications/${fresh}`, headers: { authorization: auth['req-b'] } }),
      expect: { status: 404 },
    },
    {
      name: 'a case that does not exist',
      request: () => act('iss-a', () => 'case-ZB-RS-doesnotexist', 'register'),
      expect: { status: 404 },
    },
    {
      name: 'the requester tries to register (party, wrong side: 403)',
      request: () => act('req-a', () => fresh, 'register'),
      expect: { status: 403, detail: /出具单位/ },
    },
    {
      name: 'the issuer tries to withdraw (party, wrong side: 403)',
      request: () => act('iss-a', () => fresh, 'withdraw', { reason: '不想办了' }),
      expect: { status: 403, detail: /需求单位/ },
    },
    {
      name: 'an issuing unit tries to start a case with itself',
      request: () => ({ ...start(startBody()), headers: { authorization: auth['iss-a'] } }),
      expect: { status: 422, pointer: '/body/issuingUnit' },
    },
    // ─── Credentials ──────────────────────────────────────────────────────────────────────────
    {
      name: 'no token',
      request: () => ({ url: '/api/v1/verifications?box=outbox' }),
      expect: { status: 401, detail: /请先登录/ },
    },
    {
      name: 'expired token',
      request: () =>
        withToken(
          h.app.jwt.sign({ sub: reqAId, sv: 0, iat: Math.floor(Date.now() / 1000) - 3600 } as never, {
            expiresIn: '1m',
          }),
        ),
      expect: { status: 401, detail: /过期|无效/ },
    },
    {
      name: 'forged token (signed with another secret)',
      request: () =>
        withToken(
          hs256(
            { sub: reqAId, sv: 0, exp: Math.floor(Date.now() / 1000) + 600 },
            'not-the-secret-'.repeat(3),
          ),
        ),
      expect: { status: 401 },
    },
    {
      name: 'forged token (alg none)',
      request: () =>
        withToken(
          `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: reqAId, sv: 0, exp: Math.floor(Date.now() / 1000) + 600 })}.`,
        ),
      expect: { status: 401 },
    },
    {
      name: 'garbage bearer token',
      request: () => withToken('not.a.jwt'),
      expect: { status: 401 },
    },
    // ─── Idempotency ──────────────────────────────────────────────────────────────────────────
    {
      name: 'the same Idempotency-Key with a different body',
      request: () =>
        start(startBody({ purpose: '另一项业务' }), {
          headers: { 'idempotency-key': `bad-input-fresh-${target.name}` },
        }),
      expect: { status: 422, code: 'idempotency_key_reused', pointer: '/headers/idempotency-key' },
    },
  ];

  it.each(matrix)('$name → $expect.status', async ({ request, expect: e }) => {
    const before = await state();
    const res = await h.app.inject(request());
    expectProblem(res, e);
    expect(await state()).toEqual(before);
  });

  it('leaves a denied audit row for a hidden case, and the chain intact', async () => {
    const res = await h.app.inject({
      url: `/api/v1/verifications/${fresh}`,
      headers: { authorization: auth['iss-b'] },
    });
    expect(res.statusCode).toBe(404);
    const rows = await h.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.caseId, fresh))
      .orderBy(auditLog.id);
    const last = rows[rows.length - 1];
    expect(last).toMatchObject({ action: 'case.read', outcome: 'denied', actorUnit: 'ZB-MZ' });
    expect(last?.detail).toEqual({ reason: 'not_your_case' });
  });
});
