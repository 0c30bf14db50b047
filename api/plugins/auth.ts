/**
 * Staff authentication: short-lived JWTs (30 minutes, refreshable), argon2id password hashes, lock-out
 * after repeated failures, a password policy, forced change of an issued password, and logout that
 * revokes every token of the person (session version). Every `/api/v1` route needs a valid token unless
 * it is marked `config: { public: true }`; the person, unit and role are read from the database on each
 * request, so a deactivated account or a changed role takes effect at once.
 */
import jwt from '@fastify/jwt';
import { hash, verify } from '@node-rs/argon2';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../db/client.ts';
import { staff, units } from '../../db/schema.ts';
import { forbidden, Problem, unauthorized } from '../problem.ts';
import { recordAudit } from '../services/audit.ts';
import { isCommonPassword } from './common-passwords.ts';

/** `reviewer`: the city government's reviewer (市政府督查), read-only on escalations (REVIEWER_ROUTES). */
export type StaffRole = 'liaison' | 'agent' | 'supervisor' | 'admin' | 'reviewer';

export interface StaffContext {
  id: string;
  username: string;
  name: string;
  unitCode: string;
  unitKind: 'department' | 'office';
  role: StaffRole;
  partnerId: string | null;
  isDemo: boolean;
  mustChangePassword: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffContext;
  }
  interface FastifyContextConfig {
    /** No login needed (health, deadline preview, login itself). */
    public?: boolean;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; sv: number };
    user: { sub: string; sv: number };
  }
}

export const TOKEN_TTL_SECONDS = 30 * 60;
export const MAX_FAILED_LOGINS = 5;
export const LOCK_MINUTES = 15;
/** Allowed while a password change is pending. */
const PASSWORD_CHANGE_ROUTES = new Set(['/api/v1/auth/password', '/api/v1/auth/logout', '/api/v1/auth/me']);

/**
 * 10+ characters with letters and digits; not the username; not on the list of common passwords.
 * Returns the reason, or undefined if fine.
 */
export function passwordPolicyViolation(password: string, username: string): string | undefined {
  if (password.length < 10) return '密码至少 10 位';
  if (!/[A-Za-z]/.test(password) || !/\d/.test(password)) return '密码须同时包含字母和数字';
  if (password.toLowerCase().includes(username.toLowerCase())) return '密码不能包含用户名';
  if (isCommonPassword(password)) return '密码过于常见（在常用密码清单中），容易被猜中，请换一个';
  return undefined;
}

export const hashPassword = (password: string): Promise<string> => hash(password);

/** A hash to verify against when the username does not exist, so timing does not reveal it. */
let dummyHash: Promise<string> | undefined;

export async function loadStaffContext(
  db: Db,
  staffId: string,
): Promise<(StaffContext & { sessionVersion: number; active: boolean }) | undefined> {
  const [row] = await db
    .select({
      id: staff.id,
      username: staff.username,
      name: staff.displayName,
      unitCode: staff.unitCode,
      unitKind: units.kind,
      role: staff.role,
      partnerId: staff.partnerId,
      isDemo: staff.isDemo,
      mustChangePassword: staff.mustChangePassword,
      sessionVersion: staff.sessionVersion,
      active: staff.active,
    })
    .from(staff)
    .innerJoin(units, eq(units.code, staff.unitCode))
    .where(eq(staff.id, staffId));
  return row;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  staff: StaffContext;
}

export interface AuthService {
  login(username: string, password: string, ip: string): Promise<LoginResult>;
  issueToken(staffId: string): Promise<LoginResult>;
  logout(staffId: string): Promise<void>;
  changePassword(staffId: string, current: string, next: string): Promise<LoginResult>;
}

/** The one answer to a wrong username or password, whether the account exists, is locked or not. */
const badCredentials = () => new Problem(401, '登录失败', '用户名或密码错误');

/**
 * One more failed login, in one statement: parallel guesses each add one (a read-then-write would let
 * ten simultaneous guesses count as one or two), and the statement that reaches the maximum sets the
 * lock. A lock that has run out starts the count again. Returns the count after this failure.
 */
