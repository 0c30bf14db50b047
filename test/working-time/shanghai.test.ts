import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  computeDeadline,
  defaultCalendarData,
  parseHHMM,
  shanghaiDateOf,
  shanghaiInstant,
  shanghaiMinuteOfDay,
  weekdayOf,
} from '../../domain/working-time/index.ts';

describe('Shanghai wall-clock helpers (fixed UTC+8)', () => {
  it('maps an instant to the Shanghai date and minute of day', () => {
    const instant = new Date('2026-03-10T16:00:00Z'); // 00:00 on 03-11 in Shanghai
    expect(shanghaiDateOf(instant)).toBe('2026-03-11');
    expect(shanghaiMinuteOfDay(instant)).toBe(0);
    const before = new Date('2026-03-10T15:59:30Z');
    expect(shanghaiDateOf(before)).toBe('2026-03-10');
    expect(shanghaiMinuteOfDay(before)).toBe(23 * 60 + 59.5);
  });

  it('builds the instant for a Shanghai date and minute of day', () => {
    expect(shanghaiInstant('2026-03-10', 9 * 60).toISOString()).toBe('2026-03-10T01:00:00.000Z');
    expect(shanghaiInstant('2026-03-10', 0).toISOString()).toBe('2026-03-09T16:00:00.000Z');
    expect(shanghaiInstant('2026-03-10', 24 * 60).toISOString()).toBe('2026-03-10T16:00:00.000Z');
    expect(() => shanghaiInstant('2026-03-10', 1441)).toThrow(RangeError);
  });

  it('adds calendar days across months, leap days and years', () => {
    expect(addCalendarDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2026-01-01', -1)).toBe('2025-12-31');
  });

  it('gives the weekday of the date itself (0 = Sunday)', () => {
    expect(weekdayOf('2026-01-01')).toBe(4); // Thursday
    expect(weekdayOf('2026-02-14')).toBe(6); // Saturday
    expect(weekdayOf('2026-09-20')).toBe(0); // Sunday
  });

  it('parses HH:MM strictly', () => {
    expect(parseHHMM('13:30')).toBe(810);
    expect(parseHHMM('24:00')).toBe(1440);
    expect(() => parseHHMM('24:01')).toThrow(RangeError);
    expect(() => parseHHMM('12:60')).toThrow(RangeError);
  });

  it('rejects invalid instants', () => {
    expect(() => shanghaiDateOf(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('does not depend on the process time zone', () => {
    // Node re-reads TZ when it is assigned; flip it mid-process and compare results.
    const original = process.env.TZ;
    const cal = defaultCalendarData();
    const results: string[] = [];
    try {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Shanghai', 'Pacific/Kiritimati']) {
        process.env.TZ = tz;
        const d = computeDeadline(new Date('2026-02-13T09:20:00Z'), '30m', cal);
        results.push(`${d.dueAt.toISOString()} ${shanghaiDateOf(d.dueAt)} ${shanghaiMinuteOfDay(d.dueAt)}`);
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    // Fri 02-13 17:20 Shanghai → 09:20 on make-up Saturday 02-14.
    expect(new Set(results)).toEqual(new Set(['2026-02-14T01:20:00.000Z 2026-02-14 560']));
  });
});
