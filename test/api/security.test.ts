/**
 * Staff authentication and the HTTP hardening around it: lock-out after repeated failures (audited),
 * the password policy, the forced change of an issued password, logout and refresh, rate limits,
 * security headers, closed CORS, and source addresses that a client cannot choose. No case is touched,
 * so the app runs without Temporal (a gateway that must not be called) on PGlite.
 */
import { and, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { type ApiDeps, type App, buildApp } from '../../api/app.ts';
import {
  hashPassword,
  LOCK_MINUTES,
  MAX_FAILED_LOGINS,
  passwordPolicyViolation,
} from '../../api/plugins/auth.ts';
import type { CaseGateway } from '../../api/services/case-gateway.ts';
import { auditLog, staff } from '../../db/schema.ts';
import { TEST_JWT_SECRET } from '../support/api.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { silentLog, TEST_AUDIT_KEY, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';

/** These tests never reach a case: any call to Temporal is a bug. */
const noGateway = new Proxy({} as CaseGateway, {
  get: () => () => {
    throw new Error('no Temporal in the security tests');
  },
});

async function buildTestApp(database: TestDatabase, extra: Partial<ApiDeps> = {}): Promise<App> {
  const app = await buildApp({
    log: silentLog,
    db: database.db,
    gateway: noGateway,
    jwtSecret: TEST_JWT_SECRET,
    subjectKey: TEST_SUBJECT_KEY,
    auditKey: TEST_AUDIT_KEY,
    contentCipher: TEST_CONTENT_CIPHER,
    calendar: createCalendarSource(database.db),
    readiness: { database: async () => {}, pendingMigrations: async () => 0, temporal: async () => {} },
    rateLimitPerMinute: 100_000,
    ...extra,
  });
  await app.ready();
  return app;
}

function expectProblem(res: LightMyRequestResponse, status: number, code?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body.status).toBe(status);
  expect(body.detail).toMatch(/[\u4e00-\u9fff]/);
  if (code) expect(body.code).toBe(code);
  return body;
}

let database: TestDatabase;
let app: App;
/** Each test logs in from its own address, so the login route's limit (20 a minute) never mixes tests. */
let nextAddress = 10;
const address = () => `10.0.0.${nextAddress++}`;

async function createStaff(
  username: string,
  password: string,
  extra: Partial<typeof staff.$inferInsert> = {},
) {
  const id = `stf-${username}`;
  await database.db.insert(staff).values({
    id,
    username,
    displayName: '测试员',
    unitCode: 'ZB-RS',
    role: 'agent',
    passwordHash: await hashPassword(password),
    ...extra,
  });
  return id;
}

const login = (username: string, password: string, remoteAddress = address()) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress });

const bearer = (res: LightMyRequestResponse) => `Bearer ${res.json().token}`;

beforeAll(async () => {
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  database = await target.open();
  app = await buildTestApp(database);
});
afterAll(async () => {
  await app?.close();
  await database?.dispose();
});

describe('login lock-out', () => {
  it(`locks the account after ${MAX_FAILED_LOGINS} failed logins, audits every attempt as denied, and unlocks after ${LOCK_MINUTES} minutes`, async () => {
    const id = await createStaff('clerk-lock', 'Correct-horse-2026');
    const from = address();
    for (let i = 1; i < MAX_FAILED_LOGINS; i++) {
      const res = await login('clerk-lock', `wrong-${i}`, from);
      expect(expectProblem(res, 401).detail).toBe('用户名或密码错误');
    }
    const last = await login('clerk-lock', 'wrong-last', from);
    // The lock is not announced to a guess: an unknown username would not hear it either.
    expect(expectProblem(last, 401).detail).toBe('用户名或密码错误');

    // Locked: even the right password is refused now.
    const locked = await login('clerk-lock', 'Correct-horse-2026', from);
    expect(expectProblem(locked, 403, 'account_locked').detail).toMatch(/分钟后再试/);

    const audits = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, id), eq(auditLog.action, 'auth.login')))
      .orderBy(auditLog.id);
    expect(audits.map((a) => a.outcome)).toEqual(Array(MAX_FAILED_LOGINS + 1).fill('denied'));
    expect(audits.map((a) => (a.detail as { reason: string }).reason)).toEqual([
      ...Array(MAX_FAILED_LOGINS).fill('bad_password'),
      'locked',
    ]);
    expect(audits.every((a) => a.sourceIp === from)).toBe(true);

    // The lock ends by itself.
    await database.db
      .update(staff)
      .set({ lockedUntil: new Date(Date.now() - 1000) })
      .where(eq(staff.id, id));
    expect((await login('clerk-lock', 'Correct-horse-2026')).statusCode).toBe(200);
  });

  it('does not reveal whether a username exists', async () => {
    const res = await login('nobody-here', 'whatever-123');
    expect(expectProblem(res, 401).detail).toBe('用户名或密码错误');
    const rows = await database.db.select().from(auditLog).where(eq(auditLog.action, 'auth.login'));
    expect(rows.filter((r) => (r.detail as { username?: string }).username === 'nobody-here')).toMatchObject([
      { outcome: 'denied', actorId: null, detail: { reason: 'unknown_user' } },
    ]);
  });
});

