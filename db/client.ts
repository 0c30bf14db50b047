/**
 * One database handle for the whole process: PGlite (embedded PostgreSQL, files under DATA_DIR) in the
 * embedded default and for fast tests, or a node-postgres pool against a real server in deployment.
 * Both speak to drizzle as a `PgDatabase`, so repositories and activities never know which.
 */
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Runs raw SQL in one session (migrations under an advisory lock need that); rows of the last statement. */
  withSession<T>(fn: (run: (sql: string) => Promise<SqlRows>) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type SqlRows = { rows: Record<string, unknown>[] };

/** Both drivers answer a multi-statement string with one result per statement. */
function lastRows(res: unknown): SqlRows {
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  return { rows: (last as { rows?: Record<string, unknown>[] } | undefined)?.rows ?? [] };
}

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir?: string }
  | { kind: 'postgres'; url: string; max?: number };

/** Where a lost idle connection is reported (the pool drops it and opens another when needed). */
export interface DatabaseEvents {
  onIdleConnectionError?: (err: Error) => void;
}

export async function openDatabase(target: DatabaseTarget, events: DatabaseEvents = {}): Promise<Database> {
  if (target.kind === 'pglite') {
    // dataDir undefined → in memory (tests); a path → persisted files.
    const client = await PGlite.create(target.dataDir);
    const db = drizzlePglite(client, { schema }) as unknown as Db;
    return {
      db,
      kind: 'pglite',
      // PGlite is a single connection: every call already runs in "the" session.
      withSession: (fn) => fn(async (sql) => lastRows(await client.exec(sql))),
      ping: async () => {
        await client.query('select 1');
      },
      close: () => client.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: target.max ?? 10 });
  // An idle client whose server connection ends (PostgreSQL restarted, an administrator's terminate, a failover)
  // makes the pool emit 'error'. Unhandled, that event kills the process; handled, the pool just replaces it.
  pool.on('error', (err) => {
    if (events.onIdleConnectionError) events.onIdleConnectionError(err);
    else process.emitWarning(`PostgreSQL: an idle pooled connection was lost (${err.message})`);
  });
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    withSession: async (fn) => {
      const conn = await pool.connect();
      try {
        return await fn(async (sql) => lastRows(await conn.query(sql)));
      } finally {
        conn.release();
      }
    },
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
}
