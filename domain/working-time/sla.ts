// SLA deadlines in working time (Zibo measures Art. 7 and the Chinese rule for time limits).
//
// - '30m' counts 30 working minutes inside office hours; closed time (lunch, nights, days off) is
//   skipped, so counting starts at the next opening.
// - '1d' / '2d': the day of receipt is not counted; the limit ends at the close of office hours
//   (end of the last interval) of the 1st / 2nd working day after it.
// - SlaRules.offHoursReceipt decides what "day of receipt" is for a request that arrives while the
//   office is closed: 'next-opening' (default) deems it received at the next opening; 'as-is' keeps
//   the calendar day it actually arrived on.
// - A day in a year without a known official schedule is decided from the law (statutory holidays off,
//   weekends otherwise) and the result carries the flag 'calendar_provisional' — never a silent guess.
//   ('calendar_not_covered', the weekends-only flag of earlier versions, may still be on old cases.)
//
// All arithmetic is on epoch milliseconds; nothing here reads the clock or the machine's time zone.

import { type CalendarData, dayKind, hoursIntervals, officeHoursPeriods } from './calendar.ts';
import {
  addCalendarDays,
  assertValidInstant,
  MINUTE_MS,
  type ShanghaiDate,
  shanghaiDateOf,
  shanghaiMidnightMs,
} from './shanghai.ts';

export type SlaTier = '30m' | '1d' | '2d';
export const SLA_TIERS: readonly SlaTier[] = ['30m', '1d', '2d'];
export type DeadlineFlag = 'calendar_provisional';

export interface SlaRules {
  offHoursReceipt: 'next-opening' | 'as-is';
}
export const DEFAULT_SLA_RULES: SlaRules = { offHoursReceipt: 'next-opening' };

/** Searches for a working day give up after this many consecutive closed days. */
export const MAX_CLOSED_DAYS = 400;

export interface Deadline {
  dueAt: Date;
  /** When the clock starts: the next opening for '30m' (and for day tiers under 'next-opening'). */
  effectiveReceivedAt: Date;
  flags: DeadlineFlag[];
}

export function isSlaTier(value: unknown): value is SlaTier {
  return typeof value === 'string' && (SLA_TIERS as readonly string[]).includes(value);
}

/**
 * One computation's view of the calendar: office hours parsed once (per period), and a record of whether
 * any day it looked at had to be guessed.
 */
class Walk {
  private readonly cal: CalendarData;
  /** Ascending by `from`; the first `from: null`. */
  private readonly periods: Array<{ from: ShanghaiDate | null; intervals: Array<readonly [number, number]> }>;
  private guessed = false;

  constructor(cal: CalendarData) {
    this.cal = cal;
    this.periods = officeHoursPeriods(cal.officeHours).map((p) => ({
      from: p.from,
      intervals: hoursIntervals(p.hours),
    }));
    if (this.periods.length === 0) throw new RangeError('office hours must not be empty');
  }

  /** Office hours in force on `date` (the latest period starting on or before it), in minutes of the day. */
  private intervalsOn(date: ShanghaiDate): Array<readonly [number, number]> {
    let found = this.periods[0]?.intervals ?? [];
    for (const p of this.periods) if (p.from === null || p.from <= date) found = p.intervals;
    return found;
  }

  isWorking(date: ShanghaiDate): boolean {
    const kind = dayKind(this.cal, date);
    if (kind.guessed) this.guessed = true;
    return kind.working;
  }

  /** Office intervals of `date` as epoch-ms [start, end) pairs; none on a day off. */
  openOn(date: ShanghaiDate): Array<readonly [number, number]> {
    if (!this.isWorking(date)) return [];
    const midnight = shanghaiMidnightMs(date);
    return this.intervalsOn(date).map(
      ([s, e]) => [midnight + s * MINUTE_MS, midnight + e * MINUTE_MS] as const,
    );
  }

  closeOf(date: ShanghaiDate): number {
    const intervals = this.intervalsOn(date);
    const last = intervals[intervals.length - 1];
    if (!last) throw new RangeError('office hours must not be empty');
    return shanghaiMidnightMs(date) + last[1] * MINUTE_MS;
  }

