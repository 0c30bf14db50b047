/**
 * The API as a Fastify application: security headers, closed CORS, rate limits, body limits, OpenAPI,
 * problem+json errors, and the routes. Built from injected dependencies so tests build it per test and
 * use `inject`; `app/` decides where the dependencies come from.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CalendarSource } from '../activities/calendar-source.ts';
import type { Db } from '../db/client.ts';
import { authPlugin } from './plugins/auth.ts';
import { Problem, ProblemSchema } from './problem.ts';
import { authRoutes } from './routes/auth.ts';
import { caseActionRoutes } from './routes/case-actions.ts';
import { deadlinePreviewRoutes } from './routes/deadline-preview.ts';
import { escalationRoutes } from './routes/escalations.ts';
import { healthRoutes, type ReadinessChecks } from './routes/health.ts';
import { verificationRoutes } from './routes/verifications.ts';
import type { CaseGateway } from './services/case-gateway.ts';

export interface ApiDeps {
  log: Logger;
  db: Db;
  gateway: CaseGateway;
  jwtSecret: string;
  /** Key of the subject ID hash (search by exact ID). */
  subjectKey: Buffer;
  calendar: CalendarSource;
  readiness: ReadinessChecks;
  /** Origins allowed by CORS; none by default (the web UI is served from the same origin). */
  corsOrigins?: string[];
  rateLimitPerMinute?: number;
}

export const BODY_LIMIT_BYTES = 1024 * 1024;

function validationPointer(
  context: string | undefined,
  v: { instancePath: string; keyword: string; params: Record<string, unknown> },
) {
  const base = `/${context ?? 'body'}${v.instancePath}`;
  if (v.keyword === 'required') return `${base}/${String(v.params.missingProperty)}`;
  if (v.keyword === 'additionalProperties') return `${base}/${String(v.params.additionalProperty)}`;
  return base;
}

const VALIDATION_MESSAGES: Record<string, string> = {
  required: '缺少必填字段',
  additionalProperties: '不允许的字段',
  type: '类型不正确',
  format: '格式不正确',
  minLength: '内容过短',
  maxLength: '内容过长',
  enum: '取值不在允许范围内',
  const: '取值不在允许范围内',
  anyOf: '取值不在允许范围内',
  pattern: '格式不正确',
};

/** Maps any error to a problem; 5xx internals are logged, never shown. */
export function toProblem(
  err: FastifyError & { validation?: unknown[]; validationContext?: string },
): Problem {
  if (err instanceof Problem) return err;
  if (Array.isArray(err.validation)) {
    const errors = (
      err.validation as {
        instancePath: string;
        keyword: string;
        params: Record<string, unknown>;
        message?: string;
      }[]
    ).map((v) => ({
      pointer: validationPointer(err.validationContext, v),
      detail: VALIDATION_MESSAGES[v.keyword] ?? v.message ?? '不符合要求',
    }));
    return new Problem(
      400,
      '请求有误',
      `请求参数不符合要求：${errors.map((e) => `${e.pointer} ${e.detail}`).join('；')}`,
      errors,
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem(413, '请求内容过大', `请求内容超过 ${BODY_LIMIT_BYTES / 1024 / 1024} MB 的上限`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem(415, '不支持的内容类型', '请以 application/json 提交');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem(400, '请求有误', '请求体为空，请提交 JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem(400, '请求有误', '请求体不是有效的 JSON');
  }
  const status = err.statusCode ?? 500;
  if (status === 429) return new Problem(429, '请求过于频繁', '请求过于频繁，请稍后再试');
  if (status >= 400 && status < 500) {
    return new Problem(
      status,
      '请求有误',
      err instanceof SyntaxError ? '请求体不是有效的 JSON' : '请求无法处理，请检查后重试',
    );
  }
  return new Problem(500, '服务器内部错误', '服务器内部错误，请稍后再试；如持续出现请联系管理员');
}

export type App = FastifyInstance;

export async function buildApp(deps: ApiDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' && /^[\w-]{1,64}$/.test(req.headers['x-request-id'])
        ? req.headers['x-request-id']
        : crypto.randomUUID(),
    requestIdHeader: false,
    trustProxy: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const problem = toProblem(err);
    if (problem.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ status: problem.status, detail: problem.detail }, 'request refused');
    return reply
      .code(problem.status)
      .type('application/problem+json')
      .send(problem.body(req.url.split('?')[0]));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(new Problem(404, '未找到', `没有这个地址：${req.method} ${req.url.split('?')[0]}`).body()),
  );

  await app.register(helmet, { contentSecurityPolicy: false });
  await app.register(cors, { origin: deps.corsOrigins?.length ? deps.corsOrigins : false });
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute ?? 600,
    timeWindow: '1 minute',
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(
        new Problem(429, '请求过于频繁', `请求过于频繁，请 ${Math.ceil(ctx.ttl / 1000)} 秒后再试`),
        { statusCode: 429 },
      ),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: '协查核验 API', version: '1.0.0', description: '无证明城市 部门间协查核验引擎' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  app.addSchema(ProblemSchema);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(authPlugin, { db: deps.db, secret: deps.jwtSecret });
  await app.register(healthRoutes, { checks: deps.readiness });
  await app.register(deadlinePreviewRoutes, { calendar: deps.calendar });
  await app.register(authRoutes);
  const caseDeps = { db: deps.db, gateway: deps.gateway, subjectKey: deps.subjectKey };
  await app.register(verificationRoutes, caseDeps);
  await app.register(caseActionRoutes, caseDeps);
  await app.register(escalationRoutes, caseDeps);
  return app;
}
