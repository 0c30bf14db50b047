// The city's working calendar as plain, serialisable data.
//
// The default comes from the `chinese-days` npm package; administrators' database rows are merged
// on top (mergeCalendarData) so a holiday schedule published in November, an emergency closure or
// summer office hours never need a code change.

import chineseDaysData from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import {
  parseHHMM,
  type ShanghaiDate,
  shanghaiDateOf,
  shanghaiMidnightMs,
  weekdayOf,
  yearOf,
} from './shanghai.ts';
import { statutoryHolidays } from './statutory-holidays.ts';

export interface OfficeHours {
  /** 'HH:MM' Shanghai time. */
  start: string;
  /** 'HH:MM' Shanghai time, exclusive: at 'end' the office is closed. '24:00' is allowed. */
  end: string;
}

/**
 * Office hours in force from a date on (summer hours…): each working day uses the period whose `from` is the
 * latest on or before it. The first period has `from: null` (since the beginning of time), so every day has
 * hours; a later period never changes the days before its `from`, which is how time already elapsed is never
 * recomputed.
 */
export interface OfficeHoursPeriod {
  /** First Shanghai date ('YYYY-MM-DD') the hours apply; null for the first period (since the beginning). */
  from: ShanghaiDate | null;
  /** Ascending, non-overlapping intervals. */
  hours: OfficeHours[];
}

/** Office hours as stored: the plain list of earlier versions (one period since the beginning) or periods. */
export type StoredOfficeHours = readonly OfficeHours[] | readonly OfficeHoursPeriod[];

export interface DayEntry {
  kind: 'work' | 'off';
  name?: string;
}

export interface CalendarData {
  /** Explicit day kinds keyed by 'YYYY-MM-DD': holidays (off), make-up working days (work), overrides. */
  days: Record<ShanghaiDate, DayEntry>;
  /**
   * Years whose official schedule is known. Other years are counted provisionally from the law (statutory
   * holidays, weekends otherwise; see statutory-holidays.ts) and flagged.
   */
  coveredYears: number[];
  /** Periods ascending by `from`, the first one `from: null`; see OfficeHoursPeriod. */
  officeHours: OfficeHoursPeriod[];
}

export const DEFAULT_OFFICE_HOURS: readonly OfficeHours[] = [
  { start: '09:00', end: '12:00' },
  { start: '13:30', end: '17:30' },
];

