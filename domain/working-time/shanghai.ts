// Asia/Shanghai wall-clock helpers.
//
// China has used UTC+8 with no daylight saving since 1991, so converting between an instant and
// Shanghai wall-clock time is a fixed offset. We do the arithmetic on UTC getters of a shifted
// Date, which never consults the machine's time zone (the code must behave the same on a server
// set to UTC, to America/New_York, or inside a Temporal workflow sandbox).

/** Shanghai calendar date, always `YYYY-MM-DD`. */
export type ShanghaiDate = string;

export const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
export const MINUTE_MS = 60 * 1000;
export const DAY_MINUTES = 24 * 60;
const DAY_MS = DAY_MINUTES * MINUTE_MS;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM_RE = /^(\d{2}):(\d{2})$/;

/** Throws on an invalid Date so that a NaN never leaks into a deadline. */
export function assertValidInstant(at: Date, what = 'instant'): number {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`invalid ${what}: ${String(at)}`);
  return ms;
}

function parseDate(date: ShanghaiDate): { y: number; m: number; d: number } {
  const match = DATE_RE.exec(date);
  if (!match) throw new RangeError(`expected YYYY-MM-DD, got ${JSON.stringify(date)}`);
  const y = Number(match[1]);
  const m = Number(match[2]);
  const d = Number(match[3]);
  // Round-trip check rejects 2026-02-30 and the like instead of silently rolling over.
  const back = new Date(Date.UTC(y, m - 1, d));
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d) {
    throw new RangeError(`no such date: ${date}`);
  }
  return { y, m, d };
}

export function isShanghaiDate(value: string): boolean {
  try {
    parseDate(value);
    return true;
  } catch {
    return false;
  }
}

function formatUtcDate(ms: number): ShanghaiDate {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`year out of range: ${y}`);
  return `${String(y).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(
    d.getUTCDate(),
  ).padStart(2, '0')}`;
}

/** The Shanghai calendar date on which `at` falls. */
export function shanghaiDateOf(at: Date): ShanghaiDate {
  return formatUtcDate(assertValidInstant(at) + SHANGHAI_OFFSET_MS);
}

/**
 * Minutes since Shanghai midnight, including the fractional part for seconds/milliseconds
 * (11:45:30 → 705.5), so that nothing is rounded away before deadline arithmetic.
 */
export function shanghaiMinuteOfDay(at: Date): number {
  const local = assertValidInstant(at) + SHANGHAI_OFFSET_MS;
  const msOfDay = ((local % DAY_MS) + DAY_MS) % DAY_MS;
  return msOfDay / MINUTE_MS;
}

/** Epoch milliseconds of Shanghai midnight starting `date`. */
export function shanghaiMidnightMs(date: ShanghaiDate): number {
  const { y, m, d } = parseDate(date);
  return Date.UTC(y, m - 1, d) - SHANGHAI_OFFSET_MS;
}

/** The instant at `minuteOfDay` (0..1440, may be fractional) Shanghai time on `date`. */
export function shanghaiInstant(date: ShanghaiDate, minuteOfDay: number): Date {
  if (!Number.isFinite(minuteOfDay) || minuteOfDay < 0 || minuteOfDay > DAY_MINUTES) {
    throw new RangeError(`minute of day out of range: ${minuteOfDay}`);
  }
  return new Date(shanghaiMidnightMs(date) + Math.round(minuteOfDay * MINUTE_MS));
}

/** Calendar arithmetic on date strings (n may be negative). */
export function addCalendarDays(date: ShanghaiDate, n: number): ShanghaiDate {
  if (!Number.isInteger(n)) throw new RangeError(`day count must be an integer: ${n}`);
  const { y, m, d } = parseDate(date);
  return formatUtcDate(Date.UTC(y, m - 1, d + n));
}

/** 0 = Sunday … 6 = Saturday, like Date#getDay but for the Shanghai date itself. */
export function weekdayOf(date: ShanghaiDate): number {
  const { y, m, d } = parseDate(date);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

export function yearOf(date: ShanghaiDate): number {
  return parseDate(date).y;
}

/** 'HH:MM' → minutes since midnight; '24:00' is allowed as an end of day. */
export function parseHHMM(value: string): number {
  const match = HHMM_RE.exec(value);
  if (!match) throw new RangeError(`expected HH:MM, got ${JSON.stringify(value)}`);
  const h = Number(match[1]);
  const min = Number(match[2]);
  const total = h * 60 + min;
  if (min > 59 || total > DAY_MINUTES) throw new RangeError(`no such time of day: ${value}`);
  return total;
}
