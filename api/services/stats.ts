/**
 * Assessment figures (Zibo measures Art. 13): per issuing unit, per requesting unit, city-wide, the ranking
 * for 通报, and the daily trend. Read from the summaries the `cases` trigger keeps (db/schema.ts
 * stat_counts, stat_minutes, stat_escalations; migration stats_summaries), never from the cases
 * themselves, except what depends on the present moment (overdue now) and the ledger: a year over a
 * million cases reads whole months, a ragged period's ends read days.
 *
 * Durations are working minutes. Median and p90 are nearest-rank percentiles over a histogram whose
 * buckets are exact below 10 minutes and then 5, 15, 60, 240 and 960 minutes wide (`bucketFloor`): a
 * figure is the lower edge of the bucket holding that rank. Few buckets keep a year's histograms small:
 * 12 months × units × 3 measures × the buckets in use.
 */
import { and, between, eq, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.ts';
import {
  caseLedger,
  cases,
  disputes,
  statCounts,
  statEscalations,
  statMinutes,
  units,
} from '../../db/schema.ts';
import { addCalendarDays, shanghaiDateOf, shanghaiInstant } from '../../domain/working-time/index.ts';
import { staffingReport } from './reference-data.ts';

export type Tier = '30m' | '1d' | '2d';
export const TIERS: readonly Tier[] = ['30m', '1d', '2d'];

export interface StatsQuery {
  /** Beijing dates, inclusive. */
  from: string;
  to: string;
  tier?: Tier;
  unit?: string;
}

export interface Percentiles {
  median: number | null;
  p90: number | null;
}

export interface IssuingRow {
  unitId: string;
  unitName: string;
  received: number;
  answeredOnTime: number;
  answeredLate: number;
  returned: number;
  reclassified: number;
  withdrawn: number;
  open: number;
  overdueNow: number;
  overdueByTier: Record<Tier, number>;
  onTimeRate: number | null;
  registerMinutes: Percentiles;
  answerMinutes: Percentiles;
  escalations: { level1: number; level2: number; byOutcome: Record<string, number> };
  staffingCompliant: boolean;
}

export interface RequestingRow {
  unitId: string;
  unitName: string;
  sent: number;
  verificationWaitMinutes: { total: number; median: number | null };
  mismatchRate: number | null;
  ledgerFollowUps: number;
}

export interface UnitStats {
  period: { from: string; to: string };
  issuing: IssuingRow[];
  requesting: RequestingRow[];
  city: {
    received: number;
    answeredOnTime: number;
    answeredLate: number;
    onTimeRate: number | null;
    overdueNow: number;
    /** Time to answer over every issuing unit's answers (whatever the unit filter). */
    answerMinutes: Percentiles;
  };
  ranking: { rank: number; unitId: string; unitName: string; onTimeRate: number | null; received: number }[];
}

export interface TrendDay {
  date: string;
  received: number;
  answered: number;
  answeredOnTime: number;
  onTimeRate: number | null;
}

// ─── Buckets and percentiles ─────────────────────────────────────────────────────────────────────

/** The bucket of a duration in working minutes (the migration's `stats_bucket`, for tests and docs). */
export function bucketOf(minutes: number): number {
  const m = Math.trunc(minutes);
  if (m <= 0) return 0;
  if (m < 10) return m;
  if (m < 60) return 10 + Math.trunc((m - 10) / 5);
  if (m < 240) return 20 + Math.trunc((m - 60) / 15);
  if (m < 960) return 32 + Math.trunc((m - 240) / 60);
  if (m < 4800) return 44 + Math.trunc((m - 960) / 240);
  return 60 + Math.trunc((m - 4800) / 960);
}

/** The lower edge of a bucket, in working minutes: what a median or p90 in that bucket reads. */
export function bucketFloor(bucket: number): number {
  if (bucket < 10) return bucket;
  if (bucket < 20) return 10 + (bucket - 10) * 5;
  if (bucket < 32) return 60 + (bucket - 20) * 15;
  if (bucket < 44) return 240 + (bucket - 32) * 60;
  if (bucket < 60) return 960 + (bucket - 44) * 240;
  return 4800 + (bucket - 60) * 960;
}

/** Nearest-rank percentile (the value at rank ⌈p·n⌉) of a histogram {bucket → count}; null when empty. */
export function histogramPercentile(histogram: Map<number, number>, p: number): number | null {
  const total = [...histogram.values()].reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket) ?? 0;
    if (seen >= rank) return bucketFloor(bucket);
  }
  return null;
}

