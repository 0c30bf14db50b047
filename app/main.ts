/**
 * `npm start`: the whole system in one process, with nothing to configure. Starts a Temporal dev server
 * and an embedded PostgreSQL (PGlite), both persisted under DATA_DIR, then the worker and the API.
 * With TEMPORAL_ADDRESS / DATABASE_URL set, it uses those services instead of starting its own.
 */
import { DEMO_LOGINS, DEMO_PASSWORD } from '../db/seed.ts';
import { loadConfig } from './config.ts';
import { lockDataDir } from './data-dir.ts';
import { type DemoDataService, startDemoDataService } from './demo-data-service.ts';
import { startEmbeddedTemporal } from './embedded-temporal.ts';
import { createLogger, routeTemporalLogs } from './logger.ts';
import { Lifecycle, runMain } from './process-lifecycle.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase, openConnectors, serveMetrics, startApi, startWorker } from './system.ts';
import { connectClient } from './temporal.ts';
import { temporalBinaries } from './temporal-tools.ts';
import { ensureWebAssets } from './web-assets.ts';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, pretty: config.prettyLogs });
  routeTemporalLogs(log, { metricsAddress: config.metrics.temporalAddress });
  const life = new Lifecycle(log);
  const started = Date.now();
  try {
    const lock = lockDataDir(config.dataDir);
    life.onStop('data dir lock', () => lock.release());
    const secrets = loadSecrets(config);
    // Built in a child process while Temporal and the database start; awaited before the API serves it.
    const webAssets = ensureWebAssets(log);

    let address = config.temporal.address;
    let temporalUi: string | undefined;
    if (!address) {
      const embedded = await startEmbeddedTemporal({
        cliPath: temporalBinaries().cli,
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        port: config.temporal.devPort,
        log,
      });
      life.onStop('temporal dev server', () => embedded.stop());
      address = embedded.address;
      temporalUi = embedded.uiUrl;
    }

    const database = await openAppDatabase(config, log);
    life.onStop('database', () => database.close());

    // The demo 户籍 data service (loopback, a fresh key and secret each start) answers HJ-001 automatically.
    let demoData: DemoDataService | undefined;
    if (config.demoDataService.enabled && config.seedDemo) {
      demoData = await startDemoDataService({
        port: config.demoDataService.port,
        log: log.child({ component: 'demo-data-service' }),
      });
      life.onStop('demo data service', () => demoData?.close());
    }
    const connectors = openConnectors(config, database, demoData ? [demoData.connector] : []);
    life.onStop('connectors', () => connectors.close());

    const worker = await startWorker(config, address, database, secrets, log, connectors);
    life.onStop('worker', () => worker.stop());
    worker.done.catch((err) => void life.fail(err, 'worker stopped unexpectedly'));

    await webAssets;
    const client = await connectClient(
      { ...config.temporal, address },
      secrets.payloadKeys,
      config.cryptoProfile,
    );
    life.onStop('temporal client', () => client.connection.close());
    const app = await startApi(config, database, client, secrets, log, connectors.names());
    life.onStop('api', () => app.close());
    const metricsServer = await serveMetrics(config, log);
    if (metricsServer) life.onStop('metrics', () => metricsServer.close());

    const apiUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
    const lines = [
      '',
      `协查核验引擎已启动（${((Date.now() - started) / 1000).toFixed(1)} s）`,
      `  API:          ${apiUrl}   (接口文档 ${apiUrl}/docs)`,
      temporalUi ? `  Temporal UI:  ${temporalUi}` : `  Temporal:     ${address}`,
      `  数据目录:     ${config.dataDir}`,
      ...(demoData ? [`  演示数据源:   ${demoData.url}   (户籍信息证明 HJ-001 自动核验)`] : []),
    ];
    if (config.seedDemo) {
      lines.push(`  演示账号（密码 ${DEMO_PASSWORD}）:`);
      for (const s of DEMO_LOGINS) lines.push(`    ${s.username.padEnd(8)} ${s.name}  ${s.unit}  ${s.role}`);
    }
    lines.push('  按 Ctrl-C 停止', '');
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    await life.fail(err, 'start-up failed');
  }
});
