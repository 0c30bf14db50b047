/**
 * `npm run audit:purge -- --by <staff id> [--dry-run]`: deletes the audit rows older than
 * AUDIT_RETENTION_DAYS (at least 183, default 183) and records a checkpoint of the last purged row's MAC, so
 * `npm run audit:verify` still verifies the rest. The worker does the same on its own every AUDIT_PURGE_HOURS;
 * this is the operator's way to run it now.
 *
 *   DATABASE_URL=… AUDIT_KEY=… npm run audit:purge -- --by stf-admin   a deployment
 *   npm run audit:purge -- --by stf-admin    the embedded DATA_DIR (stop `npm start` first: PGlite is one process's)
 *
 * `--by` (or AUDIT_PURGE_BY) names the operator the checkpoint and the `audit.purge` row are attributed to.
 * Exit 0 when it ran (rows purged or none), 2 when it could not (configuration, database, key).
 */
import { pathToFileURL } from 'node:url';
import { bindAuditKey, purgeAuditLog } from '../api/services/audit.ts';
import type { Database } from '../db/client.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirBusyError, type DataDirLock, lockDataDir } from './data-dir.ts';
import { createLogger } from './logger.ts';
import { loadSecrets } from './secrets.ts';
import { openAppDatabase } from './system.ts';

export interface AuditPurgeResult {
  exitCode: 0 | 2;
  message: string;
}

export async function auditPurge(
  argv: string[],
  env: Record<string, string | undefined>,
  now?: Date,
): Promise<AuditPurgeResult> {
  let by = env.AUDIT_PURGE_BY?.trim() || undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dry-run') dryRun = true;
    else if (a === '--by') by = argv[++i];
    else if (a?.startsWith('--by=')) by = a.slice(5);
    else
      return {
        exitCode: 2,
        message: `audit:purge: unknown argument ${a} (use --by <staff id> and --dry-run)`,
      };
  }
  if (!by)
    return {
      exitCode: 2,
      message:
        'audit:purge: name the operator with --by <staff id> (or AUDIT_PURGE_BY): the audit log records who purged',
    };
  let lock: DataDirLock | undefined;
  let database: Database | undefined;
  try {
    const config = loadConfig(env);
    const log = createLogger({ level: env.LOG_LEVEL ?? 'warn', pretty: false });
    if (config.mode === 'embedded') lock = lockDataDir(config.dataDir);
    const secrets = loadSecrets(config);
    database = await openAppDatabase(config, log);
    bindAuditKey(database.db, secrets.auditKey, config.cryptoProfile);
    const r = await purgeAuditLog(database.db, {
      retentionDays: config.auditRetentionDays,
      by,
      dryRun,
      ...(now ? { now } : {}),
    });
    const period = `older than ${config.auditRetentionDays} days (before ${r.cutoff.toISOString()})`;
    if (dryRun)
      return { exitCode: 0, message: `audit:purge (dry run: nothing deleted): ${r.purged} rows ${period}` };
    return {
      exitCode: 0,
      message: r.checkpoint
        ? `audit:purge: ${r.purged} rows ${period} deleted; the chain now starts after id ${r.checkpoint.throughId} (checkpoint ${r.checkpoint.id})`
        : `audit:purge: no audit rows ${period}; nothing deleted`,
    };
  } catch (err) {
    if (err instanceof ConfigError) return { exitCode: 2, message: err.message };
    if (err instanceof DataDirBusyError)
      return {
        exitCode: 2,
        message: `audit:purge: ${err.message}. The embedded database can be opened by one process only: stop \`npm start\` first.`,
      };
    return { exitCode: 2, message: `audit:purge: ${(err as Error).message}` };
  } finally {
    await database?.close().catch(() => {});
    lock?.release();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await auditPurge(process.argv.slice(2), process.env);
  (result.exitCode === 0 ? console.log : console.error)(result.message);
  process.exit(result.exitCode);
}
