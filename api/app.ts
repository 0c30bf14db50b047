/**
 * The API as a Fastify application: security headers, closed CORS, rate limits, body limits, OpenAPI,
 * problem+json errors, and the routes. Built from injected dependencies so tests build it per test and
 * use `inject`; `app/` decides where the dependencies come from.
 */

import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PayloadCodec } from '@temporalio/common';
import { Ajv, type AnySchema } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifySchema,
} from 'fastify';
import type { Logger } from 'pino';
import type { CalendarSource } from '../activities/calendar-source.ts';
import type { Notifier } from '../activities/case-activities.ts';
import type { ChannelNames } from '../activities/notification-channels.ts';
import { type CaseDeadline, deadlineWithReminders } from '../activities/opening.ts';
import type { Db } from '../db/client.ts';
import type { ContentCipher } from '../domain/content-cipher.ts';
import type { CryptoProfile } from '../domain/crypto-profile.ts';
import { BODY_LIMIT_BYTES, badInputAt, toProblem } from './errors.ts';
import { clientErrorHandler, unsupportedCharset } from './http-guards.ts';
import { isCalendarDate, isInstant } from './instant.ts';
import { authPlugin } from './plugins/auth.ts';
import { Problem, ProblemSchema } from './problem.ts';
import { adminCalendarRoutes } from './routes/admin-calendar.ts';
import { adminCalendarOfficialRoutes } from './routes/admin-calendar-official.ts';
import { adminCatalogRoutes } from './routes/admin-catalog.ts';
import { adminStaffRoutes } from './routes/admin-staff.ts';
import { adminUnitRoutes } from './routes/admin-units.ts';
import { answerReviewRoutes } from './routes/answer-reviews.ts';
import { attachmentRoutes } from './routes/attachments.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { batchRoutes } from './routes/batches.ts';
import { caseActionRoutes } from './routes/case-actions.ts';
import { caseRevealRoutes } from './routes/case-reveal.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { catalogChangeRoutes } from './routes/catalog-changes.ts';
import { codecRoutes } from './routes/codec.ts';
import { commitmentRoutes } from './routes/commitments.ts';
import { complaintRoutes } from './routes/complaints.ts';
import { deadlinePreviewRoutes } from './routes/deadline-preview.ts';
import { disputeRoutes } from './routes/disputes.ts';
import { escalationRoutes } from './routes/escalations.ts';
import { calendarMetricLines, healthRoutes, type ReadinessChecks } from './routes/health.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { notificationPreferenceRoutes } from './routes/notification-preferences.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { statsRoutes } from './routes/stats.ts';
import { verificationRoutes } from './routes/verifications.ts';
import { webRoutes } from './routes/web.ts';
import { Problem as ProblemRef } from './schemas/common.ts';
import { bindAuditKey } from './services/audit.ts';
import { type CaseGateway, withReadModel } from './services/case-gateway.ts';
import { findCase } from './services/case-reads.ts';
import { type CommitmentPeriods, DEFAULT_COMMITMENT_PERIODS } from './services/commitments.ts';
import { createLocalLiveEvents, type LiveEvents, liveEventHooks } from './services/live-events.ts';
import { type AppMetrics, countingGateway, createAppMetrics, statusClass } from './services/metrics.ts';

