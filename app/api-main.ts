/**
 * `npm run api`: the API alone, for a deployment with an external Temporal and PostgreSQL
 * (TEMPORAL_ADDRESS, DATABASE_URL). Run as many as needed behind a load balancer.
 */
import { loadConfig, requireExternalServices } from './config.ts';
import { createLogger, routeTemporalLogs } from './logger.ts';
import { Lifecycle, runMain } from './process-lifecycle.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase, serveMetrics, startApi } from './system.ts';
import { connectClient } from './temporal.ts';

runMain(async () => {
  const config = loadConfig();
  const { temporalAddress } = requireExternalServices(config, 'npm run api');
  const log = createLogger({ level: config.logLevel, pretty: config.prettyLogs, name: 'xiecha-api' });
  routeTemporalLogs(log);
  const life = new Lifecycle(log);
  try {
    const secrets = loadSecrets(config);
    const database = await openAppDatabase(config, log);
    life.onStop('database', () => database.close());
    const client = await connectClient(
      { ...config.temporal, address: temporalAddress },
      secrets.payloadKeys,
      config.cryptoProfile,
    );
    life.onStop('temporal client', () => client.connection.close());
    const app = await startApi(config, database, client, secrets, log);
    life.onStop('api', () => app.close());
    const metricsServer = await serveMetrics(config, log);
    if (metricsServer) life.onStop('metrics', () => metricsServer.close());
  } catch (err) {
    await life.fail(err, 'start-up failed');
  }
});
