/**
 * `npm run audit:verify`: checks the audit log's MAC chain (Art. 10, 12) and its anchors outside the
 * database, and says where it breaks.
 *
 *   DATABASE_URL=postgres://… AUDIT_KEY=… AUDIT_ANCHOR_FILE=… npm run audit:verify   a deployment
 *   npm run audit:verify      the embedded PGlite under DATA_DIR (default ./data), its key and anchors
 *
 * Rows MACed under either profile (HMAC-SHA-256, HMAC-SM3) verify in one chain; when old rows were purged
 * (AUDIT_RETENTION_DAYS), the chain is verified from the newest purge checkpoint.
 *
 * Exit 0: the chain is intact and every anchored row is still there. Exit 1: a row was changed, removed
 * or reordered, or the rows after an anchor were deleted (the first one is named). Exit 2: the database,
 * the key or the anchor file could not be read. PGlite is one process's files: stop `npm start` on that
 * DATA_DIR first (this command takes the same lock, so it refuses while the system runs).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ChainReport, verifyAuditChain } from '../api/services/audit.ts';
import { readAnchors } from '../api/services/audit-anchors.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { DataDirBusyError, type DataDirLock, lockDataDir } from './data-dir.ts';

const MAC_NAMES: Record<number, string> = {
  1: 'legacy unkeyed SHA-256',
  2: 'HMAC-SHA-256',
  3: 'HMAC-SM3',
};

export interface AuditVerifyResult {
  exitCode: 0 | 1 | 2;
  message: string;
  report?: ChainReport;
}

export async function auditVerify(env: Record<string, string | undefined>): Promise<AuditVerifyResult> {
  const url = env.DATABASE_URL?.trim();
  const dataDir = path.resolve(env.DATA_DIR?.trim() || './data');
  const anchorFile = path.resolve(env.AUDIT_ANCHOR_FILE?.trim() || path.join(dataDir, 'audit-anchors.log'));
  const key = auditKeyFrom(env, dataDir, !url);
  if (!key)
    return {
      exitCode: 2,
      message: url
        ? 'audit:verify: set AUDIT_KEY (the key the system writes the audit chain with)'
        : `audit:verify: no AUDIT_KEY and no audit key in ${path.join(dataDir, 'secrets.json')}`,
    };
  let database: Database | undefined;
  let lock: DataDirLock | undefined;
  let where: string;
  try {
    if (url) {
      where = `DATABASE_URL (${new URL(url).host}${new URL(url).pathname})`;
      database = await openDatabase({ kind: 'postgres', url, max: 1 });
    } else {
      const pgliteDir = path.join(dataDir, 'pglite');
      where = pgliteDir;
      if (!existsSync(pgliteDir))
        return {
          exitCode: 2,
          message: `audit:verify: no embedded database at ${pgliteDir} (set DATA_DIR or DATABASE_URL)`,
        };
      lock = lockDataDir(dataDir);
      database = await openDatabase({ kind: 'pglite', dataDir: pgliteDir });
    }
    const anchors = readAnchors(anchorFile);
    const report = await verifyAuditChain(database.db, { key, anchors });
    const anchorNote = anchors.length
      ? `${anchors.length} anchors in ${anchorFile}, the last at id ${anchors[anchors.length - 1]?.id}`
      : `NO anchors in ${anchorFile}: deleted rows at the end could not be detected`;
    const versions = Object.entries(report.byVersion ?? {})
      .map(([v, n]) => `${n} ${MAC_NAMES[Number(v)] ?? `mac_version ${v}`}`)
      .join(', ');
    const start = report.checkpoint
      ? `; older rows purged by ${report.checkpoint.purgedBy} at ${report.checkpoint.at}, verified from the checkpoint after id ${report.checkpoint.throughId}`
      : '';
    return report.ok
      ? {
          exitCode: 0,
          report,
          message:
            `audit:verify: OK, the audit chain is intact (${report.rows} rows${versions ? `: ${versions}` : ''}` +
            `${start}; ${anchorNote}; ${where})`,
        }
      : {
          exitCode: 1,
          report,
          message:
            `audit:verify: BROKEN at audit_log.id = ${report.brokenAt}: ${report.reason}; ` +
            `${report.rows} rows before it verified (${anchorNote}; ${where})`,
        };
  } catch (err) {
    if (err instanceof DataDirBusyError)
      return {
        exitCode: 2,
        message:
          `audit:verify: ${err.message}. The embedded database (PGlite) can be opened by one process only: ` +
          'stop `npm start` first, or verify a PostgreSQL deployment with DATABASE_URL.',
      };
    return { exitCode: 2, message: `audit:verify: could not read the audit log: ${(err as Error).message}` };
  } finally {
    await database?.close().catch(() => {});
    lock?.release();
  }
}

/** AUDIT_KEY, or in the embedded default the key the system generated under DATA_DIR (never created here). */
function auditKeyFrom(env: Record<string, string | undefined>, dataDir: string, embedded: boolean) {
  const configured = env.AUDIT_KEY?.trim();
  if (configured) return Buffer.from(configured, 'base64');
  const file = path.join(dataDir, 'secrets.json');
  if (!embedded || !existsSync(file)) return undefined;
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { auditKey?: string };
  return stored.auditKey ? Buffer.from(stored.auditKey, 'base64') : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await auditVerify(process.env);
  (result.exitCode === 0 ? console.log : console.error)(result.message);
  process.exit(result.exitCode);
}