export interface ApiDeps {
  log: Logger;
  db: Db;
  gateway: CaseGateway;
  jwtSecret: string;
  /** Key of the subject ID hash (search by exact ID). */
  subjectKey: Buffer;
  /** HMAC key of the audit chain (AUDIT_KEY), kept outside the database; bound to `db` for recordAudit. */
  auditKey: Buffer;
  /** CRYPTO_PROFILE: `sm` MACs new audit rows with HMAC-SM3 (mac_version 3); HMAC-SHA-256 by default. */
  cryptoProfile?: CryptoProfile;
  /** Opens the sealed case content of the read model (PAYLOAD_KEY; domain/content-cipher.ts). */
  contentCipher: ContentCipher;
  calendar: CalendarSource;
  /**
   * A new case's first deadline, worked out before its start: the calendar's by default; the worker's
   * deadline activity must compute the same (DEV_SLA_SECONDS replaces both; app/system.ts).
   */
  caseDeadline?: CaseDeadline;
  /**
   * Names of the connectors this system has configured (activities/connectors.ts): a catalog item naming
   * one of them starts its cases with the automatic answer; naming another, its cases go to people.
   */
  connectors?: readonly string[];
  readiness: ReadinessChecks;
  /** Origins allowed by CORS; none by default (the web UI is served from the same origin). */
  corsOrigins?: string[];
  rateLimitPerMinute?: number;
  /** Where rate-limit counters live (@fastify/rate-limit store); per-process memory if absent. */
  rateLimitStore?: FastifyRateLimitStoreCtor;
  /** Live inbox events from the worker (see api/services/live-events.ts); in-process bus if absent. */
  events?: LiveEvents;
  /** The delivery channel beyond in-app and live (the webhook), for the notices the API writes itself. */
  notifier?: Notifier;
  /**
   * Whose X-Forwarded-For to believe (Fastify's `trustProxy`: true, or proxy addresses or CIDRs). Off by
   * default: trusting every proxy would let any client choose the address that rate limits and the audit
   * log see.
   */
  trustProxy?: boolean | string | string[];
  /** What "now" is for calendar warnings and previews; tests fix it. */
  clock?: () => Date;
  /** The Temporal payload codec, for the operators' codec endpoint (absent: that endpoint answers 503). */
  payloadCodec?: PayloadCodec;
  /** The process's metrics registry (api/services/metrics.ts); a registry of the app's own if absent. */
  metrics?: AppMetrics;
  /** METRICS_TOKEN: the bearer token `/metrics` on this port answers; without it `/metrics` here is refused. */
  metricsToken?: string;
  /** The configured notification robots (names only) and whether SMS is on (activities/notification-channels.ts). */
  notificationChannels?: ChannelNames;
  /** 告知承诺 periods (COMMITMENT_CHECK_WORKING_DAYS, COMMITMENT_BAR_DAYS); DEFAULT_COMMITMENT_PERIODS if absent. */
  commitmentPeriods?: CommitmentPeriods;
  /** CATALOG_DECISION_DAYS: working days the office has to decide a list-adjustment request (default 5). */
  catalogDecisionDays?: number;
}

export type App = FastifyInstance;

/**
 * The person a bearer token names, only if its signature and expiry check out: the rate limit runs
 * before the auth hook, and an unverified `sub` would let anyone pick a fresh budget per request or
 * spend a colleague's. Revocation (logout) is the auth hook's business; a revoked token of one's own
 * still only spends one's own budget.
 */
