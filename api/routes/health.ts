/**
 * Liveness (`/healthz`: the process answers) and readiness (`/readyz`: Temporal and the database are
 * reachable and every migration is applied). Not ready answers 503 with the reasons.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CalendarSource } from '../../activities/calendar-source.ts';
import { coverageGap } from '../../domain/working-time/index.ts';
import { Problem } from '../schemas/common.ts';

export interface ReadinessChecks {
  database(): Promise<void>;
  pendingMigrations(): Promise<number>;
  temporal(): Promise<void>;
}

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Record(Type.String(), Type.String()),
  /** Not failures: things an operator must do soon (a year without an official calendar). */
  warnings: Type.Optional(Type.Record(Type.String(), Type.String())),
});

/**
 * The calendar coverage gauges of `/metrics` (api/routes/metrics.ts). Alert on
 * xiecha_calendar_uncovered_year_days_until <= 60.
 */
export async function calendarMetricLines(calendar: CalendarSource, clock: () => Date): Promise<string[]> {
  const { data } = await calendar.current();
  const gap = coverageGap(data, clock(), Number.POSITIVE_INFINITY);
  return [
    '# HELP xiecha_calendar_uncovered_year_days_until Days until the next year without an official holiday schedule begins (0 or less: it has begun).',
    '# TYPE xiecha_calendar_uncovered_year_days_until gauge',
    ...(gap ? [`xiecha_calendar_uncovered_year_days_until{year="${gap.year}"} ${gap.daysUntil}`] : []),
    '# HELP xiecha_calendar_last_covered_year The last year with an official holiday schedule.',
    '# TYPE xiecha_calendar_last_covered_year gauge',
    `xiecha_calendar_last_covered_year ${Math.max(0, ...data.coveredYears)}`,
  ];
}

export const healthRoutes: FastifyPluginAsyncTypebox<{
  checks: ReadinessChecks;
  calendar: CalendarSource;
  clock: () => Date;
}> = async (app, { checks, calendar, clock }) => {
  /** The year without an official schedule, if one begins within 60 days (or has begun). */
  const calendarGap = async () => coverageGap((await calendar.current()).data, clock());

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
      const gap = results.database === 'ok' ? await calendarGap().catch(() => undefined) : undefined;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        checks: results,
        ...(gap ? { warnings: { calendar: gap.message } } : {}),
      });
    },
  );
};