describe('password policy and the forced change of an issued password', () => {
  it('states the policy: 10+ characters, letters and digits, not the username', () => {
    expect(passwordPolicyViolation('Short1', 'zhang')).toMatch(/至少 10 位/);
    expect(passwordPolicyViolation('onlyletterslong', 'zhang')).toMatch(/字母和数字/);
    expect(passwordPolicyViolation('1234567890123', 'zhang')).toMatch(/字母和数字/);
    expect(passwordPolicyViolation('zhang-2026-abc', 'zhang')).toMatch(/用户名/);
    expect(passwordPolicyViolation('Tea-garden-2026', 'zhang')).toBeUndefined();
  });

  it('a first login with an issued password may only change it; every other route answers 403 until then', async () => {
    await createStaff('clerk-new', 'Issued-pass-0001', { mustChangePassword: true });
    const first = await login('clerk-new', 'Issued-pass-0001');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().staff.mustChangePassword).toBe(true);
    const token = bearer(first);

    for (const req of [
      { url: '/api/v1/verifications?box=outbox' },
      { url: '/api/v1/escalations' },
      { url: '/api/v1/audit' },
      { method: 'POST' as const, url: '/api/v1/auth/refresh' },
      { method: 'POST' as const, url: '/api/v1/verifications', payload: {} },
    ]) {
      const res = await app.inject({ ...req, headers: { authorization: token } });
      expectProblem(res, 403, 'password_change_required');
    }
    expect((await app.inject({ url: '/api/v1/auth/me', headers: { authorization: token } })).statusCode).toBe(
      200,
    );

    const change = (currentPassword: string, newPassword: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: { authorization: token },
        payload: { currentPassword, newPassword },
      });
    expect(expectProblem(await change('not-it-0000', 'Tea-garden-2026'), 422).errors[0].pointer).toBe(
      '/body/currentPassword',
    );
    for (const weak of ['short1', 'no-digits-at-all', 'clerk-new-2026x', 'Issued-pass-0001']) {
      const body = expectProblem(await change('Issued-pass-0001', weak), 422);
      expect(body.errors[0].pointer).toBe('/body/newPassword');
    }

    const changed = await change('Issued-pass-0001', 'Tea-garden-2026');
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().staff.mustChangePassword).toBe(false);
    // The old token is gone with the old password; the new one opens everything.
    expectProblem(await app.inject({ url: '/api/v1/auth/me', headers: { authorization: token } }), 401);
    const list = await app.inject({
      url: '/api/v1/verifications?box=outbox',
      headers: { authorization: bearer(changed) },
    });
    expect(list.statusCode, list.body).toBe(200);
    expect((await login('clerk-new', 'Issued-pass-0001')).statusCode).toBe(401);
    expect((await login('clerk-new', 'Tea-garden-2026')).statusCode).toBe(200);
  });

  it('demo users are exempt from the forced change', async () => {
    const res = await login('req-a', 'demo1234');
    expect(res.statusCode).toBe(200);
    expect(res.json().staff).toMatchObject({ isDemo: true, mustChangePassword: false });
  });
});