async function countFailure(db: Db, staffId: string): Promise<number> {
  const now = new Date();
  const until = new Date(now.getTime() + LOCK_MINUTES * 60000).toISOString();
  const lapsed = sql`(${staff.lockedUntil} is not null and ${staff.lockedUntil} <= ${now.toISOString()}::timestamptz)`;
  const next = sql`(case when ${lapsed} then 1 else ${staff.failedLogins} + 1 end)`;
  const [row] = await db
    .update(staff)
    .set({
      failedLogins: next,
      lockedUntil: sql`(case when ${next} >= ${MAX_FAILED_LOGINS} then ${until}::timestamptz when ${lapsed} then null else ${staff.lockedUntil} end)`,
    })
    .where(eq(staff.id, staffId))
    .returning({ failures: staff.failedLogins });
  return row?.failures ?? 0;
}

function createAuthService(app: FastifyInstance, db: Db): AuthService {
  const issueToken = async (staffId: string): Promise<LoginResult> => {
    const ctx = await loadStaffContext(db, staffId);
    if (!ctx) throw unauthorized();
    const { sessionVersion, active: _active, ...publicCtx } = ctx;
    const token = app.jwt.sign({ sub: ctx.id, sv: sessionVersion }, { expiresIn: TOKEN_TTL_SECONDS });
    return {
      token,
      expiresAt: new Date(Date.now() + TOKEN_TTL_SECONDS * 1000).toISOString(),
      staff: publicCtx,
    };
  };

  return {
    issueToken,
    async login(username, password, ip) {
      const [row] = await db.select().from(staff).where(eq(staff.username, username));
      if (!row?.active) {
        dummyHash ??= hash('not-a-real-password-0');
        await verify(await dummyHash, password).catch(() => false);
        await recordAudit(db, {
          action: 'auth.login',
          outcome: 'denied',
          sourceIp: ip,
          detail: { username, reason: 'unknown_user' },
        });
        throw badCredentials();
      }
      // The hash is checked even on a locked account: skipping it would tell by timing what the
      // answer below no longer tells by status.
      const passwordOk = await verify(row.passwordHash, password).catch(() => false);
      if (row.lockedUntil && row.lockedUntil.getTime() > Date.now()) {
        await recordAudit(db, {
          actorId: row.id,
          actorUnit: row.unitCode,
          action: 'auth.login',
          outcome: 'denied',
          sourceIp: ip,
          detail: { reason: 'locked' },
        });
        // Only someone who knows the password learns of the lock; a guess hears what an unknown
        // username hears, so the lock is no oracle for which accounts exist.
        if (!passwordOk) throw badCredentials();
        const minutes = Math.ceil((row.lockedUntil.getTime() - Date.now()) / 60000);
        throw new Problem(
          403,
          '账号已锁定',
          `连续登录失败次数过多，账号已锁定，请 ${minutes} 分钟后再试或联系本单位联络员`,
          undefined,
          'account_locked',
        );
      }
      if (!passwordOk) {
        const failures = await countFailure(db, row.id);
        await recordAudit(db, {
          actorId: row.id,
          actorUnit: row.unitCode,
          action: 'auth.login',
          outcome: 'denied',
          sourceIp: ip,
          detail: { reason: 'bad_password', failures, locked: failures >= MAX_FAILED_LOGINS },
        });
        throw badCredentials();
      }
      await db.update(staff).set({ failedLogins: 0, lockedUntil: null }).where(eq(staff.id, row.id));
      await recordAudit(db, {
        actorId: row.id,
        actorUnit: row.unitCode,
        action: 'auth.login',
        outcome: 'allowed',
        sourceIp: ip,
      });
      return issueToken(row.id);
    },
    async logout(staffId) {
      await db
        .update(staff)
        .set({ sessionVersion: sql`${staff.sessionVersion} + 1` })
        .where(eq(staff.id, staffId));
    },
    async changePassword(staffId, current, next) {
      const [row] = await db.select().from(staff).where(eq(staff.id, staffId));
      if (!row || !(await verify(row.passwordHash, current).catch(() => false))) {
        throw new Problem(422, '内容不符合要求', '当前密码不正确', [
          { pointer: '/body/currentPassword', detail: '当前密码不正确' },
        ]);
      }
      const violation = passwordPolicyViolation(next, row.username);
      if (violation)
        throw new Problem(422, '内容不符合要求', violation, [
          { pointer: '/body/newPassword', detail: violation },
        ]);
      if (next === current)
        throw new Problem(422, '内容不符合要求', '新密码不能与当前密码相同', [
          { pointer: '/body/newPassword', detail: '与当前密码相同' },
        ]);
      await db
        .update(staff)
        .set({
          passwordHash: await hashPassword(next),
          mustChangePassword: false,
          sessionVersion: sql`${staff.sessionVersion} + 1`,
        })
        .where(eq(staff.id, staffId));
      return issueToken(staffId);
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
}

/** The authenticated person; routes that are not public can rely on it. */
export function staffOf(req: FastifyRequest): StaffContext {
  if (!req.staff) throw unauthorized();
  return req.staff;
}

export function requireRole(req: FastifyRequest, ...roles: StaffRole[]): StaffContext {
  const s = staffOf(req);
  if (!roles.includes(s.role)) throw forbidden('您的角色无权执行此操作');
  return s;
}

/**
 * Checks the request's login token and sets `req.staff`, or throws 401 (or 403 while a password change
 * is pending). The auth hook runs it for every non-public `/api` route; a public route that also takes
 * other credentials (the codec) runs it itself.
 */
export async function authenticate(db: Db, req: FastifyRequest): Promise<StaffContext> {
  try {
    await req.jwtVerify();
  } catch {
    throw unauthorized(req.headers.authorization ? '登录已过期或凭证无效，请重新登录' : '请先登录');
  }
  const ctx = await loadStaffContext(db, req.user.sub);
  if (!ctx?.active || ctx.sessionVersion !== req.user.sv) throw unauthorized('登录已失效，请重新登录');
  const { sessionVersion: _sv, active: _a, ...publicCtx } = ctx;
  req.staff = publicCtx;
  if (ctx.mustChangePassword && !PASSWORD_CHANGE_ROUTES.has(req.routeOptions.url ?? '')) {
    throw new Problem(
      403,
      '请先修改密码',
      '首次登录须修改初始密码后才能继续使用',
      undefined,
      'password_change_required',
    );
  }
  return publicCtx;
}

/**
 * Everything the city government's reviewer may call: their own session, the escalation list and an
 * escalation's records, unit names and their own notifications. Every other route refuses the role (403,
 * audited) before its handler runs, so no route has to remember the role, and none shows case content.
 */
export const REVIEWER_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/v1/auth/me',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/logout',
  'POST /api/v1/auth/password',
  'GET /api/v1/escalations',
  'GET /api/v1/escalations/:id',
  'GET /api/v1/units',
  'GET /api/v1/notifications',
  'POST /api/v1/notifications/:id/read',
  'POST /api/v1/stream/ticket',
]);

async function refuseReviewerOutsideRoutes(db: Db, req: FastifyRequest, who: StaffContext): Promise<void> {
  if (who.role !== 'reviewer') return;
  const route = `${req.method} ${req.routeOptions.url ?? ''}`;
  if (REVIEWER_ROUTES.has(route)) return;
  await recordAudit(db, {
    actorId: who.id,
    actorUnit: who.unitCode,
    action: 'access.denied',
    outcome: 'denied',
    sourceIp: req.ip,
    detail: { route, role: who.role },
  });
  throw forbidden('市政府督查人员只能查阅督办事项及其记录');
}

export const authPlugin = fp<{ db: Db; secret: string }>(
  async (app, { db, secret }) => {
    await app.register(jwt, { secret, verify: { algorithms: ['HS256'] }, sign: { algorithm: 'HS256' } });
    app.decorate('auth', createAuthService(app, db));

    app.addHook('onRequest', async (req) => {
      if (!req.url.startsWith('/api/') || req.routeOptions.config?.public || !req.routeOptions.url) return;
      await refuseReviewerOutsideRoutes(db, req, await authenticate(db, req));
    });
  },
  { name: 'auth' },
);
