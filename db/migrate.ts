/**
 * Applies the committed drizzle migrations under a PostgreSQL advisory lock, so any number of API and
 * worker processes can start together: one migrates, the others wait and then find nothing to do.
 */
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Database } from './client.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
/** Arbitrary but fixed: "xiecha" in ASCII, so it does not collide with other apps' locks by accident. */
const MIGRATION_LOCK_KEY = 0x786965636861;

const migrationsTable = 'drizzle.__drizzle_migrations';

export async function migrate(database: Database): Promise<{ applied: number }> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  return database.withSession(async (run) => {
    await run(`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      await run('create schema if not exists drizzle');
      await run(
        `create table if not exists ${migrationsTable} (id serial primary key, hash text not null, created_at bigint)`,
      );
      const applied0 = await run(`select hash from ${migrationsTable}`);
      const done = new Set(applied0.rows.map((r) => String(r.hash)));
      let applied = 0;
      for (const m of migrations) {
        if (done.has(m.hash)) continue;
        // Each migration and its bookkeeping row commit together, or not at all.
        const statements = m.sql.map((s) => s.trim()).filter(Boolean);
        await run(
          `begin;\n${statements.join(';\n')};\ninsert into ${migrationsTable} (hash, created_at) values ('${m.hash}', ${m.folderMillis});\ncommit;`,
        );
        applied++;
      }
      return { applied };
    } catch (err) {
      await run('rollback').catch(() => {});
      throw err;
    } finally {
      await run(`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  });
}

export async function pendingMigrations(database: Database): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  try {
    const res = await database.withSession((run) => run(`select hash from ${migrationsTable}`));
    const done = new Set(res.rows.map((r) => String(r.hash)));
    return migrations.filter((m) => !done.has(m.hash)).length;
  } catch {
    return migrations.length;
  }
}