function verifiedSubject(app: FastifyInstance, header: string | undefined): string | undefined {
  if (!header?.startsWith('Bearer ')) return undefined;
  try {
    const { sub } = app.jwt.verify<{ sub?: unknown }>(header.slice(7));
    return typeof sub === 'string' && sub.length <= 64 ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** Text PostgreSQL cannot store (text and jsonb refuse NUL and unpaired UTF-16 surrogates). */
type HttpPart = 'body' | 'querystring' | 'params' | 'headers';

function buildValidators(externalSchemas: Record<string, unknown>) {
  const make = (coerceTypes: false | 'array') => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    // Only what `Date` represents exactly (no leap second, no 02-30, years 1–9999): see api/instant.ts.
    ajv.addFormat('date-time', { type: 'string', validate: isInstant });
    ajv.addFormat('date', { type: 'string', validate: isCalendarDate });
    for (const schema of Object.values(externalSchemas)) ajv.addSchema(schema as AnySchema);
    return ajv;
  };
  const strict = make(false);
  const coercing = make('array');
  return ({ schema, httpPart }: { schema: AnySchema & { $id?: string }; httpPart?: HttpPart | string }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    return (schema.$id ? ajv.getSchema(schema.$id) : undefined) ?? ajv.compile(schema);
  };
}

export async function buildApp(deps: ApiDeps): Promise<App> {
  bindAuditKey(deps.db, deps.auditKey, deps.cryptoProfile);
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // A request whose headers and body have not all arrived in this time is cut off (Node answers 408, as a
    // problem: http-guards): a slow client cannot hold a connection open. How long a handler may wait on
    // Temporal is the case gateway's own deadline.
    requestTimeout: 30_000,
    // Long enough for every ID, so an over-long one is a 400 from its schema.
    routerOptions: { maxParamLength: 600 },
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' && /^[\w-]{1,64}$/.test(req.headers['x-request-id'])
        ? req.headers['x-request-id']
        : crypto.randomUUID(),
    requestIdHeader: false,
    // Errors the router raises before any route runs (an over-long or undecodable path): problems too.
    frameworkErrors: (err, req, reply: FastifyReply) => {
      const problem =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH' || err.code === 'FST_ERR_BAD_URL'
          ? new Problem(400, '请求有误', '请求地址无效：路径参数过长或编码有误')
          : toProblem(err);
      return reply
        .code(problem.status)
        .type('application/problem+json')
        .send(problem.body(req.url.split('?')[0]?.slice(0, 200)));
    },
    trustProxy: deps.trustProxy ?? false,
    // Oversized headers (431) and the like come from Node's parser, before Fastify: problems too.
    clientErrorHandler,
    // Fastify's type says the compiler gets a bare schema; at run time it gets { schema, httpPart, … }.
    schemaController: { compilersFactory: { buildValidator: buildValidators as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: without this, a text/plain body would reach the handlers as a string (400 instead of 415).
  app.removeContentTypeParser('text/plain');

  // Every route's documented answers include what the framework itself can answer for it, so the
  // OpenAPI document (and a client generated from it) knows every status: 429 from the rate limit, 400,
  // 413 and 415 for a body, 400 for parameters, 401 and 403 (password change pending) behind login.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as
      | (FastifySchema & { hide?: boolean; response?: Record<string, unknown> })
      | undefined;
    if (!schema || schema.hide) return;
    schema.response ??= {};
    const responses = schema.response;
    const add = (...codes: number[]) => {
      for (const code of codes) if (!(String(code) in responses)) responses[code] = ProblemRef;
    };
    add(429);
    if (schema.body) add(400, 413, 415);
    if (schema.querystring || schema.params || schema.headers) add(400);
    if (route.url.startsWith('/api/') && !route.config?.public) add(401, 403);
  });

  // Before schema validation: what PostgreSQL cannot store must not start a case whose projection would
  // then fail on every retry.
  app.addHook('preValidation', async (req) => {
    const found =
      badInputAt(req.params, '/params') ??
      badInputAt(req.query, '/querystring') ??
      badInputAt(req.body, '/body');
    if (found)
      throw new Problem(400, '请求有误', `请求内容无法受理：${found.pointer} ${found.detail}`, [found]);
  });

  // Before the body is parsed (a preParsing hook runs after the route's content-type parser is chosen
  // but before it reads): a body in a charset we do not decode is refused, not misread as UTF-8.
  app.addHook('preParsing', async (req) => {
    const problem = unsupportedCharset(req.headers['content-type']);
    if (problem) throw problem;
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  // Answer times by route pattern (never the raw URL: IDs would make a series per case).
  const metrics = deps.metrics ?? createAppMetrics();
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status_class: statusClass(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
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
    // Applied by the hook below rather than per route: a route's own hooks run after the auth hook, so a
    // request with a bad token would be refused unlimited, and uncounted.
    global: false,
    max: deps.rateLimitPerMinute ?? 600,
    timeWindow: '1 minute',
    // Per person when a genuine token is presented (one user cannot starve a shared office address),
    // per address otherwise (no token, or one whose signature fails).
    keyGenerator: (req) => {
      const sub = verifiedSubject(app, req.headers.authorization);
      return sub ? `staff:${sub}` : `ip:${req.ip}`;
    },
    // Per-process memory unless a shared store is given (several API processes behind one address).
    // A shared store lives in the database: when it cannot count (database down), requests go through
    // rather than fail, so /healthz and /readyz still answer and the outage shows as 503 from /readyz.
    ...(deps.rateLimitStore ? { store: deps.rateLimitStore, skipOnError: true } : {}),
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(
        new Problem(429, '请求过于频繁', `请求过于频繁，请 ${Math.ceil(ctx.ttl / 1000)} 秒后再试`),
        { statusCode: 429 },
      ),
  });
  // Before the auth hook (hooks run in the order they are added). Routes with their own limit (login)
  // get it from the plugin's route hook instead.
  const globalLimit = app.rateLimit();
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.rateLimit) return;
    await globalLimit.call(app, req, reply);
  });
  await app.register(swagger, {
    // Shared schemas keep their names in components.schemas (`Problem`, not `def-0`).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
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
  const clock = deps.clock ?? (() => new Date());
  await app.register(healthRoutes, { checks: deps.readiness, calendar: deps.calendar, clock });
  metrics.setExtra('calendar', () => calendarMetricLines(deps.calendar, clock));
  await app.register(metricsRoutes, { db: deps.db, metrics, token: deps.metricsToken });
  await app.register(deadlinePreviewRoutes, { calendar: deps.calendar, clock });
  await app.register(authRoutes);
  const gateway = withReadModel(
    countingGateway(deps.gateway, metrics),
    async (id) => (await findCase(deps.db, id))?.status,
  );
  const events = deps.events ?? createLocalLiveEvents();
  const caseDeps = {
    notices: liveEventHooks(events, deps.notifier).notifier,
    db: deps.db,
    gateway,
    subjectKey: deps.subjectKey,
    contentCipher: deps.contentCipher,
    caseDeadline: deps.caseDeadline ?? ((input) => deadlineWithReminders(deps.calendar, input)),
    connectors: new Set(deps.connectors ?? []),
  };
  await app.register(verificationRoutes, caseDeps);
  await app.register(caseActionRoutes, caseDeps);
  await app.register(caseRevealRoutes, caseDeps);
  await app.register(escalationRoutes, caseDeps);
  await app.register(disputeRoutes, caseDeps);
  await app.register(catalogRoutes, { db: deps.db });
  await app.register(adminUnitRoutes, { db: deps.db });
  await app.register(adminStaffRoutes, caseDeps);
  await app.register(adminCatalogRoutes, { db: deps.db });
  await app.register(adminCalendarRoutes, caseDeps);
  await app.register(adminCalendarOfficialRoutes, caseDeps);
  await app.register(attachmentRoutes, { db: deps.db });
  await app.register(notificationRoutes, { db: deps.db, events });
  await app.register(auditRoutes, { db: deps.db });
  await app.register(ledgerRoutes, { db: deps.db });
  await app.register(statsRoutes, { db: deps.db, clock });
  await app.register(codecRoutes, { db: deps.db, jwtSecret: deps.jwtSecret, codec: deps.payloadCodec });
  await app.register(notificationPreferenceRoutes, {
    db: deps.db,
    channels: deps.notificationChannels ?? { dingtalk: [], wecom: [], sms: false },
    clock,
  });
  await app.register(batchRoutes, caseDeps);
  await app.register(commitmentRoutes, {
    ...caseDeps,
    periods: deps.commitmentPeriods ?? DEFAULT_COMMITMENT_PERIODS,
    clock,
  });
  await app.register(complaintRoutes, caseDeps);
  await app.register(catalogChangeRoutes, { ...caseDeps, decisionDays: deps.catalogDecisionDays });
  await app.register(answerReviewRoutes, { ...caseDeps, calendar: deps.calendar });
  await app.register(webRoutes);
  return app;
}
