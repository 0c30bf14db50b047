/**
 * Issue 9: rate limits that a forged token cannot steer, a login limit per address and per username,
 * a lock-out that parallel guesses cannot outrun, no account-existence oracle in the lock-out, and the
 * refusal of common passwords. No case is touched, so the app runs without Temporal on PGlite.
 */
import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps, App } from '../../api/app.ts';
import { hashPassword, MAX_FAILED_LOGINS, passwordPolicyViolation } from '../../api/plugins/auth.ts';
import { staff } from '../../db/schema.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';

let database: TestDatabase;
let app: App;
let nextAddress = 10;
const address = () => `10.1.0.${nextAddress++}`;

const buildTestApp = (extra: Partial<ApiDeps> = {}) => buildAppWithoutTemporal(database, extra);

function expectProblem(res: LightMyRequestResponse, status: number) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  return res.json();
}

/** An unsigned token (alg none) naming whoever the caller likes. */
const forged = (sub: string) =>
  `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
    JSON.stringify({ sub, sv: 0, iat: Math.floor(Date.now() / 1000) }),
  ).toString('base64url')}.`;

const login = (
  username: string,
  password: string,
  remoteAddress = address(),
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    remoteAddress,
    headers,
  });

async function createStaff(username: string, password: string) {
  const id = `stf-${username}`;
  await database.db.insert(staff).values({
    id,
    username,
    displayName: '测试员',
    unitCode: 'ZB-RS',
    role: 'agent',
    passwordHash: await hashPassword(password),
  });
  return id;
}

beforeAll(async () => {
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  database = await target.open();
  app = await buildTestApp();
});
afterAll(async () => {
  await app?.close();
  await database?.dispose();
});

describe('rate limits key on verified identities only', () => {
  it('a forged token with a new subject each time does not reopen the login limit of an address', async () => {
    const from = address();
    for (let i = 0; i < 20; i++) expect((await login('nobody-x', `guess-${i}`, from)).statusCode).toBe(401);
    expectProblem(await login('nobody-x', 'guess-20', from), 429);
    for (let i = 0; i < 3; i++) {
      const res = await login('nobody-x', `guess-forged-${i}`, from, { authorization: forged(`fake-${i}`) });
      expectProblem(res, 429);
    }
  });

  it("a forged token naming a colleague does not spend that colleague's budget", async () => {
    const limited = await buildTestApp({ rateLimitPerMinute: 5 });
    try {
      const res = await limited.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'iss-a', password: 'demo1234' },
        remoteAddress: '10.1.9.1',
      });
      const token = `Bearer ${res.json().token}`;
      // A public route (no auth hook to stop it) and a protected one.
      for (let i = 0; i < 10; i++)
        await limited.inject({
          url: i % 2 ? '/api/v1/deadline-preview?tier=1d' : '/api/v1/auth/me',
          headers: { authorization: forged('stf-iss-a') },
          remoteAddress: '10.1.9.2',
        });
      const mine = await limited.inject({
        url: '/api/v1/auth/me',
        headers: { authorization: token },
        remoteAddress: '10.1.9.3',
      });
      expect(mine.statusCode, mine.body).toBe(200);
      // The forger's own address is what ran out.
      expectProblem(
        await limited.inject({
          url: '/api/v1/auth/me',
          headers: { authorization: forged('x') },
          remoteAddress: '10.1.9.2',
        }),
        429,
      );
    } finally {
      await limited.close();
    }
  });

  it('limits login attempts for one username across many addresses', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 21; i++)
      codes.push((await login('sprayed-user', `guess-${i}`, address())).statusCode);
    expect(codes.slice(0, 20).every((c) => c === 401)).toBe(true);
    expect(codes[20]).toBe(429);
    // Case does not make a new username.
    expectProblem(await login('SPRAYED-user', 'guess-x', address()), 429);
  });
});

describe('lock-out', () => {
  it('counts every one of parallel wrong guesses and locks the account', async () => {
    const id = await createStaff('clerk-par', 'Correct-horse-2026');
    const from = address();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login('clerk-par', `wrong-guess-${i}`, from)),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(401));
    const [row] = await database.db.select().from(staff).where(eq(staff.id, id));
    expect(row?.lockedUntil?.getTime()).toBeGreaterThan(Date.now());
    expect(row?.failedLogins).toBeGreaterThanOrEqual(MAX_FAILED_LOGINS);
    expectProblem(await login('clerk-par', 'Correct-horse-2026', address()), 403);
  });

  it('a wrong password on a locked account answers exactly like an unknown user', async () => {
    await createStaff('clerk-orc', 'Correct-horse-2026');
    const from = address();
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await login('clerk-orc', `wrong-${i}`, from);
    const locked = await login('clerk-orc', 'wrong-again-1', address());
    const unknown = await login('clerk-nobody', 'wrong-again-1', address());
    expect(locked.statusCode).toBe(unknown.statusCode);
    const strip = (r: LightMyRequestResponse) => ({ ...r.json(), instance: undefined });
    expect(strip(locked)).toEqual(strip(unknown));
    // Also the attempt that set the lock says nothing an unknown user would not hear.
    await createStaff('clerk-orc2', 'Correct-horse-2026');
    const replies = [];
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) replies.push(await login('clerk-orc2', `wrong-${i}`, from));
    for (const r of replies) expect(strip(r)).toEqual(strip(unknown));
  });
});

describe('common passwords', () => {
  it('refuses well-known passwords, whatever their case, and says why', () => {
    for (const pw of [
      'password123',
      'Password123',
      'PASSWORD123',
      'woaini1314520',
      'qwerty123456',
      'a1234567890',
      'abc1234567',
    ])
      expect(passwordPolicyViolation(pw, 'zhang'), pw).toMatch(/常见|常用/);
    expect(passwordPolicyViolation('Tea-garden-2026', 'zhang')).toBeUndefined();
  });

  it('a password change to a common password is a 422 naming the field', async () => {
    await createStaff('clerk-cp', 'Correct-horse-2026');
    const token = `Bearer ${(await login('clerk-cp', 'Correct-horse-2026')).json().token}`;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: { authorization: token },
      payload: { currentPassword: 'Correct-horse-2026', newPassword: 'password123' },
      remoteAddress: address(),
    });
    const body = expectProblem(res, 422);
    expect(body.errors[0].pointer).toBe('/body/newPassword');
    expect(body.detail).toMatch(/常见|常用/);
  });
});
