/**
 * How fast the assessment figures (Art. 13) answer on a real PostgreSQL holding a year of cases: a month's
 * and a year's unit figures with their ranking (the whole of GET /stats/units, through the same
 * `unitStats` the API runs), a ragged year (its ends read day rows), a year's trend, and the year's XLSX
 * export streamed into a sink with the process's RSS sampled meanwhile. Also what the summary trigger
 * costs a projection: single-row status changes of cases with the trigger on.
 *
 *   BENCH_DATABASE_URL=postgres://… npx tsx bench/stats.ts [cases=1000000] [units=300] [repeats=20]
 *
 * (TEST_DATABASE_URL is used when BENCH_DATABASE_URL is not set.) A fresh database is created, filled
 * with generated rows in one INSERT … SELECT generate_series with the trigger off, the summaries rebuilt
 * in one pass (`stats_rebuild()`, what the migration's backfill runs), measured, then dropped. Targets
 * (issue 13): a month's ranking ≤ 200 ms, a year's ≤ 1 s. Appends its figures to bench/results.md.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type SQL, sql } from 'drizzle-orm';
import { type StatsQuery, trendStats, unitStats } from '../api/services/stats.ts';
import { writeStatsXlsx } from '../api/services/stats-export.ts';
import { openDatabase } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { seedBase } from '../db/seed.ts';
import { createServerDatabase } from '../test/support/databases.ts';
import { percentile, runBench } from './support.ts';

const CASES = Number(process.argv[2] ?? 1_000_000);
const UNITS = Number(process.argv[3] ?? 300);
const REPEATS = Number(process.argv[4] ?? 20);
/** The cases are received over this Beijing year. */
const YEAR = 2026;
const TRIGGER_SAMPLES = Math.min(2000, CASES);

