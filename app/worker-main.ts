/**
 * `npm run worker`: the case worker alone, for a deployment with an external Temporal and PostgreSQL
 * (TEMPORAL_ADDRESS, DATABASE_URL). Run as many as needed: Temporal spreads the work.
 */
import { loadConfig, requireExternalServices } from './config.ts';
import { createLogger, routeTemporalLogs } from './logger.ts';
import { Lifecycle, runMain } from './process-lifecycle.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase, serveMetrics, startWorker } from './system.ts';

runMain(async () => {
  const config = loadConfig();
  const { temporalAddress } = requireExternalServices(config, 'npm run worker');
  const log = createLogger({ level: config.logLevel, pretty: config.prettyLogs, name: 'xiecha-worker' });
  routeTemporalLogs(log, { metricsAddress: config.metrics.temporalAddress });
  const life = new Lifecycle(log);
  try {
    const secrets = loadSecrets(config);
    const database = await openAppDatabase(config, log);
    life.onStop('database', () => database.close());
    const worker = await startWorker(config, temporalAddress, database, secrets, log);
    life.onStop('worker', () => worker.stop());
    const metricsServer = await serveMetrics(config, log);
    if (metricsServer) life.onStop('metrics', () => metricsServer.close());
    log.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
    await worker.done;
  } catch (err) {
    await life.fail(err, 'worker failed');
  }
});
