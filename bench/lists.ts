/**
 * How fast the case lists answer on a real PostgreSQL holding many cases: the issuer's open inbox, the
 * requester's outbox (first page and a deep keyset page) and the office's escalated box, through the
 * same `listCases` the API runs, and the supervisors' escalation list and unread-notification count.
 *
 *   BENCH_DATABASE_URL=postgres://… npx tsx bench/lists.ts [cases=1000000] [units=300] [repeats=50]
 *
 * (TEST_DATABASE_URL is used when BENCH_DATABASE_URL is not set.) A fresh database is created, filled
 * with generated rows in one INSERT … SELECT generate_series, measured, then dropped. Each query is
 * measured twice in the same run: without the list indexes (cases_*_list_idx in db/schema.ts,
 * dropped for the first pass and re-created as the migration creates them) and with them, so the ratio is between two states of one database on one machine.
 * Appends its figures to bench/results.md.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { type SQL, sql } from 'drizzle-orm';
import type { StaffContext } from '../api/plugins/auth.ts';
import { listCases } from '../api/services/case-reads.ts';
import { encodeCursor } from '../api/services/cursor.ts';
import { openDatabase } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { seedBase } from '../db/seed.ts';
import { createServerDatabase } from '../test/support/databases.ts';
import { percentile } from './support.ts';

const CASES = Number(process.argv[2] ?? 1_000_000);
const UNITS = Number(process.argv[3] ?? 300);
const REPEATS = Number(process.argv[4] ?? 50);
/** How deep the keyset page is in one requester's outbox (each has about CASES / UNITS rows). */
const DEEP = Math.min(2000, Math.floor(CASES / UNITS / 2));

/** The indexes that serve the lists' sort orders (db/schema.ts); dropped for the "before" pass. */
const LIST_INDEXES: Record<string, string> = {
  cases_requesting_list_idx: 'CREATE INDEX cases_requesting_list_idx ON cases (requesting_unit, due_at, id)',
  cases_issuing_open_list_idx:
    "CREATE INDEX cases_issuing_open_list_idx ON cases (issuing_unit, due_at, id) WHERE status IN ('awaiting_registration', 'registered', 'returned')",
  cases_escalated_list_idx:
    'CREATE INDEX cases_escalated_list_idx ON cases (due_at, id) WHERE escalation_level > 0',
};

const unit = (n: number) => `B${String(n).padStart(4, '0')}`;

function who(unitCode: string, role: StaffContext['role']): StaffContext {
  return {
    id: `bench-${unitCode}`,
    username: `bench-${unitCode}`,
    name: '压测',
    unitCode,
    unitKind: role === 'supervisor' ? 'office' : 'department',
    role,
    partnerId: null,
    isDemo: false,
    mustChangePassword: false,
  };
}