/** The key of the histograms merged over every unit (no unit code has this form). */
const CITY = '*city*';

const rate = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

// ─── The period ──────────────────────────────────────────────────────────────────────────────────

/** The default period: the current Beijing month up to today (or the month of `to`, up to `to`). */
export function defaultPeriod(now: Date, from?: string, to?: string): { from: string; to: string } {
  const end = to ?? shanghaiDateOf(now);
  return { from: from ?? `${end.slice(0, 8)}01`, to: end };
}

/** Days from `a` to `b` inclusive. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000) + 1;
}

function lastOfMonth(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return addCalendarDays(next, -1);
}

/** The period as whole months (read from the monthly rows) and the days at its ragged ends. */
export function periodSegments(from: string, to: string): { months: string[]; days: [string, string][] } {
  const months: string[] = [];
  const days: [string, string][] = [];
  let cur = from;
  while (cur <= to) {
    const monthEnd = lastOfMonth(cur);
    if (cur.endsWith('-01') && monthEnd <= to) months.push(cur);
    else days.push([cur, monthEnd < to ? monthEnd : to]);
    cur = addCalendarDays(monthEnd, 1);
  }
  return { months, days };
}

/** Rows of a summary table that together cover the period exactly once. */
function inPeriod(t: { span: PgColumn; start: PgColumn }, q: StatsQuery): SQL {
  const { months, days } = periodSegments(q.from, q.to);
  const parts: SQL[] = [];
  if (months.length) parts.push(and(eq(t.span, 'month'), inArray(t.start, months)) as SQL);
  for (const [a, b] of days) parts.push(and(eq(t.span, 'day'), between(t.start, a, b)) as SQL);
  return or(...parts) as SQL;
}

/** The instants the period covers: [first day 00:00, day after the last 00:00) Beijing time. */
function periodInstants(q: StatsQuery): { start: Date; end: Date } {
  return { start: shanghaiInstant(q.from, 0), end: shanghaiInstant(addCalendarDays(q.to, 1), 0) };
}

// ─── The figures ─────────────────────────────────────────────────────────────────────────────────

const n = (v: unknown): number => Number(v ?? 0);

