/** Login, logout, password change, token refresh and "who am I". */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { staffOf } from '../plugins/auth.ts';
import { errorResponses, Problem, StaffSchema } from '../schemas/common.ts';

const TokenResponse = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  staff: StaffSchema,
});

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/v1/auth/login',
    {
      config: { public: true, rateLimit: { max: 20, timeWindow: '1 minute' } },
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
