/**
 * `GET /metrics` on the API's own port, for the operators' Prometheus (api/services/metrics.ts). Never
 * public: it answers only a bearer token equal to METRICS_TOKEN (Prometheus `authorization.credentials`).
 * Without a configured token it refuses everyone (403) — the metrics are then served only by the listener
 * of METRICS_PORT (app/metrics-server.ts), on loopback unless METRICS_HOST says otherwise. A staff login
 * token is not a metrics token. Every refusal is audited.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '../../db/client.ts';
import { Problem } from '../problem.ts';
import { recordAudit } from '../services/audit.ts';
import { type AppMetrics, METRICS_CONTENT_TYPE, tokenMatches } from '../services/metrics.ts';

export const metricsRoutes: FastifyPluginAsync<{ db: Db; metrics: AppMetrics; token?: string }> = async (
  app,
  { db, metrics, token },
) => {
  app.get('/metrics', { schema: { hide: true }, config: { public: true } }, async (req, reply) => {
    if (!token || !tokenMatches(req.headers.authorization, token)) {
      const reason = !token ? 'not_enabled' : req.headers.authorization ? 'bad_token' : 'no_token';
      await recordAudit(db, {
        action: 'metrics.read',
        outcome: 'denied',
        sourceIp: req.ip,
        detail: { reason },
      });
      const problem = token
        ? new Problem(401, '未授权', '读取运行指标需要携带 METRICS_TOKEN 令牌（Authorization: Bearer …）')
        : new Problem(
            403,
            '无权访问',
            '运行指标不在此端口公开：请在 METRICS_PORT 端口读取，或配置 METRICS_TOKEN 后携带令牌访问',
          );
      if (token) reply.header('www-authenticate', 'Bearer realm="metrics"');
      return reply.code(problem.status).type('application/problem+json').send(problem.body('/metrics'));
    }
    return reply.type(METRICS_CONTENT_TYPE).send(await metrics.render());
  });
};
