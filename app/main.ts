/**
 * `npm start`: the whole system in one process, with nothing to configure. Starts a Temporal dev server
 * and an embedded PostgreSQL (PGlite), both persisted under DATA_DIR, then the worker and the API.
 * With TEMPORAL_ADDRESS / DATABASE_URL set, it uses those services instead of starting its own.
 */
import path from 'node:path';
import type { App } from '../api/app.ts';
import type { Database } from '../db/client.ts';
import { DEMO_LOGINS, DEMO_PASSWORD } from '../db/seed.ts';
import { ConfigError, loadConfig } from './config.ts';
import { type DataDirLock, lockDataDir } from './data-dir.ts';
import { type EmbeddedTemporal, startEmbeddedTemporal } from './embedded-temporal.ts';
import { createLogger, routeTemporalLogs } from './logger.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase, type RunningWorker, startApi, startWorker } from './system.ts';
import { connectClient } from './temporal.ts';
import { temporalBinaries } from './temporal-tools.ts';

async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, pretty: config.prettyLogs });
  routeTemporalLogs(log);

  // Everything started is stopped in reverse order, whatever stage a failure or a signal reaches.
  const stops: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      log.info({ reason }, 'shutting down');
      for (const stop of stops.reverse()) {
        await stop().catch((err) => log.error({ err }, 'error while stopping'));
      }
      log.info('stopped');
    })();
    return stopping;
  };
  process.once('SIGINT', () => void shutdown('SIGINT').then(() => process.exit(0)));
  process.once('SIGTERM', () => void shutdown('SIGTERM').then(() => process.exit(0)));

  try {
    const started = Date.now();
    const lock: DataDirLock = lockDataDir(config.dataDir);
    stops.push(async () => lock.release());
    const secrets = loadSecrets(config);

    let address = config.temporal.address;
    let temporalUi: string | undefined;
    if (!address) {
      const embedded: EmbeddedTemporal = await startEmbeddedTemporal({
        cliPath: temporalBinaries().cli,
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        port: config.temporal.devPort,
        log,
      });
      stops.push(() => embedded.stop());
      address = embedded.address;
      temporalUi = embedded.uiUrl;
    }

    const database: Database = await openAppDatabase(config, log);
    stops.push(() => database.close());

    const worker: RunningWorker = await startWorker(config, address, database, secrets, log);
    stops.push(async () => {
      worker.worker.shutdown();
      await worker.done;
      await worker.connection.close();
    });
    worker.done.catch((err) => {
      log.error({ err }, 'worker stopped unexpectedly');
      void shutdown('worker failure').then(() => process.exit(1));
    });

    const client = await connectClient({ ...config.temporal, address }, secrets.payloadKey);
    stops.push(() => client.connection.close());
    const app: App = await startApi(config, database, client, log);
    stops.push(() => app.close());

    const apiUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
    const lines = [
      '',
      `协查核验引擎已启动（${((Date.now() - started) / 1000).toFixed(1)} s）`,
      `  API:          ${apiUrl}   (文档 ${apiUrl}/docs)`,
      temporalUi ? `  Temporal UI:  ${temporalUi}` : `  Temporal:     ${address}`,
      `  数据目录:     ${path.resolve(config.dataDir)}`,
    ];
    if (config.seedDemo) {
      lines.push(`  演示账号（密码 ${DEMO_PASSWORD}）:`);
      for (const s of DEMO_LOGINS) lines.push(`    ${s.username.padEnd(8)} ${s.name}  ${s.unit}  ${s.role}`);
    }
    lines.push('  按 Ctrl-C 停止', '');
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    log.fatal({ err }, 'start-up failed');
    await shutdown('start-up failure');
    process.exit(1);
  }
}

run().catch((err) => {
  // A bad configuration is said in one line naming the variable; anything else with its stack.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
