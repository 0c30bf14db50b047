/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: Temporal and the database are
 * reachable and every migration is applied). Not ready answers 503 with the reasons.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Problem } from '../schemas/common.ts';

export interface ReadinessChecks {
  database(): Promise<void>;
  pendingMigrations(): Promise<number>;
  temporal(): Promise<void>;
}

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Record(Type.String(), Type.String()),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{ checks: ReadinessChecks }> = async (
  app,
  { checks },
) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['运维'],
        summary: '进程存活',
        response: { 200: Type.Object({ status: Type.Literal('ok') }), 429: Problem },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['运维'],
        summary: '依赖就绪（Temporal、数据库、迁移）',
        response: { 200: Ready, 503: Ready, 429: Problem },
      },
    },
    async (_req, reply) => {
      const results: Record<string, string> = {};
      const run = async (name: string, fn: () => Promise<string>) => {
        try {
          results[name] = await fn();
        } catch (err) {
          results[name] = `unreachable: ${(err as Error).message}`.slice(0, 200);
        }
      };
      await Promise.all([
        run('database', async () => {
          await checks.database();
          return 'ok';
        }),
        run('migrations', async () => {
          const pending = await checks.pendingMigrations();
          return pending === 0 ? 'ok' : `${pending} pending`;
        }),
        run('temporal', async () => {
          await checks.temporal();
          return 'ok';
        }),
      ]);
      const ready = Object.values(results).every((v) => v === 'ok');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
    },
  );
};
