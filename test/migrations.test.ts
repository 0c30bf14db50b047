/**
 * Migrations run at every start under an advisory lock: many processes starting together apply each
 * migration once, and the schema works the same on PGlite (PostgreSQL 18) and the Debian server.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/client.ts';
import { migrate, pendingMigrations } from '../db/migrate.ts';
import { createServerDatabase, databaseTargets, TEST_DATABASE_URL } from './support/databases.ts';

describe.each(databaseTargets())('migrations on $name', (target) => {
  it('apply once, then find nothing to do', async () => {
    const database = await target.open({ migrate: false });
    try {
      expect(await pendingMigrations(database)).toBeGreaterThan(0);
      expect((await migrate(database)).applied).toBeGreaterThan(0);
      expect(await pendingMigrations(database)).toBe(0);
      expect((await migrate(database)).applied).toBe(0);
    } finally {
      await database.dispose();
    }
  });
});

describe.runIf(TEST_DATABASE_URL)('migrations on a PostgreSQL server', () => {
  it('five processes starting together apply each migration exactly once', async () => {
    const created = await createServerDatabase(TEST_DATABASE_URL as string);
    const pools = await Promise.all(
      Array.from({ length: 5 }, () => openDatabase({ kind: 'postgres', url: created.url, max: 2 })),
    );
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const applied = results.map((r) => r.applied).sort();
      expect(applied.filter((n) => n > 0)).toHaveLength(1);
      const rows = await pools[0]?.withSession((run) =>
        run('select count(*)::int as n from drizzle.__drizzle_migrations'),
      );
      expect(rows?.rows[0]?.n).toBe(applied.reduce((a, b) => a + b, 0));
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await created.drop();
    }
  });
});
