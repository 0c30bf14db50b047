/**
 * The assessment figures' summaries (migration stats_summaries): the trigger on `cases` keeps them equal to
 * a rebuild from the rows whatever the projections do — repeated, stale, out of order, a repair from an
 * older snapshot of another run, a deleted row, a truncation — and the migration backfills the cases that
 * were there before it. Driven by the real projection activity with snapshots from the pure case machine
 * (no Temporal), on PGlite and PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../activities/calendar-source.ts';
import { createCaseActivities, reprojectCase } from '../activities/case-activities.ts';
import { bucketFloor, bucketOf, histogramPercentile, unitStats } from '../api/services/stats.ts';
import { MIGRATIONS_FOLDER, migrate } from '../db/migrate.ts';
import type { CaseEvent, DeadlineResult, ProjectCaseInput } from '../workflows/activity-contract.ts';
import {
  type Decision,
  numbered,
  open,
  register,
  reroute,
  respond,
  returnToRequester,
} from '../workflows/case-machine.ts';
import type { CaseSnapshot } from '../workflows/definitions.ts';
import { databaseTargets, type TestDatabase } from './support/databases.ts';
import { silentLog, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from './support/temporal.ts';
import { caseInput, issuer, otherIssuer, requester } from './workflow/support.ts';

/** Monday 2 November 2026, 10:00 Beijing: a working day. */
const T = Date.parse('2026-11-02T02:00:00Z');
const at = (minutes: number) => new Date(T + minutes * 60_000).toISOString();
const DAY = '2026-11-02';
const deadline = (fromMinutes: number): DeadlineResult => ({
  effectiveReceivedAt: at(fromMinutes),
  dueAt: at(fromMinutes + 30),
  flags: [],
  reminderAt: [],
});

type Rows = { rows: Record<string, unknown>[] };