export async function unitStats(db: Db, q: StatsQuery, now: Date): Promise<UnitStats> {
  const { start, end } = periodInstants(q);

  // Every unit's counts (the unit filter is applied below: the city's figures are the whole city's).
  const countRowsQuery = db
    .select({
      side: statCounts.side,
      unit: statCounts.unit,
      received: sql<string>`sum(${statCounts.received})`,
      onTime: sql<string>`sum(${statCounts.answeredOnTime})`,
      late: sql<string>`sum(${statCounts.answeredLate})`,
      returned: sql<string>`sum(${statCounts.returned})`,
      reclassified: sql<string>`sum(${statCounts.reclassified})`,
      withdrawn: sql<string>`sum(${statCounts.withdrawn})`,
      open: sql<string>`sum(${statCounts.open})`,
      mismatched: sql<string>`sum(${statCounts.mismatched})`,
      wait: sql<string>`sum(${statCounts.waitMinutes})`,
    })
    .from(statCounts)
    .where(and(inPeriod(statCounts, q), q.tier ? eq(statCounts.tier, q.tier) : undefined))
    .groupBy(statCounts.side, statCounts.unit);

  // The period's histograms summed per (measure, unit, bucket): a few thousand rows even for a year (the
  // buckets are few), read from stat_minutes_period_idx alone. Every unit's, whatever the unit filter: the
  // city's time to answer merges them all.
  const minuteRowsQuery = db
    .select({
      measure: statMinutes.measure,
      unit: statMinutes.unit,
      bucket: statMinutes.bucket,
      n: sql<string>`sum(${statMinutes.n})`,
    })
    .from(statMinutes)
    // Without a tier, the '*' histogram (every tier) rather than three to merge.
    .where(and(inPeriod(statMinutes, q), eq(statMinutes.tier, q.tier ?? '*')))
    .groupBy(statMinutes.measure, statMinutes.unit, statMinutes.bucket);

  const escalationRowsQuery = db
    .select({
      unit: statEscalations.unit,
      level: statEscalations.level,
      outcome: statEscalations.outcome,
      n: sql<string>`sum(${statEscalations.n})`,
    })
    .from(statEscalations)
    .where(
      and(
        inPeriod(statEscalations, q),
        q.tier ? eq(statEscalations.tier, q.tier) : undefined,
        q.unit ? eq(statEscalations.unit, q.unit) : undefined,
      ),
    )
    .groupBy(statEscalations.unit, statEscalations.level, statEscalations.outcome);

  // Overdue now: the open cases of the period whose deadline has passed, from cases_open_received_idx
  // alone (the status list is written as the index's predicate so that the planner can match it).
  const overdueRowsQuery = db
    .select({ unit: cases.issuingUnit, tier: cases.tier, n: sql<string>`count(*)` })
    .from(cases)
    .where(
      and(
        sql`${cases.status} IN ('awaiting_registration', 'registered')`,
        lt(cases.dueAt, now),
        gte(cases.createdAt, start),
        lt(cases.createdAt, end),
        q.tier ? eq(cases.tier, q.tier) : undefined,
      ),
    )
    .groupBy(cases.issuingUnit, cases.tier);

  // Ledger follow-ups (Art. 8): entries the requesting unit recorded on its cases of the period.
  const ledgerRowsQuery = db
    .select({ unit: cases.requestingUnit, n: sql<string>`count(*)` })
    .from(caseLedger)
    .innerJoin(cases, eq(cases.id, caseLedger.caseId))
    .where(
      and(
        eq(caseLedger.recordedUnit, cases.requestingUnit),
        gte(cases.createdAt, start),
        lt(cases.createdAt, end),
        q.tier ? eq(cases.tier, q.tier) : undefined,
        q.unit ? eq(cases.requestingUnit, q.unit) : undefined,
      ),
    )
    .groupBy(cases.requestingUnit);

  const unitRowsQuery = db
    .select({ code: units.code, name: units.name, canIssue: units.canIssue, canRequest: units.canRequest })
    .from(units)
    .where(eq(units.kind, 'department'));
  // Independent reads: on PostgreSQL they run side by side on the pool's connections.
  const [countRows, minuteRows, escalationRows, overdueRows, ledgerRows, unitRows, staffing] =
    await Promise.all([
      countRowsQuery,
      minuteRowsQuery,
      escalationRowsQuery,
      overdueRowsQuery,
      ledgerRowsQuery,
      unitRowsQuery,
      staffingReport(db),
    ]);
  const violating = new Set(staffing.violations.map((v) => v.code));
  const nameOf = new Map(unitRows.map((u) => [u.code, u.name]));

  // Issuing side.
  const wanted = (code: string) => !q.unit || q.unit === code;
  const issuingCodes = new Set(unitRows.filter((u) => u.canIssue).map((u) => u.code));
  const requestingCodes = new Set(unitRows.filter((u) => u.canRequest).map((u) => u.code));
  const issuingCounts = new Map<string, (typeof countRows)[number]>();
  const requestingCounts = new Map<string, (typeof countRows)[number]>();
  for (const r of countRows) {
    if (r.side === 'issuing') {
      issuingCounts.set(r.unit, r);
      if (n(r.received) > 0) issuingCodes.add(r.unit);
    } else {
      requestingCounts.set(r.unit, r);
      if (n(r.received) > 0) requestingCodes.add(r.unit);
    }
  }
  const histograms = new Map<string, Map<number, number>>();
  const count = (key: string, bucket: number, v: number) => {
    const h = histograms.get(key) ?? new Map<number, number>();
    h.set(bucket, (h.get(bucket) ?? 0) + v);
    histograms.set(key, h);
  };
  for (const r of minuteRows) {
    count(`${r.measure}\u0000${r.unit}`, r.bucket, n(r.n));
    if (r.measure === 'answer') count(`answer\u0000${CITY}`, r.bucket, n(r.n));
  }
  const percentiles = (measure: string, unit: string): Percentiles => {
    const h = histograms.get(`${measure}\u0000${unit}`) ?? new Map();
    return { median: histogramPercentile(h, 0.5), p90: histogramPercentile(h, 0.9) };
  };
  const overdue = new Map<string, Record<Tier, number>>();
  let cityOverdue = 0;
  for (const r of overdueRows) {
    const byTier = overdue.get(r.unit) ?? { '30m': 0, '1d': 0, '2d': 0 };
    byTier[r.tier as Tier] += n(r.n);
    overdue.set(r.unit, byTier);
    cityOverdue += n(r.n);
  }
  const escalations = new Map<string, IssuingRow['escalations']>();
  for (const r of escalationRows) {
    const e = escalations.get(r.unit) ?? { level1: 0, level2: 0, byOutcome: {} };
    if (r.level === 1) e.level1 += n(r.n);
    else if (r.level === 2) e.level2 += n(r.n);
    if (r.outcome) e.byOutcome[r.outcome] = (e.byOutcome[r.outcome] ?? 0) + n(r.n);
    escalations.set(r.unit, e);
  }

  const issuing: IssuingRow[] = [...issuingCodes]
    .filter(wanted)
    .sort()
    .map((code) => {
      const c = issuingCounts.get(code);
      const byTier = overdue.get(code) ?? { '30m': 0, '1d': 0, '2d': 0 };
      const onTime = n(c?.onTime);
      const late = n(c?.late);
      return {
        unitId: code,
        unitName: nameOf.get(code) ?? code,
        received: n(c?.received),
        answeredOnTime: onTime,
        answeredLate: late,
        returned: n(c?.returned),
        reclassified: n(c?.reclassified),
        withdrawn: n(c?.withdrawn),
        open: n(c?.open),
        overdueNow: byTier['30m'] + byTier['1d'] + byTier['2d'],
        overdueByTier: byTier,
        onTimeRate: rate(onTime, onTime + late),
        registerMinutes: percentiles('register', code),
        answerMinutes: percentiles('answer', code),
        escalations: escalations.get(code) ?? { level1: 0, level2: 0, byOutcome: {} },
        staffingCompliant: !violating.has(code),
      };
    });

  const ledger = new Map(ledgerRows.map((r) => [r.unit, n(r.n)]));
  const requesting: RequestingRow[] = [...requestingCodes]
    .filter(wanted)
    .sort()
    .map((code) => {
      const c = requestingCounts.get(code);
      const answered = n(c?.onTime) + n(c?.late);
      return {
        unitId: code,
        unitName: nameOf.get(code) ?? code,
        sent: n(c?.received),
        verificationWaitMinutes: { total: n(c?.wait), median: percentiles('wait', code).median },
        mismatchRate: rate(n(c?.mismatched), answered),
        ledgerFollowUps: ledger.get(code) ?? 0,
      };
    });

  let cityReceived = 0;
  let cityOnTime = 0;
  let cityLate = 0;
  for (const r of countRows) {
    if (r.side === 'requesting') cityReceived += n(r.received);
    else {
      cityOnTime += n(r.onTime);
      cityLate += n(r.late);
    }
  }

  const ranking = issuing
    .filter((r) => r.received > 0)
    .sort(
      (a, b) =>
        (b.onTimeRate ?? -1) - (a.onTimeRate ?? -1) ||
        b.received - a.received ||
        a.unitId.localeCompare(b.unitId),
    )
    .map((r, i) => ({
      rank: i + 1,
      unitId: r.unitId,
      unitName: r.unitName,
      onTimeRate: r.onTimeRate,
      received: r.received,
    }));

  return {
    period: { from: q.from, to: q.to },
    issuing,
    requesting,
    city: {
      received: cityReceived,
      answeredOnTime: cityOnTime,
      answeredLate: cityLate,
      onTimeRate: rate(cityOnTime, cityOnTime + cityLate),
      overdueNow: cityOverdue,
      answerMinutes: percentiles('answer', CITY),
    },
    ranking,
  };
}

