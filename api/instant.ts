/**
 * Date-times at the edge. JSON Schema's `date-time` (RFC 3339) admits values JavaScript's `Date` cannot
 * hold or silently moves: a leap second (`23:59:60`), `02-30` (read as 2 March), year 0000, an instant
 * outside years 1–9999 (PostgreSQL and the calendar). The API's `date-time` and `date` formats accept
 * only what `parseInstant` / `isCalendarDate` accept, so every route refuses such input with a 400 that
 * names the field, and every `new Date(value)` behind the schema is the instant that was written.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** 0001-01-01T00:00:00Z (`Date.UTC` would read year 1 as 1901). */
const FIRST_MS = new Date(Date.UTC(2000, 0, 1)).setUTCFullYear(1);
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Milliseconds of a calendar date at midnight UTC, if the date exists (no 02-30, no year 0000). */
function dayMs(y: number, m: number, d: number): number | undefined {
  if (y < 1 || m < 1 || m > 12 || d < 1) return undefined;
  const t = new Date(Date.UTC(2000, m - 1, d));
  t.setUTCFullYear(y, m - 1, d);
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
    ? t.getTime()
    : undefined;
}

export function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  return !!m && dayMs(Number(m[1]), Number(m[2]), Number(m[3])) !== undefined;
}

/** The instant an RFC 3339 date-time denotes, or undefined when `Date` cannot represent it exactly. */
export function parseInstant(s: string): Date | undefined {
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [h, min, sec] = [Number(m[4]), Number(m[5]), Number(m[6])];
  const day = dayMs(Number(m[1]), Number(m[2]), Number(m[3]));
  if (day === undefined || h > 23 || min > 59 || sec > 59) return undefined;
  const [oh, om] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (oh > 23 || om > 59) return undefined;
  const offset = (m[8] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  const fraction = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const t = day + ((h * 60 + min) * 60 + sec) * 1000 + fraction - offset;
  if (t < FIRST_MS || t > LAST_MS) return undefined;
  // Whatever reads the string again later (`new Date(s)`) must find this same instant.
  return Date.parse(s) === t ? new Date(t) : undefined;
}

export const isInstant = (s: string): boolean => parseInstant(s) !== undefined;