// Shape of node_modules/chinese-days/dist/chinese-days.json: { holidays, workdays, inLieuDays },
// each keyed by 'YYYY-MM-DD' with values like "Spring Festival,春节,4".
interface ChineseDaysJson {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

/** "Spring Festival,春节,4" → "春节". */
function festivalName(raw: string): string {
  const parts = raw.split(',');
  return parts[parts.length - 2] ?? raw;
}

/**
 * Calendar built from chinese-days' shipped JSON data.
 *
 * We read the data file rather than calling the library's isWorkday(): those functions answer
 * "working day" for years they have no data for, and they parse 'YYYY-MM-DD' as UTC midnight but
 * read it back in the machine's local zone (under TZ=America/New_York isWorkday('2026-01-05')
 * inspects 2026-01-04). The data file has neither problem.
 */
export function defaultCalendarData(): CalendarData {
  const source = chineseDaysData as ChineseDaysJson;
  const days: Record<ShanghaiDate, DayEntry> = {};
  const covered = new Set<number>();
  for (const [date, raw] of Object.entries(source.holidays)) {
    days[date] = { kind: 'off', name: festivalName(raw) };
    // Every published schedule has holidays, so "has holiday data" is what "covered" means.
    covered.add(yearOf(date));
  }
  for (const [date, raw] of Object.entries(source.workdays)) {
    days[date] = { kind: 'work', name: `${festivalName(raw)}调休上班` };
  }
  return {
    days,
    coveredYears: [...covered].sort((a, b) => a - b),
    officeHours: [{ from: null, hours: DEFAULT_OFFICE_HOURS.map((h) => ({ ...h })) }],
  };
}

function isPeriod(entry: OfficeHours | OfficeHoursPeriod): entry is OfficeHoursPeriod {
  return 'hours' in entry;
}

/**
 * Office hours in either stored shape as periods (copies): a plain list of intervals (settings saved before
 * periods existed) is one period since the beginning of time. Not validated here (validateOfficeHours).
 */
export function officeHoursPeriods(stored: StoredOfficeHours): OfficeHoursPeriod[] {
  const entries = stored as readonly (OfficeHours | OfficeHoursPeriod)[];
  if (entries.length > 0 && !entries.every(isPeriod)) {
    return [{ from: null, hours: (entries as OfficeHours[]).map((h) => ({ start: h.start, end: h.end })) }];
  }
  return (entries as OfficeHoursPeriod[]).map((p) => ({
    from: p.from ?? null,
    hours: p.hours.map((h) => ({ start: h.start, end: h.end })),
  }));
}

/**
 * Periods with one added (or replaced, for the same `from`) and kept in order. `from: null` replaces the first
 * period. Returns new periods; the caller validates.
 */
export function withOfficeHoursPeriod(
  periods: readonly OfficeHoursPeriod[],
  period: OfficeHoursPeriod,
): OfficeHoursPeriod[] {
  const others = periods.filter((p) => p.from !== period.from);
  return [...others, period].sort((a, b) =>
    a.from === b.from ? 0 : a.from === null ? -1 : b.from === null ? 1 : a.from < b.from ? -1 : 1,
  );
}

/** The office hours in force on `date`: those of the latest period starting on or before it. */
export function officeHoursOn(cal: Pick<CalendarData, 'officeHours'>, date: ShanghaiDate): OfficeHours[] {
  const periods = officeHoursPeriods(cal.officeHours);
  let found = periods[0];
  for (const p of periods) if (p.from === null || p.from <= date) found = p;
  if (!found) throw new RangeError('office hours must not be empty');
  return found.hours;
}

/** What administrators can add on top of the library (all fields optional). */
export interface CalendarOverrides {
  days?: Record<ShanghaiDate, DayEntry>;
  coveredYears?: number[];
  /** Either stored shape (officeHoursPeriods). */
  officeHours?: StoredOfficeHours;
}

/**
 * Overrides win: their days replace the base's entry for the same date, their covered years are
 * added, and their office hours (if given) replace the base's. Returns a new object.
 */
export function mergeCalendarData(base: CalendarData, overrides: CalendarOverrides): CalendarData {
  const merged: CalendarData = {
    days: { ...base.days, ...(overrides.days ?? {}) },
    coveredYears: [...new Set([...base.coveredYears, ...(overrides.coveredYears ?? [])])].sort(
      (a, b) => a - b,
    ),
    officeHours: officeHoursPeriods(overrides.officeHours ?? base.officeHours),
  };
  validateCalendarData(merged);
  return merged;
}

/** Throws a RangeError describing the first problem found (bad date keys, bad office hours). */
export function validateCalendarData(cal: CalendarData): void {
  for (const [date, entry] of Object.entries(cal.days)) {
    weekdayOf(date); // throws on a malformed date
    if (entry.kind !== 'work' && entry.kind !== 'off') {
      throw new RangeError(`day ${date}: kind must be 'work' or 'off'`);
    }
  }
  for (const year of cal.coveredYears) {
    if (!Number.isInteger(year)) throw new RangeError(`covered year must be an integer: ${year}`);
  }
  validateOfficeHours(cal.officeHours);
}

/**
 * Throws a RangeError for periods that are not: at least one; the first `from: null` and the others valid dates,
 * strictly ascending; each with valid hours (hoursIntervals).
 */
export function validateOfficeHours(stored: StoredOfficeHours): void {
  const periods = officeHoursPeriods(stored);
  if (periods.length === 0) throw new RangeError('office hours must not be empty');
  let previous: ShanghaiDate | null = null;
  periods.forEach((p, i) => {
    if (i === 0 && p.from !== null)
      throw new RangeError('the first office-hours period must have from: null');
    if (i > 0) {
      if (p.from === null) throw new RangeError('only the first office-hours period may have from: null');
      weekdayOf(p.from); // throws on a malformed date
      if (previous !== null && p.from <= previous)
        throw new RangeError('office-hours periods must be ascending by date, one per date');
      previous = p.from;
    }
    hoursIntervals(p.hours);
  });
}

/**
 * The office hours in force on `date` (default: those of the first period, since the beginning) as
 * [startMinute, endMinute) pairs, validated.
 */
export function officeIntervals(cal: CalendarData, date?: ShanghaiDate): Array<readonly [number, number]> {
  const periods = officeHoursPeriods(cal.officeHours);
  const hours = date === undefined ? periods[0]?.hours : officeHoursOn(cal, date);
  return hoursIntervals(hours ?? []);
}

/**
 * One day's office hours as [startMinute, endMinute) pairs, validated. An empty list is rejected because
 * every deadline computation would otherwise search forever for an opening.
 */
export function hoursIntervals(hours: readonly OfficeHours[]): Array<readonly [number, number]> {
  if (hours.length === 0) throw new RangeError('office hours must not be empty');
  const out: Array<readonly [number, number]> = [];
  let previousEnd = 0;
  for (const { start, end } of hours) {
    const s = parseHHMM(start);
    const e = parseHHMM(end);
    if (s >= e) throw new RangeError(`office hours ${start}-${end}: start must be before end`);
    if (s < previousEnd) throw new RangeError('office hours must be ascending and must not overlap');
    out.push([s, e] as const);
    previousEnd = e;
  }
  return out;
}

export function isCovered(cal: CalendarData, year: number): boolean {
  return cal.coveredYears.includes(year);
}

export interface DayKind {
  working: boolean;
  /**
   * 'explicit' = from `days`; 'statute' = a statutory holiday in a year without an official schedule;
   * 'weekday' = Mon–Fri rule.
   */
  source: 'explicit' | 'statute' | 'weekday';
  /** True when the answer is provisional: the year's official schedule is not known. */
  guessed: boolean;
  name?: string;
}

/**
 * Explicit day kind wins; in a year without an official schedule the statutory holidays are off (provisionally);
 * otherwise Monday–Friday are working days.
 */
export function dayKind(cal: CalendarData, date: ShanghaiDate): DayKind {
  const weekday = weekdayOf(date); // validates the date string too
  const entry = cal.days[date];
  if (entry) {
    return {
      working: entry.kind === 'work',
      source: 'explicit',
      guessed: false,
      ...(entry.name === undefined ? {} : { name: entry.name }),
    };
  }
  const year = yearOf(date);
  const covered = isCovered(cal, year);
  const statutory = covered || year < 1900 || year > 2099 ? undefined : statutoryHolidays(year).get(date);
  if (statutory) return { working: false, source: 'statute', guessed: true, name: statutory };
  return { working: weekday >= 1 && weekday <= 5, source: 'weekday', guessed: !covered };
}

export function isWorkingDay(cal: CalendarData, date: ShanghaiDate): boolean {
  return dayKind(cal, date).working;
}

/** How long before a year without an official schedule begins that people are told (issue: calendar across years). */
export const COVERAGE_WARNING_DAYS = 60;

export interface CoverageGap {
  /** The year whose official schedule is missing. */
  year: number;
  /** Days from today (Shanghai) to its Jan 1; 0 or less when that year has begun. */
  daysUntil: number;
  /** What people read, in Chinese. */
  message: string;
}

/**
 * The current or next year without an official schedule, from COVERAGE_WARNING_DAYS before it begins; else
 * undefined. Deadlines in it are provisional until an administrator imports the State Council's schedule.
 */
export function coverageGap(
  cal: CalendarData,
  now: Date,
  warnDays = COVERAGE_WARNING_DAYS,
): CoverageGap | undefined {
  const today = shanghaiDateOf(now);
  const thisYear = yearOf(today);
  const gap = (year: number, daysUntil: number): CoverageGap => ({
    year,
    daysUntil,
    message:
      daysUntil > 0
        ? `${year} 年度官方放假安排尚未导入（${daysUntil} 天后开始）：该年度的办结时限暂按法定节假日推定，请在国务院办公厅公布后导入`
        : `${year} 年度官方放假安排尚未导入：本年度的办结时限暂按法定节假日推定，请尽快导入`,
  });
  if (!isCovered(cal, thisYear)) return gap(thisYear, 0);
  const next = thisYear + 1;
  const daysUntil = Math.round(
    (shanghaiMidnightMs(`${next}-01-01`) - shanghaiMidnightMs(today)) / 86_400_000,
  );
  return daysUntil <= warnDays && !isCovered(cal, next) ? gap(next, daysUntil) : undefined;
}
