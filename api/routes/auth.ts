/** Login, logout, password change, token refresh and "who am I". */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { staffOf } from '../plugins/auth.ts';
import { Problem as ProblemError } from '../problem.ts';
import { errorResponses, Problem, StaffSchema } from '../schemas/common.ts';

const TokenResponse = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  staff: StaffSchema,
});

/** Login attempts a minute from one address (any usernames) and for one username (any addresses). */
export const LOGINS_PER_ADDRESS = 20;
export const LOGINS_PER_USERNAME = 20;

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Keyed on the username as typed (case-folded, like the lookup would be by a careful attacker), so
  // one account cannot be sprayed from many addresses. Same store as the other limits.
  const perUsername = app.createRateLimit({
    max: LOGINS_PER_USERNAME,
    timeWindow: '1 minute',
    keyGenerator: (req) =>
      `login-user:${String((req.body as { username?: unknown })?.username).toLowerCase()}`,
  });

  app.post(
    '/api/v1/auth/login',
    {
      // Always by address: a bearer token, genuine or not, must not give a login its own budget.
      config: {
        public: true,
        rateLimit: {
          max: LOGINS_PER_ADDRESS,
          timeWindow: '1 minute',
          keyGenerator: (req) => `login-ip:${req.ip}`,
        },
      },
      preHandler: async (req, reply) => {
        const limit = await perUsername(req);
        // `isAllowed` only means "on the allow list"; over the limit is `isExceeded`.
        if (limit.isAllowed || !limit.isExceeded) return;
        reply.header('retry-after', limit.ttlInSeconds);
        throw new ProblemError(
          429,
          '请求过于频繁',
          `该账号登录尝试过于频繁，请 ${limit.ttlInSeconds} 秒后再试`,
        );
      },
      schema: {
        tags: ['登录'],
        summary: '登录，取得访问令牌（30 分钟有效）',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: TokenResponse,
          400: Problem,
          401: Problem,
          403: Problem,
          415: Problem,
          429: Problem,
          500: Problem,
        },
      },
    },
    async (req) => app.auth.login(req.body.username, req.body.password, req.ip),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      schema: {
        tags: ['登录'],
        summary: '以有效令牌换取新令牌',
        security: [{ bearer: [] }],
        response: { 200: TokenResponse, ...errorResponses(403) },
      },
    },
    async (req) => app.auth.issueToken(staffOf(req).id),
  );

  app.post(
    '/api/v1/auth/logout',
    {
      schema: {
        tags: ['登录'],
        summary: '退出登录（本人所有令牌失效）',
        security: [{ bearer: [] }],
        response: { 204: Type.Null(), ...errorResponses() },
      },
    },
    async (req, reply) => {
      await app.auth.logout(staffOf(req).id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      schema: {
        tags: ['登录'],
        summary: '修改密码（至少 10 位，含字母和数字）',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            currentPassword: Type.String({ minLength: 1, maxLength: 200 }),
            newPassword: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: TokenResponse, ...errorResponses(415, 422) },
      },
    },
    async (req) => app.auth.changePassword(staffOf(req).id, req.body.currentPassword, req.body.newPassword),
  );

  app.get(
    '/api/v1/auth/me',
    {
      schema: {
        tags: ['登录'],
        summary: '当前登录人',
        security: [{ bearer: [] }],
        response: { 200: StaffSchema, ...errorResponses() },
      },
    },
    async (req) => staffOf(req),
  );
};
