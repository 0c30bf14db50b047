/**
 * The databases every database-touching suite runs against: PGlite (in memory) always, and a real
 * PostgreSQL server when TEST_DATABASE_URL is set (scripts/test.sh starts a throwaway one). Each opened
 * database is fresh: PGlite in memory, or a new database created on the server and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { seedBase, seedDemo } from '../../db/seed.ts';

export interface TestDatabase extends Database {
  /** Drops the database (PostgreSQL) after closing it. */
  dispose(): Promise<void>;
}

export interface DatabaseTarget {
  name: 'pglite' | 'postgres';
  open(opts?: { seed?: boolean; migrate?: boolean }): Promise<TestDatabase>;
}

async function prepare(database: Database, opts: { seed?: boolean; migrate?: boolean }): Promise<void> {
  if (opts.migrate === false) return;
  await migrate(database);
  await seedBase(database.db);
  if (opts.seed !== false) await seedDemo(database.db);
}

const pgliteTarget: DatabaseTarget = {
  name: 'pglite',
  async open(opts = {}) {
    const database = await openDatabase({ kind: 'pglite' });
    await prepare(database, opts);
    return { ...database, dispose: () => database.close() };
  },
};

/** A new, empty database on the server of TEST_DATABASE_URL. */
export async function createServerDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

function postgresTarget(baseUrl: string): DatabaseTarget {
  return {
    name: 'postgres',
    async open(opts = {}) {
      const created = await createServerDatabase(baseUrl);
      const database = await openDatabase({ kind: 'postgres', url: created.url, max: 5 });
      await prepare(database, opts);
      return {
        ...database,
        dispose: async () => {
          await database.close();
          await created.drop();
        },
      };
    },
  };
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** Use with `describe.each(databaseTargets())('… on %s', …)` — name first for readable titles. */
export function databaseTargets(): DatabaseTarget[] {
  return TEST_DATABASE_URL ? [pgliteTarget, postgresTarget(TEST_DATABASE_URL)] : [pgliteTarget];
}