/**
 * One entry per day of the period: cases received (city-wide; with `unit`, that issuing unit's), and
 * answers to them, on time or not.
 */
export async function trendStats(
  db: Db,
  q: StatsQuery,
): Promise<{ period: { from: string; to: string }; days: TrendDay[] }> {
  const rows = await db
    .select({
      day: sql<string>`to_char(${statCounts.start}, 'YYYY-MM-DD')`,
      side: statCounts.side,
      received: sql<string>`sum(${statCounts.received})`,
      onTime: sql<string>`sum(${statCounts.answeredOnTime})`,
      late: sql<string>`sum(${statCounts.answeredLate})`,
    })
    .from(statCounts)
    .where(
      and(
        eq(statCounts.span, 'day'),
        between(statCounts.start, q.from, q.to),
        q.tier ? eq(statCounts.tier, q.tier) : undefined,
        q.unit ? and(eq(statCounts.side, 'issuing'), eq(statCounts.unit, q.unit)) : undefined,
      ),
    )
    .groupBy(statCounts.start, statCounts.side);
  const byDay = new Map<string, { received: number; onTime: number; late: number }>();
  for (const r of rows) {
    const day = r.day;
    const d = byDay.get(day) ?? { received: 0, onTime: 0, late: 0 };
    // City-wide, a case counts once (its requesting row); a unit's, its routings to that unit.
    if (q.unit || r.side === 'requesting') d.received += n(r.received);
    if (r.side === 'issuing') {
      d.onTime += n(r.onTime);
      d.late += n(r.late);
    }
    byDay.set(day, d);
  }
  const days: TrendDay[] = [];
  for (let day = q.from; day <= q.to; day = addCalendarDays(day, 1)) {
    const d = byDay.get(day) ?? { received: 0, onTime: 0, late: 0 };
    days.push({
      date: day,
      received: d.received,
      answered: d.onTime + d.late,
      answeredOnTime: d.onTime,
      onTimeRate: rate(d.onTime, d.onTime + d.late),
    });
  }
  return { period: { from: q.from, to: q.to }, days };
}

