/**
 * `npm run audit:verify`: checks the audit log's hash chain (Art. 10, 12) and says where it breaks.
 *
 *   DATABASE_URL=postgres://…  npm run audit:verify     a deployment's database
 *   npm run audit:verify                                the embedded PGlite under DATA_DIR (default ./data)
 *
 * Exit 0: the chain is intact. Exit 1: a row was changed, removed or reordered (the first one is named).
 * Exit 2: the database could not be opened. PGlite is one process's files: stop `npm start` on that
 * DATA_DIR first (this command takes the same lock, so it refuses while the system runs).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ChainReport, verifyAuditChain } from '../api/services/audit.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { DataDirBusyError, type DataDirLock, lockDataDir } from './data-dir.ts';

export interface AuditVerifyResult {
  exitCode: 0 | 1 | 2;
  message: string;
  report?: ChainReport;
}

export async function auditVerify(env: Record<string, string | undefined>): Promise<AuditVerifyResult> {
  const url = env.DATABASE_URL?.trim();
  let database: Database | undefined;
  let lock: DataDirLock | undefined;
  let where: string;
  try {
    if (url) {
      where = `DATABASE_URL (${new URL(url).host}${new URL(url).pathname})`;
      database = await openDatabase({ kind: 'postgres', url, max: 1 });
    } else {
      const dataDir = path.resolve(env.DATA_DIR?.trim() || './data');
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
    const report = await verifyAuditChain(database.db);
    return report.ok
      ? {
          exitCode: 0,
          report,
          message: `audit:verify: OK, the audit chain is intact (${report.rows} rows, ${where})`,
        }
      : {
          exitCode: 1,
          report,
          message:
            `audit:verify: BROKEN at audit_log.id = ${report.brokenAt}: ${report.reason}; ` +
            `${report.rows} rows before it verified (${where})`,
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await auditVerify(process.env);
  (result.exitCode === 0 ? console.log : console.error)(result.message);
  process.exit(result.exitCode);
}
