/**
 * The PostgreSQL pool survives losing its idle connections (a server restart, an administrator's terminate): the
 * loss is reported, not thrown as an unhandled 'error' event that would end the process, and the next query
 * works on a new connection. CI once failed on exactly that: a test database dropped under an idle client.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/client.ts';
import { createServerDatabase, TEST_DATABASE_URL } from './support/databases.ts';

describe.skipIf(!TEST_DATABASE_URL)('the PostgreSQL pool', () => {
  it('reports a terminated idle connection and carries on with a new one', async () => {
    const created = await createServerDatabase(TEST_DATABASE_URL as string);
    const lost: Error[] = [];
    const database = await openDatabase(
      { kind: 'postgres', url: created.url, max: 2 },
      { onIdleConnectionError: (err) => lost.push(err) },
    );
    try {
      await database.ping(); // one idle client in the pool now
      const admin = new pg.Client({ connectionString: created.url });
      await admin.connect();
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      await admin.end();
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      await expect.poll(() => lost.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      expect((lost[0] as Error & { code?: string }).code).toBe('57P01');
      await database.ping();
    } finally {
      await database.close();
      await created.drop();
    }
  });
});