  flags(): DeadlineFlag[] {
    return this.guessed ? ['calendar_provisional'] : [];
  }

  /** `at` itself if the office is open then, else the start of the next office interval. */
  nextOpening(at: number): number {
    let date = shanghaiDateOf(new Date(at));
    for (let i = 0; i <= MAX_CLOSED_DAYS; i++) {
      for (const [s, e] of this.openOn(date)) {
        if (at < e) return Math.max(at, s);
      }
      date = addCalendarDays(date, 1);
    }
    throw noWorkingDay(at);
  }

  /** Earliest instant t >= from with exactly `amount` ms of office time in [from, t]. */
  addWorking(from: number, amount: number): number {
    if (amount === 0) return from;
    let remaining = amount;
    let date = shanghaiDateOf(new Date(from));
    let closedDays = 0;
    for (;;) {
      const open = this.openOn(date);
      closedDays = open.length === 0 ? closedDays + 1 : 0;
      if (closedDays > MAX_CLOSED_DAYS) throw noWorkingDay(from);
      for (const [s, e] of open) {
        const start = Math.max(from, s);
        if (start >= e) continue;
        if (remaining <= e - start) return start + remaining;
        remaining -= e - start;
      }
      date = addCalendarDays(date, 1);
    }
  }

  /** Office time in [from, to] for from <= to. */
  workingBetween(from: number, to: number): number {
    let total = 0;
    const last = shanghaiDateOf(new Date(to));
    for (let date = shanghaiDateOf(new Date(from)); date <= last; date = addCalendarDays(date, 1)) {
      for (const [s, e] of this.openOn(date)) {
        const overlap = Math.min(e, to) - Math.max(s, from);
        if (overlap > 0) total += overlap;
      }
    }
    return total;
  }

  /** The n-th (n >= 1) working day strictly after `date`. */
  nthWorkingDayAfter(date: ShanghaiDate, n: number): ShanghaiDate {
    let found = 0;
    let closedDays = 0;
    let day = date;
    while (found < n) {
      day = addCalendarDays(day, 1);
      if (this.isWorking(day)) {
        found++;
        closedDays = 0;
      } else if (++closedDays > MAX_CLOSED_DAYS) {
        throw new Error(`no working day within ${MAX_CLOSED_DAYS} days after ${day}`);
      }
    }
    return day;
  }
}

function noWorkingDay(at: number): Error {
  return new Error(
    `no working day within ${MAX_CLOSED_DAYS} days of ${new Date(at).toISOString()}; check the calendar`,
  );
}

const TIER_DAYS: Record<Exclude<SlaTier, '30m'>, number> = { '1d': 1, '2d': 2 };

export function computeDeadline(
  receivedAt: Date,
  tier: SlaTier,
  cal: CalendarData,
  rules: SlaRules = DEFAULT_SLA_RULES,
): Deadline {
  const received = assertValidInstant(receivedAt, 'receivedAt');
  const walk = new Walk(cal);
  if (tier === '30m') {
    // Working minutes skip closed time anyway, so the clock starts at the next opening whatever
    // the offHoursReceipt rule says.
    const effective = walk.nextOpening(received);
    const due = walk.addWorking(effective, 30 * MINUTE_MS);
    return { dueAt: new Date(due), effectiveReceivedAt: new Date(effective), flags: walk.flags() };
  }
  const effective = rules.offHoursReceipt === 'next-opening' ? walk.nextOpening(received) : received;
  const dueDay = walk.nthWorkingDayAfter(shanghaiDateOf(new Date(effective)), TIER_DAYS[tier]);
  return {
    dueAt: new Date(walk.closeOf(dueDay)),
    effectiveReceivedAt: new Date(effective),
    flags: walk.flags(),
  };
}

/**
 * Office-hours minutes between two instants. Antisymmetric: negative when `to` is before `from`,
 * so workingMinutesBetween(now, dueAt) is the time left ("剩余 25 分钟（工作时间）", negative once
 * overdue) and workingMinutesBetween(dueAt, doneAt) is the lateness. Fractional when the instants
 * are not on whole minutes; callers round for display.
 */
