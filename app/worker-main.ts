/**
 * `npm run worker`: the case worker alone, for a deployment with an external Temporal and PostgreSQL
 * (TEMPORAL_ADDRESS, DATABASE_URL). Run as many as needed: Temporal spreads the work.
 */
import { ConfigError, loadConfig } from './config.ts';
import { createLogger, routeTemporalLogs } from './logger.ts';
import { Lifecycle, runMain } from './process-lifecycle.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase, startWorker } from './system.ts';

runMain(async () => {
  const config = loadConfig();
  if (!config.temporal.address)
    throw new ConfigError(
      'TEMPORAL_ADDRESS',
      'is required for `npm run worker` (use `npm start` for the embedded system)',
    );
  if (!config.databaseUrl)
    throw new ConfigError(
      'DATABASE_URL',
      'is required for `npm run worker` (PGlite cannot be shared between processes)',
    );
  const log = createLogger({ level: config.logLevel, pretty: config.prettyLogs, name: 'xiecha-worker' });
  routeTemporalLogs(log);
  const life = new Lifecycle(log);
  try {
    const secrets = loadSecrets(config);
    const database = await openAppDatabase(config, log);
    life.onStop('database', () => database.close());
    const worker = await startWorker(config, config.temporal.address, database, secrets, log);
    life.onStop('worker', () => worker.stop());
    log.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
    await worker.done;
  } catch (err) {
    await life.fail(err, 'worker failed');
  }
});