describe('tokens', () => {
  it('logout revokes the token (401 afterwards), and a new login works', async () => {
    const token = bearer(await login('iss-a', 'demo1234'));
    const out = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: token },
    });
    expect(out.statusCode).toBe(204);
    expectProblem(await app.inject({ url: '/api/v1/auth/me', headers: { authorization: token } }), 401);
    expectProblem(
      await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { authorization: token } }),
      401,
    );
    const again = await login('iss-a', 'demo1234');
    expect(
      (await app.inject({ url: '/api/v1/auth/me', headers: { authorization: bearer(again) } })).statusCode,
    ).toBe(200);
  });

  it('refresh gives a new working token with a later expiry', async () => {
    const first = await login('req-b', 'demo1234');
    // Two seconds later by the clock (JWT times are whole seconds): a new `iat`, so a different token.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2000);
    const res = await app
      .inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { authorization: bearer(first) } })
      .finally(() => vi.useRealTimers());
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().token).not.toBe(first.json().token);
    expect(Date.parse(res.json().expiresAt)).toBeGreaterThan(Date.parse(first.json().expiresAt));
    const me = await app.inject({ url: '/api/v1/auth/me', headers: { authorization: bearer(res) } });
    expect(me.json().username).toBe('req-b');
  });

  it('a deactivated account loses access at once', async () => {
    const id = await createStaff('clerk-leaving', 'Leaving-soon-2026');
    const token = bearer(await login('clerk-leaving', 'Leaving-soon-2026'));
    await database.db.update(staff).set({ active: false }).where(eq(staff.id, id));
    expectProblem(await app.inject({ url: '/api/v1/auth/me', headers: { authorization: token } }), 401);
  });

  it('a token in the query string is not a credential', async () => {
    const token = (await login('req-a', 'demo1234')).json().token;
    expectProblem(await app.inject({ url: `/api/v1/auth/me?access_token=${token}` }), 401);
  });
});

describe('rate limits', () => {
  it('answers 429 as a problem, with Retry-After, past the per-address limit', async () => {
    const limited = await buildTestApp(database, { rateLimitPerMinute: 3 });
    try {
      const hit = () =>
        limited.inject({ url: '/api/v1/deadline-preview?tier=1d', remoteAddress: '10.9.9.9' });
      for (let i = 0; i < 3; i++) expect((await hit()).statusCode).toBe(200);
      const res = await hit();
      expectProblem(res, 429);
      expect(res.headers['retry-after']).toBeDefined();
      // Another address has its own budget.
      const other = await limited.inject({
        url: '/api/v1/deadline-preview?tier=1d',
        remoteAddress: '10.9.9.10',
      });
      expect(other.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('limits login attempts from one address to 20 a minute', async () => {
    const from = address();
    const codes: number[] = [];
    for (let i = 0; i < 21; i++) codes.push((await login('nobody-at-all', `guess-${i}`, from)).statusCode);
    expect(codes.slice(0, 20).every((c) => c === 401)).toBe(true);
    expect(codes[20]).toBe(429);
  });

  it('X-Forwarded-For does not choose the address that rate limits and the audit log see', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'spoofer', password: 'x' },
      remoteAddress: '10.8.8.8',
      headers: { 'x-forwarded-for': '6.6.6.6' },
    });
    expect(res.statusCode).toBe(401);
    const rows = await database.db.select().from(auditLog).where(eq(auditLog.action, 'auth.login'));
    const mine = rows.filter((r) => (r.detail as { username?: string }).username === 'spoofer');
    expect(mine.map((r) => r.sourceIp)).toEqual(['10.8.8.8']);
  });
});

describe('HTTP hardening', () => {
  it('sends security headers (helmet) on answers and on problems', async () => {
    for (const url of ['/healthz', '/api/v1/verifications?box=inbox', '/no/such/page']) {
      const res = await app.inject({ url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['x-request-id']).toBeDefined();
    }
  });

  it('keeps CORS closed: no access-control-allow-origin for a foreign origin, preflight refused', async () => {
    const token = bearer(await login('req-a', 'demo1234'));
    const simple = await app.inject({
      url: '/api/v1/verifications?box=outbox',
      headers: { origin: 'https://evil.example', authorization: token },
    });
    expect(simple.statusCode).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    expect(simple.headers['access-control-allow-credentials']).toBeUndefined();

    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/verifications',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    expect(preflight.statusCode).toBeGreaterThanOrEqual(400);
  });

  it('answers an over-long or undecodable path with a problem, not a framework error', async () => {
    const token = bearer(await login('req-a', 'demo1234'));
    const long = await app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${'9'.repeat(700)}/register`,
      headers: { authorization: token },
      payload: {},
    });
    expectProblem(long, 400);
    expect(long.json().detail).toMatch(/路径参数过长/);
    const bad = await app.inject({
      url: '/api/v1/verifications/%E0%A4%A',
      headers: { authorization: token },
    });
    expect([400, 404]).toContain(bad.statusCode);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
