/**
 * pino everywhere: JSON lines in deployment (for the log pipeline), pretty in a terminal. The Temporal
 * SDK's own runtime logs (core, worker) are routed into the same logger.
 */
import {
  DefaultLogger,
  type LogEntry,
  type LogLevel,
  Runtime,
  type TelemetryOptions,
} from '@temporalio/worker';
import { type Logger, pino } from 'pino';

export function createLogger(opts: { level: string; pretty: boolean; name?: string }): Logger {
  return pino({
    name: opts.name ?? 'xiecha',
    level: opts.level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.idNumber'],
      censor: '[redacted]',
    },
    ...(opts.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}

const TEMPORAL_TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let runtimeInstalled = false;

/**
 * The worker's Temporal SDK metrics (task slots, poll and schedule-to-start latencies, sticky cache, activity
 * and workflow task failures), served in Prometheus format by the SDK's own exporter at `bindAddress`
 * (`/metrics` there). It has no authentication: bind it to loopback or a network only Prometheus reaches.
 */
export function temporalTelemetry(bindAddress: string): TelemetryOptions {
  return {
    metrics: {
      metricPrefix: 'temporal_',
      prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true },
    },
  };
}

/**
 * Routes the SDK's logs into pino, and starts the SDK's metrics exporter when `metricsAddress` is given
 * (TEMPORAL_METRICS_ADDRESS). The Runtime is per process and can be installed only once.
 */
export function routeTemporalLogs(log: Logger, opts: { metricsAddress?: string } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const temporalLog = log.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry: LogEntry) => {
      temporalLog[TEMPORAL_TO_PINO[entry.level]]({ ...entry.meta }, entry.message);
    }),
    ...(opts.metricsAddress ? { telemetryOptions: temporalTelemetry(opts.metricsAddress) } : {}),
  });
  if (opts.metricsAddress)
    log.info({ address: opts.metricsAddress }, 'Temporal SDK metrics exporter listening (/metrics)');
}