async function main() {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server');
  const server = await createServerDatabase(base);
  const database = await openDatabase({ kind: 'postgres', url: server.url });
  const { db } = database;
  const rowsOf = async (q: SQL) => ((await db.execute(q)) as unknown as { rows: unknown[] }).rows;
  try {
    await migrate(database);
    await seedBase(db);
    await db.execute(sql`
      INSERT INTO units (code, name, doc_prefix, kind, can_request, can_issue)
      SELECT 'B' || lpad(u::text, 4, '0'), '压测单位' || lpad(u::text, 4, '0'), '压测' || u, 'department', true, true
      FROM generate_series(0, ${UNITS - 1}) AS u`);

    const t0 = performance.now();
    await db.execute(sql`ALTER TABLE cases DISABLE TRIGGER stats_cases`);
    // Receipts spread over the year in office hours; tiers in turn; 2% open, 1% returned, 1% withdrawn,
    // the rest answered (10% of them late, 5% 不一致); 1% escalated, 0.1% twice; 2.5% reclassified.
    await db.execute(sql`
      INSERT INTO cases (id, doc_number, requesting_unit, issuing_unit, catalog_code, catalog_version, subject_kind,
        subject_masked, subject_id_hash, purpose, tier, status, received_at, due_at, created_by, created_at,
        late, result, register_minutes, answer_minutes, waited_working_minutes, return_count, deadlines,
        escalation_facts, escalation_level, last_seq, content, updated_at)
      SELECT 'bench-' || g, 'BENCH-' || g, req, iss, 'HJ-001', 1, 'person', '3703**********1234', md5(g::text),
        '办理业务核验', tier::sla_tier, status, at, at + interval '1 day', 'bench', at,
        status = 'answered' AND g % 10 = 7,
        CASE WHEN status = 'answered' THEN CASE WHEN g % 20 = 5 THEN 'inconsistent' ELSE 'consistent' END END,
        CASE WHEN status <> 'awaiting_registration' THEN g % 97 END,
        CASE WHEN status = 'answered' THEN (g * 31) % 900 END,
        CASE WHEN status IN ('answered', 'withdrawn') THEN (g * 31) % 900 END,
        CASE WHEN status = 'returned' THEN 1 ELSE 0 END,
        jsonb_build_array(jsonb_build_object('routingNo', 1, 'issuingUnit', iss, 'tier', tier, 'kind', 'received'))
          || CASE WHEN g % 40 = 9
               THEN jsonb_build_array(jsonb_build_object('routingNo', 1, 'issuingUnit', iss, 'tier', tier, 'kind', 'reclassified'))
               ELSE '[]'::jsonb END,
        CASE WHEN g % 100 = 3 THEN
          jsonb_build_array(jsonb_build_object('level', 1, 'unit', iss, 'outcome', '已督促办结'))
          || CASE WHEN g % 1000 = 3
               THEN jsonb_build_array(jsonb_build_object('level', 2, 'unit', iss, 'outcome', '已建议约谈'))
               ELSE '[]'::jsonb END
        ELSE '[]'::jsonb END,
        0, 1, '{}'::jsonb, now()
      FROM (
        SELECT g,
          'B' || lpad(((g * 7) % ${UNITS})::text, 4, '0') AS req,
          'B' || lpad(((g * 13) % ${UNITS})::text, 4, '0') AS iss,
          (ARRAY['30m', '1d', '2d'])[g % 3 + 1] AS tier,
          CASE WHEN g % 50 = 0 THEN 'awaiting_registration' WHEN g % 50 = 1 THEN 'registered'
               WHEN g % 100 = 2 THEN 'returned' WHEN g % 100 = 52 THEN 'withdrawn' ELSE 'answered' END AS status,
          ${`${YEAR}-01-01T09:00:00+08:00`}::timestamptz + (g % 365) * interval '1 day'
            + (g % 420) * interval '1 minute' AS at
        FROM generate_series(1, ${CASES}) AS g
      ) s`);
    const fillSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await db.execute(sql`SELECT stats_rebuild()`);
    await db.execute(sql`ALTER TABLE cases ENABLE TRIGGER stats_cases`);
    await db.execute(sql`ANALYZE`);
    const rebuildSeconds = (performance.now() - t1) / 1000;
    const [summaryRows] = (await rowsOf(sql`
      SELECT (SELECT count(*) FROM stat_counts)::int AS counts, (SELECT count(*) FROM stat_minutes)::int AS minutes,
        (SELECT count(*) FROM stat_escalations)::int AS escalations`)) as {
      counts: number;
      minutes: number;
      escalations: number;
    }[];
    console.log(
      `filled ${CASES} cases in ${fillSeconds.toFixed(1)} s, summaries rebuilt in ${rebuildSeconds.toFixed(1)} s`,
      summaryRows,
    );

    const now = new Date(`${YEAR}-12-31T10:00:00+08:00`);
    const month: StatsQuery = { from: `${YEAR}-11-01`, to: `${YEAR}-11-30` };
    const year: StatsQuery = { from: `${YEAR}-01-01`, to: `${YEAR}-12-31` };
    const ragged: StatsQuery = { from: `${YEAR - 1}-12-15`, to: `${YEAR}-12-14` };
    const queries: [string, () => Promise<unknown>, number | undefined][] = [
      ['a month: unit figures and ranking', () => unitStats(db, month, now), 200],
      ['a year: unit figures and ranking', () => unitStats(db, year, now), 1000],
      ['a ragged year (15 Dec – 14 Dec)', () => unitStats(db, ragged, now), 1000],
      ['a month, one tier', () => unitStats(db, { ...month, tier: '1d' }, now), 200],
      ['a year: daily trend', () => trendStats(db, year), undefined],
    ];
    const results: { name: string; p50: number; p99: number; target?: number }[] = [];
    for (const [name, q, target] of queries) {
      for (let i = 0; i < 3; i++) await q(); // warm the cache
      const lat: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        const s = performance.now();
        await q();
        lat.push(performance.now() - s);
      }
      const r = { name, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), target };
      results.push(r);
      console.log(name, r);
    }

    // The year's XLSX, streamed into a sink that only counts bytes; RSS sampled every 5 ms.
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 5);
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done();
      },
    });
    const t2 = performance.now();
    const [stats, trend] = await Promise.all([unitStats(db, year, now), trendStats(db, year)]);
    await writeStatsXlsx(sink, stats, trend.days, { generatedAt: now });
    const exportMs = performance.now() - t2;
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(
      `year XLSX: ${bytes} bytes in ${exportMs.toFixed(0)} ms, RSS ${mb(rssBefore)} → peak ${mb(rssPeak)} MB`,
    );

    // What the trigger adds to a projection: one case row's status changes (registered → answered).
    const trigger: number[] = [];
    for (let i = 0; i < TRIGGER_SAMPLES; i++) {
      const id = `bench-${(i * 50 + 1) % CASES}`;
      const s = performance.now();
      await db.execute(sql`
        UPDATE cases SET status = CASE WHEN status = 'answered' THEN 'registered' ELSE 'answered' END,
          answer_minutes = coalesce(answer_minutes, 30), updated_at = now()
        WHERE id = ${id}`);
      trigger.push(performance.now() - s);
    }
    const triggerP50 = percentile(trigger, 0.5);
    const triggerP99 = percentile(trigger, 0.99);
    console.log('status change with the trigger', { p50: triggerP50, p99: triggerP99 });

    const [version] = (await rowsOf(sql`SHOW server_version`)) as { server_version: string }[];
    const results_md = fileURLToPath(new URL('./results.md', import.meta.url));
    appendFileSync(
      results_md,
      [
        '',
        `## stats — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}, PostgreSQL ${version?.server_version ?? '?'}`,
        `\`npx tsx bench/stats.ts ${CASES} ${UNITS} ${REPEATS}\`: ${CASES} cases received over ${YEAR}, ${UNITS} units (filled in ${fillSeconds.toFixed(0)} s; summaries rebuilt in ${rebuildSeconds.toFixed(0)} s: ${summaryRows?.counts} count rows, ${summaryRows?.minutes} histogram rows, ${summaryRows?.escalations} escalation rows), ${REPEATS} runs per query after 3 warm-up runs, through \`unitStats\` / \`trendStats\`. Targets: a month ≤ 200 ms, a year ≤ 1 s.`,
        '',
        '| query | p50 ms | p99 ms | target |',
        '| --- | --- | --- | --- |',
        ...results.map(
          (r) =>
            `| ${r.name} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.target === undefined ? '–' : `≤ ${r.target} ms: ${r.p99 <= r.target ? 'met' : 'missed'}`} |`,
        ),
        '',
        `Year XLSX export (streamed, four sheets): ${bytes} bytes in ${exportMs.toFixed(0)} ms; RSS ${mb(rssBefore)} MB before, peak ${mb(rssPeak)} MB. A case row's status change with the summary trigger: p50 ${triggerP50.toFixed(2)} ms, p99 ${triggerP99.toFixed(2)} ms (${TRIGGER_SAMPLES} single-row updates).`,
        '',
      ].join('\n'),
    );
  } finally {
    await database.close();
    if (process.env.BENCH_KEEP) console.log(`kept ${server.url}`);
    else await server.drop();
  }
}

runBench(main);