// ─── Responsibility disputes (职责争议, Art. 7/11), per disputing unit ─────────────────────────────

export interface DisputeStatsRow {
  unit: string;
  /** Disputes the unit filed in the period (by the Beijing date filed). */
  filed: number;
  /** Upheld: the office re-routed the case. */
  upheld: number;
  /** Rejected: the office ordered the unit to answer. */
  rejected: number;
  /** Still undecided, and of them past the office's deadline. */
  open: number;
  overdue: number;
  /** Decided after the office's deadline. */
  decidedLate: number;
}

/** Dispute counts per disputing unit over a period (a grouped query on `disputes`; `unit` narrows it). */
export async function disputeStats(db: Db, q: StatsQuery): Promise<DisputeStatsRow[]> {
  const where = [
    gte(disputes.filedAt, shanghaiInstant(q.from, 0)),
    lt(disputes.filedAt, shanghaiInstant(addCalendarDays(q.to, 1), 0)),
  ];
  if (q.unit) where.push(eq(disputes.unitCode, q.unit));
  const rows = await db
    .select({
      unit: disputes.unitCode,
      filed: sql<number>`count(*)::int`,
      upheld: sql<number>`count(*) filter (where ${disputes.outcome} = 'reroute')::int`,
      rejected: sql<number>`count(*) filter (where ${disputes.outcome} = 'must_answer')::int`,
      open: sql<number>`count(*) filter (where ${disputes.status} in ('open', 'overdue'))::int`,
      overdue: sql<number>`count(*) filter (where ${disputes.status} = 'overdue')::int`,
      decidedLate: sql<number>`count(*) filter (where ${disputes.decidedLate})::int`,
    })
    .from(disputes)
    .where(and(...where))
    .groupBy(disputes.unitCode)
    .orderBy(disputes.unitCode);
  return rows;
}
