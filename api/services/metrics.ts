/**
 * The operators' metrics, in Prometheus text format (prom-client). No personal data: labels are route
 * patterns, Update names, outcomes, escalation levels and activity names, never an ID or a unit.
 *
 * One registry per process (`processMetrics()`); the embedded system's API and worker share it, so its
 * `/metrics` has both. Separate API and worker processes each serve their own (METRICS_PORT), and the
 * worker's Temporal SDK metrics come from the SDK's own exporter (TEMPORAL_METRICS_ADDRESS).
 *
 * - `xiecha_http_request_duration_seconds{method,route,status_class}`: every answer of the API; `route` is
 *   the route's pattern (`/api/v1/verifications/:id/respond`), `unmatched` for an unknown path;
 * - `xiecha_case_starts_total{outcome}`: starts through the API (`ok`, `refused`, `timeout`, `error`; a
 *   retried start with the same key counts again);
 * - `xiecha_case_updates_total{kind,outcome}`: the Updates the API sends to cases, by Update name;
 * - `xiecha_escalations_total{level}`: escalations opened, counted when their projection is written;
 * - `xiecha_activity_failures_total{activity,local}`: failed activity attempts (each retry counts);
 * - `xiecha_projection_lag_seconds`: from a case event (workflow time) to its projection's commit.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ActivityMetrics } from '../../activities/case-activities.ts';
import { Problem } from '../problem.ts';
import type { CaseGateway } from './case-gateway.ts';

export type Outcome = 'ok' | 'refused' | 'timeout' | 'error';

export interface AppMetrics extends ActivityMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  readonly caseStarts: Counter<'outcome'>;
  readonly caseUpdates: Counter<'kind' | 'outcome'>;
  readonly escalations: Counter<'level'>;
  readonly activityFailures: Counter<'activity' | 'local'>;
  readonly projectionLag: Histogram<string>;
  /** Connector queries (automatic answers, issue 15) by connector and outcome, and their duration. */
  readonly connectorQueries: Counter<'connector' | 'outcome'>;
  readonly connectorDuration: Histogram<'connector'>;
  connectorQueried(connector: string, ms: number, outcome: string): void;
  /** More lines computed at each scrape (the API's calendar gauges), by name: a second one replaces the first. */
  setExtra(name: string, lines: () => Promise<string[]>): void;
  /** The whole exposition, Prometheus text format 0.0.4. */
  render(): Promise<string>;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A fresh registry (tests: one per harness); `defaultMetrics` adds process_* and nodejs_* (memory, CPU, event loop). */
export function createAppMetrics(opts: { defaultMetrics?: boolean } = {}): AppMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const httpDuration = new Histogram({
    name: 'xiecha_http_request_duration_seconds',
    help: 'API answer time by route pattern, method and status class.',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers,
  });
  const caseStarts = new Counter({
    name: 'xiecha_case_starts_total',
    help: 'Case starts sent by the API, by outcome (ok, refused, timeout, error).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const caseUpdates = new Counter({
    name: 'xiecha_case_updates_total',
    help: 'Updates sent by the API to cases, by Update name and outcome (ok, refused, timeout, error).',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const escalations = new Counter({
    name: 'xiecha_escalations_total',
    help: 'Escalations opened (Art. 11), by level, counted when their projection is written.',
    labelNames: ['level'] as const,
    registers,
  });
  const activityFailures = new Counter({
    name: 'xiecha_activity_failures_total',
    help: 'Failed activity attempts (each retry counts), by activity and whether it ran as a local activity.',
    labelNames: ['activity', 'local'] as const,
    registers,
  });
  const projectionLag = new Histogram({
    name: 'xiecha_projection_lag_seconds',
    help: 'Seconds from a case event (workflow time) to the commit of its projection in the read model.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const connectorQueries = new Counter({
    name: 'xiecha_connector_queries_total',
    help: 'Connector queries (each attempt), by connector and outcome: match, no_match, ambiguous or error.',
    labelNames: ['connector', 'outcome'] as const,
    registers,
  });
  const connectorDuration = new Histogram({
    name: 'xiecha_connector_query_seconds',
    help: 'Seconds a connector query took (each attempt, whatever its outcome), by connector.',
    labelNames: ['connector'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const extras = new Map<string, () => Promise<string[]>>();
  return {
    registry,
    httpDuration,
    caseStarts,
    caseUpdates,
    escalations,
    activityFailures,
    projectionLag,
    connectorQueries,
    connectorDuration,
    connectorQueried(connector, ms, outcome) {
      connectorQueries.inc({ connector, outcome });
      connectorDuration.observe({ connector }, ms / 1000);
    },
    escalationFired: (level) => escalations.inc({ level: String(level) }),
    projected: (lagSeconds) => projectionLag.observe(Math.max(0, lagSeconds)),
    setExtra: (name, lines) => void extras.set(name, lines),
    async render() {
      const parts = [await registry.metrics()];
      for (const lines of extras.values()) {
        const more = await lines().catch(() => []);
        if (more.length) parts.push(`${more.join('\n')}\n`);
      }
      return parts.join('');
    },
  };
}

let shared: AppMetrics | undefined;

/** The process's registry, with the default process metrics; created on first use. */
export function processMetrics(): AppMetrics {
  shared ??= createAppMetrics({ defaultMetrics: true });
  return shared;
}

/** `2xx`, `4xx`, … */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** How a call to a case ended, for the outcome label. */
export function outcomeOf(err: unknown): Outcome {
  if (err instanceof Problem) return err.status === 504 ? 'timeout' : err.status < 500 ? 'refused' : 'error';
  return 'error';
}

/** Counts the failed attempts of every activity (and local activity) the worker runs. */
export function activityFailureInterceptor(metrics: AppMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          if (!(err instanceof CancelledFailure))
            metrics.activityFailures.inc({
              activity: ctx.info.activityType,
              local: String(ctx.info.isLocal),
            });
          throw err;
        }
      },
    },
  });
}

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(header.slice(7).trim()), digest(token));
}

/** The gateway, counting each start and each Update (by its name) with how it ended. */
export function countingGateway(gateway: CaseGateway, metrics: AppMetrics): CaseGateway {
  const counted = async <T>(fn: () => Promise<T>, count: (outcome: Outcome) => void): Promise<T> => {
    try {
      const result = await fn();
      count('ok');
      return result;
    } catch (err) {
      count(outcomeOf(err));
      throw err;
    }
  };
  return {
    ...gateway,
    start: (input, key) =>
      counted(
        () => gateway.start(input, key),
        (outcome) => metrics.caseStarts.inc({ outcome }),
      ),
    act: (caseId, update, input, updateId) =>
      counted(
        () => gateway.act(caseId, update, input, updateId),
        (outcome) => metrics.caseUpdates.inc({ kind: update.name, outcome }),
      ),
  };
}