async function main() {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');
  const server = await createServerDatabase(base);
  const database = await openDatabase({ kind: 'postgres', url: server.url });
  const { db } = database;
  // node-postgres answers raw SQL as { rows }; the Db type leaves it unknown.
  const rowsOf = async (q: SQL) => ((await db.execute(q)) as unknown as { rows: unknown[] }).rows;
  try {
    await migrate(database);
    await seedBase(db);
    const t0 = performance.now();
    // The assessment figures' trigger is off for the bulk load: these lists do not read its summaries.
    await db.execute(sql`ALTER TABLE cases DISABLE TRIGGER stats_cases`);
    // Unit 0 is the biggest issuer (a tenth of all cases), the rest spread evenly; ~8% open, ~1% escalated;
    // deadlines spread over a year; content the size of a real request.
    await db.execute(sql`
      INSERT INTO cases (id, doc_number, requesting_unit, issuing_unit, catalog_code, catalog_version, subject_kind,
        subject_masked, subject_id_hash, purpose, tier, status, received_at, due_at, escalation_level, created_by,
        created_at, last_seq, content, updated_at)
      SELECT 'bench-' || g, 'BENCH-' || g,
        'B' || lpad(((g * 7) % ${UNITS})::text, 4, '0'),
        'B' || lpad((CASE WHEN g % 10 = 0 THEN 0 ELSE (g * 13) % ${UNITS} END)::text, 4, '0'),
        'HJ-001', 1, 'person', '3703**********1234', md5(g::text), '办理业务核验', '1d',
        CASE WHEN g % 25 = 0 THEN 'awaiting_registration' WHEN g % 25 = 1 THEN 'registered' ELSE 'answered' END,
        now() - (g % 365) * interval '1 day',
        now() - (g % 365) * interval '1 day' + interval '1 day' + (g % 997) * interval '1 second',
        CASE WHEN g % 100 = 3 THEN 1 ELSE 0 END, 'bench', now(), 1,
        jsonb_build_object('purpose', repeat('办理业务核验', 10), 'subject', jsonb_build_object('name', '张三')),
        now()
      FROM generate_series(1, ${CASES}) AS g`);
    await db.execute(sql`ALTER TABLE cases ENABLE TRIGGER stats_cases`);
    await db.execute(sql`ANALYZE cases`);
    const fillSeconds = (performance.now() - t0) / 1000;
    console.log(`filled ${CASES} cases in ${fillSeconds.toFixed(1)} s`);

    const [deep] = (await rowsOf(
      sql`SELECT due_at, id FROM cases WHERE requesting_unit = ${unit(1)} ORDER BY due_at, id OFFSET ${DEEP} LIMIT 1`,
    )) as { due_at: Date | string; id: string }[];
    if (!deep) throw new Error('no deep row: too few cases for a deep page');
    const deepCursor = encodeCursor(new Date(deep.due_at), deep.id);

    const queries: [string, () => Promise<unknown>][] = [
      [
        'open inbox of the biggest issuer',
        () => listCases(db, who(unit(0), 'liaison'), { box: 'inbox', open: true, limit: 50 }),
      ],
      ['outbox, first page', () => listCases(db, who(unit(1), 'agent'), { box: 'outbox', limit: 50 })],
      [
        `outbox, page after ${DEEP} rows (keyset)`,
        () => listCases(db, who(unit(1), 'agent'), { box: 'outbox', limit: 50, cursor: deepCursor }),
      ],
      [
        'escalated box, first page',
        () => listCases(db, who('JLB', 'supervisor'), { box: 'escalated', limit: 50 }),
      ],
    ];

    const measure = async () => {
      const out: Record<string, { p50: number; p99: number }> = {};
      for (const [name, q] of queries) {
        for (let i = 0; i < 5; i++) await q(); // warm the cache
        const lat: number[] = [];
        for (let i = 0; i < REPEATS; i++) {
          const s = performance.now();
          await q();
          lat.push(performance.now() - s);
        }
        out[name] = { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99) };
        console.log(name, out[name]);
      }
      return out;
    };

    for (const name of Object.keys(LIST_INDEXES)) await db.execute(sql.raw(`DROP INDEX IF EXISTS ${name}`));
    const before = await measure();
    for (const ddl of Object.values(LIST_INDEXES)) await db.execute(sql.raw(ddl));
    await db.execute(sql`ANALYZE cases`);
    const after = await measure();

    const rows = queries.map(([name]) => {
      const b = before[name];
      const a = after[name];
      if (!a || !b) throw new Error(name);
      return `| ${name} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${(b.p99 / a.p99).toFixed(0)}× | ${a.p99 <= 10 ? 'met' : 'missed'} |`;
    });
    const [version] = (await rowsOf(sql`SHOW server_version`)) as { server_version: string }[];
    const pgVersion = version?.server_version ?? '?';
    const results = fileURLToPath(new URL('./results.md', import.meta.url));
    appendFileSync(
      results,
      [
        '',
        `## lists — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}, PostgreSQL ${pgVersion}`,
        `\`npx tsx bench/lists.ts ${CASES} ${UNITS} ${REPEATS}\`: ${CASES} cases over ${UNITS} units (filled in ${fillSeconds.toFixed(0)} s), 50 rows a page, ${REPEATS} runs per query after 5 warm-up runs, through \`listCases\`. Target: p99 ≤ 10 ms.`,
        '',
        '| list | without list indexes p50 ms | p99 ms | with them p50 ms | p99 ms | p99 ratio | target |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    await database.close();
    // BENCH_KEEP=1 leaves the filled database for EXPLAIN ANALYZE by hand.
    if (process.env.BENCH_KEEP) console.log(`kept ${server.url}`);
    else await server.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