export function workingMinutesBetween(
  from: Date,
  to: Date,
  cal: CalendarData,
): { minutes: number; flags: DeadlineFlag[] } {
  const a = assertValidInstant(from, 'from');
  const b = assertValidInstant(to, 'to');
  const walk = new Walk(cal);
  const ms = a <= b ? walk.workingBetween(a, b) : -walk.workingBetween(b, a);
  return { minutes: ms / MINUTE_MS + 0, flags: walk.flags() }; // + 0 turns -0 into 0
}

/**
 * The earliest instant at which `minutes` (>= 0, may be fractional) of office time have elapsed
 * since `from`. May be exactly the end of an office interval (e.g. 12:00), never inside a break.
 */
export function addWorkingMinutes(
  from: Date,
  minutes: number,
  cal: CalendarData,
): { at: Date; flags: DeadlineFlag[] } {
  const start = assertValidInstant(from, 'from');
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new RangeError(`minutes must be a finite number >= 0, got ${minutes}`);
  }
  const walk = new Walk(cal);
  const at = walk.addWorking(start, Math.round(minutes * MINUTE_MS));
  return { at: new Date(at), flags: walk.flags() };
}

/**
 * The instant when `fraction` (0..1) of the working time between receipt and deadline has
 * elapsed — e.g. 0.5 and 0.8 for reminders. Measured in working time so a reminder never lands
 * on a night or a holiday before any work time has passed.
 */
export function instantAtFraction(
  effectiveReceivedAt: Date,
  dueAt: Date,
  fraction: number,
  cal: CalendarData,
): { at: Date; flags: DeadlineFlag[] } {
  const from = assertValidInstant(effectiveReceivedAt, 'effectiveReceivedAt');
  const to = assertValidInstant(dueAt, 'dueAt');
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new RangeError(`fraction must be within [0, 1], got ${fraction}`);
  }
  if (to < from) throw new RangeError('dueAt is before effectiveReceivedAt');
  const walk = new Walk(cal);
  const total = walk.workingBetween(from, to);
  const at = walk.addWorking(from, Math.round(total * fraction));
  // Rounding can never push past the deadline, but clamp to keep the invariant obvious.
  return { at: new Date(Math.min(at, to)), flags: walk.flags() };
}

/** `at` itself if the office is open then, otherwise the start of the next office interval. */
export function nextOpening(at: Date, cal: CalendarData): Date {
  return new Date(new Walk(cal).nextOpening(assertValidInstant(at)));
}

/**
 * The n-th (n >= 1) working day after the Shanghai date of `at` (that date itself is not
 * counted), with its closing instant — for quick picks such as "close by +1 working day".
 */
export function workingDaysAfter(
  at: Date,
  n: number,
  cal: CalendarData,
): { date: ShanghaiDate; closeAt: Date; flags: DeadlineFlag[] } {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
  const walk = new Walk(cal);
  const date = walk.nthWorkingDayAfter(shanghaiDateOf(at), n);
  return { date, closeAt: new Date(walk.closeOf(date)), flags: walk.flags() };
}

/**
 * Shanghai dates from the day of receipt to the day of the deadline, inclusive. A calendar change
 * (day kind or coverage) on one of these dates may move the deadline of an open case, so it must
 * be re-timed; a change outside cannot. Pass the original receivedAt, not the effective one: a
 * Saturday receipt becomes earlier if that Saturday is turned into a make-up working day.
 * (An office-hours period from a date is a change on that date: it moves the cases whose window reaches it.)
 */
export function deadlineWindow(receivedAt: Date, dueAt: Date): ShanghaiDate[] {
  const first = shanghaiDateOf(receivedAt);
  const last = shanghaiDateOf(dueAt);
  const out: ShanghaiDate[] = [];
  for (let date = first; date <= last; date = addCalendarDays(date, 1)) out.push(date);
  return out;
}

/** True when any of `changedDates` lies in deadlineWindow(receivedAt, dueAt). */
export function windowTouches(receivedAt: Date, dueAt: Date, changedDates: Iterable<ShanghaiDate>): boolean {
  const first = shanghaiDateOf(receivedAt);
  const last = shanghaiDateOf(dueAt);
  for (const date of changedDates) if (date >= first && date <= last) return true;
  return false;
}