describe.each(databaseTargets())('assessment summaries on $name', (target) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await target.open();
  });
  afterEach(async () => {
    await database?.dispose();
  });

  const rows = async (q: ReturnType<typeof sql>) => ((await database.db.execute(q)) as unknown as Rows).rows;
  /** Every non-zero summary row, as text, in key order. */
  const summaries = async () =>
    (
      await rows(sql`
        select side || '|' || span || '|' || start || '|' || unit || '|' || tier || ' ' ||
          concat_ws(',', received, answered_on_time, answered_late, returned, reclassified, withdrawn, open,
            mismatched, wait_minutes) as r
        from stat_counts
        where received <> 0 or answered_on_time <> 0 or answered_late <> 0 or returned <> 0 or reclassified <> 0
          or withdrawn <> 0 or open <> 0 or mismatched <> 0 or wait_minutes <> 0
        union all
        select measure || '|' || span || '|' || start || '|' || unit || '|' || tier || '|' || bucket || ' ' || n
        from stat_minutes where n <> 0
        union all
        select span || '|' || start || '|' || unit || '|' || tier || '|' || level || '|' || outcome || ' ' || n
        from stat_escalations where n <> 0
        order by 1`)
    ).map((r) => String(r.r));
  /** The summaries equal what a rebuild from the rows gives; returns them. */
  const consistent = async () => {
    const kept = await summaries();
    await database.db.execute(sql`select stats_rebuild()`);
    expect(await summaries()).toEqual(kept);
    return kept;
  };
  const activities = () =>
    createCaseActivities({
      db: database.db,
      calendar: createCalendarSource(database.db),
      subjectKey: TEST_SUBJECT_KEY,
      contentCipher: TEST_CONTENT_CIPHER,
      log: silentLog,
    });

  /** A case's steps as the workflow would project them: each snapshot with its event. */
  function steps(caseId: string, plan: ((s: CaseSnapshot) => { d: Decision; at: string })[]) {
    const input = caseInput(caseId, new Date(T));
    const first = open(input, `DOC-${caseId}`, deadline(0), at(0));
    const out: ProjectCaseInput[] = [{ snapshot: first.state, event: first.event, input }];
    let s = first.state;
    for (const step of plan) {
      const { d, at: when } = step(s);
      const effect = d.effects.find((e) => e.kind === 'record');
      if (effect?.kind !== 'record') throw new Error('no record');
      const next: { state: CaseSnapshot; event: CaseEvent } = numbered(d.state, effect.entry, when);
      out.push({ snapshot: next.state, event: next.event });
      s = next.state;
    }
    return out;
  }
  const answered = (s: CaseSnapshot, by = issuer, minutes = 20) =>
    respond(
      s,
      by,
      { result: 'consistent', fields: {} },
      {
        answeredAt: at(minutes),
        lateWorkingMinutes: 0,
        waitedWorkingMinutes: minutes,
      },
      at(minutes),
    );

  it('the buckets of SQL and of the service agree, and each holds the minutes from its floor', async () => {
    const buckets = await rows(sql`select m, stats_bucket(m) as b from generate_series(0, 12000) as m`);
    for (const { m, b } of buckets as { m: number; b: number }[]) {
      expect(bucketOf(m), `${m}`).toBe(b);
      expect(bucketFloor(b) <= m && m < bucketFloor(b + 1), `${m}`).toBe(true);
    }
    // Nearest rank: the median of 4 samples is the 2nd, p90 of 10 samples the 9th.
    const h = new Map([
      [bucketOf(5), 1],
      [bucketOf(20), 1],
      [bucketOf(45), 1],
      [bucketOf(420), 1],
    ]);
    expect(histogramPercentile(h, 0.5)).toBe(20);
    expect(histogramPercentile(h, 0.9)).toBe(420);
    expect(
      histogramPercentile(
        new Map([
          [bucketOf(3), 9],
          [bucketOf(700), 1],
        ]),
        0.9,
      ),
    ).toBe(3);
    expect(histogramPercentile(new Map(), 0.5)).toBeNull();
  });

  it("the database's median and p90 equal the nearest-rank definition, per unit and merged city-wide", async () => {
    // Random histograms written straight into the summary (as the trigger would): both issuing units, two
    // measures, in the day rows of two days and under '*'; a seeded generator so that a failure repeats.
    let seed = 20261201;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const expected = new Map<string, Map<number, number>>();
    const add = (key: string, bucket: number, n: number) => {
      const h = expected.get(key) ?? new Map<number, number>();
      h.set(bucket, (h.get(bucket) ?? 0) + n);
      expected.set(key, h);
    };
    const days = ['2026-11-02', '2026-11-03'];
    for (const unit of ['ZB-GA', 'ZB-MZ']) {
      for (const measure of ['register', 'answer']) {
        for (const day of days) {
          for (let i = 0; i < 1 + random(12); i++) {
            const bucket = random(70);
            const n = 1 + random(9);
            await database.db.execute(sql`
              insert into stat_minutes (measure, span, start, unit, tier, bucket, n)
              values (${measure}, 'day', ${day}, ${unit}, '*', ${bucket}, ${n})
              on conflict on constraint stat_minutes_pk do update set n = stat_minutes.n + excluded.n`);
            add(`${measure} ${unit}`, bucket, n);
            if (measure === 'answer') add('answer city', bucket, n);
          }
        }
      }
    }
    const want = (key: string) => ({
      median: histogramPercentile(expected.get(key) ?? new Map(), 0.5),
      p90: histogramPercentile(expected.get(key) ?? new Map(), 0.9),
    });
    const period = { from: days[0] as string, to: days[1] as string };
    const stats = await unitStats(database.db, period, new Date(T + 7 * 86_400_000));
    for (const unit of ['ZB-GA', 'ZB-MZ']) {
      const row = stats.issuing.find((r) => r.unitId === unit);
      expect(row?.registerMinutes, unit).toEqual(want(`register ${unit}`));
      expect(row?.answerMinutes, unit).toEqual(want(`answer ${unit}`));
    }
    expect(stats.city.answerMinutes).toEqual(want('answer city'));
    expect(stats.city.answerMinutes.median).not.toBeNull();
    // The unit filter narrows the rows, not the city's figure.
    const one = await unitStats(database.db, { ...period, unit: 'ZB-MZ' }, new Date(T + 7 * 86_400_000));
    expect(one.issuing.map((r) => [r.unitId, r.answerMinutes])).toEqual([['ZB-MZ', want('answer ZB-MZ')]]);
    expect(one.city.answerMinutes).toEqual(want('answer city'));
  });

  it('repeated, stale and out-of-order projections change nothing; a repair and a delete move them back', async () => {
    const project = activities();
    const a = steps('stats-a', [
      (s) => ({ d: register(s, issuer, at(10)), at: at(10) }),
      (s) => ({ d: answered(s), at: at(20) }),
    ]);
    for (const p of a) await project.projectCase(p);
    const done = await consistent();
    expect(done).toContain(`issuing|day|${DAY}|ZB-GA|30m 1,1,0,0,0,0,0,0,0`);
    expect(done).toContain(`issuing|month|2026-11-01|ZB-GA|30m 1,1,0,0,0,0,0,0,0`);
    expect(done).toContain(`requesting|day|${DAY}|ZB-RS|30m 1,1,0,0,0,0,0,0,20`);
    // Histogram buckets (stats_bucket): 10 minutes → 10, 20 minutes → 12 (the 5-minute buckets from 10);
    // each under its tier and under '*'.
    expect(done).toContain(`register|day|${DAY}|ZB-GA|30m|10 1`);
    expect(done).toContain(`register|day|${DAY}|ZB-GA|*|10 1`);
    expect(done).toContain(`answer|day|${DAY}|ZB-GA|30m|12 1`);
    expect(done).toContain(`wait|month|2026-11-01|ZB-RS|*|12 1`);

    // At least once: every step again, the newest first, then the oldest.
    for (const p of [...a].reverse()) await project.projectCase(p);
    for (const p of a) await project.projectCase(p);
    expect(await consistent()).toEqual(done);

    // A repair from an older snapshot of another run (a reset to before the answer): the row and the
    // summaries go back to "registered".
    const older = a[1] as ProjectCaseInput;
    await reprojectCase(
      database.db,
      { subjectKey: TEST_SUBJECT_KEY, contentCipher: TEST_CONTENT_CIPHER },
      { snapshot: older.snapshot, runId: 'another-run' },
    );
    const reset = await consistent();
    expect(reset).toContain(`issuing|day|${DAY}|ZB-GA|30m 1,0,0,0,0,0,1,0,0`);
    expect(reset.some((r) => r.startsWith('answer|'))).toBe(false);

    await database.db.execute(sql`delete from cases where id = 'stats-a'`);
    expect(await summaries()).toEqual([]);
  });

  it('a returned and re-routed case counts for both units; the service reads it back', async () => {
    const project = activities();
    const b = steps('stats-b', [
      (s) => ({ d: returnToRequester(s, issuer, { reason: '不属本单位职责' }, at(5)), at: at(5) }),
      (s) => ({
        d: reroute(s, requester, { issuingUnit: 'ZB-MZ' }, deadline(15), at(15)),
        at: at(15),
      }),
      (s) => ({ d: register(s, otherIssuer, at(20)), at: at(20) }),
      (s) => ({ d: answered(s, otherIssuer, 40), at: at(40) }),
    ]);
    for (const p of b) await project.projectCase(p);
    await consistent();
    const stats = await unitStats(database.db, { from: DAY, to: DAY }, new Date(T + 86_400_000));
    const row = (unit: string) => stats.issuing.find((r) => r.unitId === unit);
    expect(row('ZB-GA')).toMatchObject({ received: 1, returned: 1, answeredOnTime: 0, open: 0 });
    expect(row('ZB-MZ')).toMatchObject({
      received: 1,
      returned: 0,
      answeredOnTime: 1,
      onTimeRate: 1,
      registerMinutes: { median: 5, p90: 5 },
      answerMinutes: { median: 25, p90: 25 },
    });
    expect(stats.city).toMatchObject({ received: 1, answeredOnTime: 1, answeredLate: 0 });
    await database.db.execute(sql`truncate cases`);
    expect(await summaries()).toEqual([]);
  });

  it('the migration backfills the cases that were there before it', async () => {
    const fresh = await target.open({ migrate: false });
    try {
      const journal = JSON.parse(
        readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'),
      ) as {
        entries: { tag: string }[];
      };
      const upTo = journal.entries.findIndex((e) => e.tag.endsWith('_stats_summaries'));
      expect(upTo).toBeGreaterThan(0);
      const earlier = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).slice(0, upTo);
      await fresh.withSession(async (run) => {
        await run('create schema if not exists drizzle');
        await run(
          'create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
        );
        for (const m of earlier)
          await run(
            `begin;\n${m.sql
              .map((s) => s.trim())
              .filter(Boolean)
              .join(
                ';\n',
              )};\ninsert into drizzle.__drizzle_migrations (hash, created_at) values ('${m.hash}', ${m.folderMillis});\ncommit;`,
          );
        // An answered case (first issuing unit), escalated once and closed by the office.
        await run(`
          insert into cases (id, doc_number, requesting_unit, issuing_unit, catalog_code, catalog_version,
            subject_kind, subject_masked, subject_id_hash, purpose, tier, status, received_at, due_at, late,
            result, waited_working_minutes, deadlines, created_by, created_at, last_seq, content, updated_at)
          values ('old-1', 'OLD-1', 'ZB-RS', 'ZB-GA', 'HJ-001', 1, 'person', '张*', 'h', '核验', '30m', 'answered',
            '${at(0)}', '${at(30)}', true, 'inconsistent', 45,
            '[{"routingNo":1,"issuingUnit":"ZB-GA","tier":"30m","kind":"received"}]', 'x', '${at(0)}', 5, '{}',
            now())`);
        await run(`
          insert into escalations (id, case_id, level, status, issuing_unit, requesting_unit, opened_at,
            missed_due_at, routing_no, closed_at, outcome, last_seq)
          values ('old-1:1', 'old-1', 1, 'closed', 'ZB-GA', 'ZB-RS', '${at(30)}', '${at(30)}', 1, '${at(60)}',
            '已督促办结', 5)`);
      });
      await migrate(fresh);
      const kept = (
        (await fresh.db.execute(sql`
          select side || '|' || span || '|' || unit || ' ' || concat_ws(',', received, answered_on_time,
            answered_late, mismatched, wait_minutes) as r
          from stat_counts where span = 'day' order by 1`)) as unknown as Rows
      ).rows.map((r) => r.r);
      expect(kept).toEqual(['issuing|day|ZB-GA 1,0,1,0,0', 'requesting|day|ZB-RS 1,0,1,1,45']);
      const stats = await unitStats(fresh.db, { from: DAY, to: DAY }, new Date(T));
      expect(stats.issuing.find((r) => r.unitId === 'ZB-GA')).toMatchObject({
        received: 1,
        answeredLate: 1,
        onTimeRate: 0,
        // The answer time comes from the recorded wait; the time to register is unknown.
        answerMinutes: { median: 45, p90: 45 },
        registerMinutes: { median: null, p90: null },
        escalations: { level1: 1, level2: 0, byOutcome: { 已督促办结: 1 } },
      });
    } finally {
      await fresh.dispose();
    }
  });
});
