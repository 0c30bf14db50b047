/**
 * `npm run cases:reconcile -- --by <staff id> [--dry-run]`: repairs the read model from the case
 * workflows (api/services/reconcile.ts) and prints a summary: checked, repaired, closed.
 *
 *   DATABASE_URL=… TEMPORAL_ADDRESS=… npm run cases:reconcile -- --by stf-admin   a deployment (its
 *       workers answer the snapshot queries)
 *   npm run cases:reconcile -- --by stf-admin     the embedded DATA_DIR: stop `npm start` first (PGlite is
 *       one process's); the command starts the dev server and a worker on that data for the time it runs
 *
 * `--by` (or RECONCILE_BY) names the operator the audit rows are attributed to. `--dry-run` reports
 * without writing. Exit 0 when it ran (differences found or not), 2 when it could not.
 */
import { pathToFileURL } from 'node:url';
import type { Client } from '@temporalio/client';
import { bindAuditKey } from '../api/services/audit.ts';
import { type ReconcileReport, reconcileCases } from '../api/services/reconcile.ts';
import type { Database } from '../db/client.ts';
import { createContentCipher } from '../domain/content-cipher.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirBusyError, type DataDirLock, lockDataDir } from './data-dir.ts';
import { type EmbeddedTemporal, startEmbeddedTemporal } from './embedded-temporal.ts';
import { createLogger, routeTemporalLogs } from './logger.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase, type RunningWorker, startWorker } from './system.ts';
import { connectClient } from './temporal.ts';
import { temporalBinaries } from './temporal-tools.ts';

export interface ReconcileArgs {
  by?: string;
  dryRun: boolean;
}

export function parseArgs(argv: string[], env: Record<string, string | undefined>): ReconcileArgs {
  const args: ReconcileArgs = { dryRun: false, by: env.RECONCILE_BY?.trim() || undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dry-run') args.dryRun = true;
    else if (a === '--by') args.by = argv[++i];
    else if (a?.startsWith('--by=')) args.by = a.slice(5);
    else throw new Error(`unknown argument ${a} (use --by <staff id> and --dry-run)`);
  }
  return args;
}

export function formatReport(r: ReconcileReport): string {
  const lines = [
    `cases:reconcile${r.dryRun ? ' (dry run: nothing written)' : ''}: checked ${r.checked}, ` +
      `repaired ${r.repaired.length}, closed ${r.closed.length}, skipped ${r.skipped.length}`,
    ...r.repaired.map(
      (d) => `  repaired ${d.caseId}: ${d.kind}${d.fields?.length ? ` (${d.fields.join(', ')})` : ''}`,
    ),
    ...r.closed.map((c) => `  closed   ${c.caseId}: workflow ${c.execution} → 已终止`),
    ...r.skipped.map((s) => `  skipped  ${s.caseId}: ${s.reason}`),
  ];
  return lines.join('\n');
}

export async function runReconcile(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let args: ReconcileArgs;
  try {
    args = parseArgs(argv, env);
  } catch (err) {
    console.error(`cases:reconcile: ${(err as Error).message}`);
    return 2;
  }
  if (!args.by) {
    console.error(
      'cases:reconcile: name the operator with --by <staff id> (or RECONCILE_BY): the audit log records who repaired',
    );
    return 2;
  }
  const config = loadConfig(env);
  const log = createLogger({ level: env.LOG_LEVEL ?? 'warn', pretty: config.prettyLogs });
  routeTemporalLogs(log);
  let lock: DataDirLock | undefined;
  let embedded: EmbeddedTemporal | undefined;
  let database: Database | undefined;
  let worker: RunningWorker | undefined;
  let client: Client | undefined;
  try {
    if (config.mode === 'embedded') lock = lockDataDir(config.dataDir);
    const secrets = loadSecrets(config);
    let address = config.temporal.address;
    if (!address) {
      embedded = await startEmbeddedTemporal({
        cliPath: temporalBinaries().cli,
        dataDir: config.dataDir,
        namespace: config.temporal.namespace,
        port: config.temporal.devPort,
        log,
      });
      address = embedded.address;
    }
    database = await openAppDatabase(config, log);
    bindAuditKey(database.db, secrets.auditKey, config.cryptoProfile);
    // Embedded: nothing else serves the cases while the system is stopped, so the snapshot queries need a worker.
    if (embedded) worker = await startWorker(config, address, database, secrets, log);
    client = await connectClient({ ...config.temporal, address }, secrets.payloadKeys, config.cryptoProfile);
    const report = await reconcileCases(
      {
        db: database.db,
        client,
        subjectKey: secrets.subjectKey,
        contentCipher: createContentCipher(secrets.payloadKeys, { profile: config.cryptoProfile }),
      },
      { by: args.by, dryRun: args.dryRun, taskQueue: config.temporal.taskQueue },
    );
    console.log(formatReport(report));
    return 0;
  } catch (err) {
    if (err instanceof DataDirBusyError)
      console.error(
        `cases:reconcile: ${err.message}. The embedded database can be opened by one process only: stop \`npm start\` first.`,
      );
    else if (err instanceof ConfigError) console.error(err.message);
    else console.error(`cases:reconcile: ${(err as Error).message}`);
    return 2;
  } finally {
    await client?.connection.close().catch(() => {});
    await worker?.stop().catch(() => {});
    await database?.close().catch(() => {});
    await embedded?.stop().catch(() => {});
    lock?.release();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await runReconcile(process.argv.slice(2), process.env));
}
