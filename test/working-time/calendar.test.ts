import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  dayKind,
  defaultCalendarData,
  isCovered,
  isWorkingDay,
  mergeCalendarData,
  validateCalendarData,
  weekdayOf,
} from '../../domain/working-time/index.ts';

const CAL = defaultCalendarData();

// 2026 schedule as published by the State Council (国办发明电〔2025〕7号,
// https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm).
// biome-ignore format: grouped by festival
const OFF_2026 = [
  '2026-01-01', '2026-01-02', '2026-01-03',
  '2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23',
  '2026-04-04', '2026-04-05', '2026-04-06',
  '2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04', '2026-05-05',
  '2026-06-19', '2026-06-20', '2026-06-21',
  '2026-09-25', '2026-09-26', '2026-09-27',
  '2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07',
];
const MAKE_UP_2026 = ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'];

describe('defaultCalendarData (chinese-days 1.5.7)', () => {
  it('covers exactly the years the library has holiday data for: 2004–2026', () => {
    const expected = Array.from({ length: 2026 - 2004 + 1 }, (_, i) => 2004 + i);
    expect(CAL.coveredYears).toEqual(expected);
    expect(isCovered(CAL, 2027)).toBe(false);
    expect(isCovered(CAL, 2003)).toBe(false);
  });

  it('has the 2026 holidays and make-up days of the official notice, and nothing else in 2026', () => {
    const explicit2026 = Object.entries(CAL.days).filter(([date]) => date.startsWith('2026-'));
    expect(
      explicit2026
        .filter(([, e]) => e.kind === 'off')
        .map(([d]) => d)
        .sort(),
    ).toEqual(OFF_2026);
    expect(
      explicit2026
        .filter(([, e]) => e.kind === 'work')
        .map(([d]) => d)
        .sort(),
    ).toEqual(MAKE_UP_2026);
  });

  it('agrees with the notice on every day of 2026', () => {
    for (let date = '2026-01-01'; date <= '2026-12-31'; date = addCalendarDays(date, 1)) {
      const weekday = weekdayOf(date);
      const expected =
        MAKE_UP_2026.includes(date) || (weekday >= 1 && weekday <= 5 && !OFF_2026.includes(date));
      expect(isWorkingDay(CAL, date), date).toBe(expected);
    }
  });

  it('names days after the festival', () => {
    expect(dayKind(CAL, '2026-02-17')).toEqual({
      working: false,
      source: 'explicit',
      guessed: false,
      name: '春节',
    });
    expect(dayKind(CAL, '2026-02-14').name).toBe('春节调休上班');
  });

  it('uses the default office hours 09:00–12:00 and 13:30–17:30', () => {
    expect(CAL.officeHours).toEqual([
      {
        from: null,
        hours: [
          { start: '09:00', end: '12:00' },
          { start: '13:30', end: '17:30' },
        ],
      },
    ]);
  });

  it('returns a fresh object each time (callers may merge without aliasing)', () => {
    const a = defaultCalendarData();
    a.days['2026-03-11'] = { kind: 'off' };
    expect(defaultCalendarData().days['2026-03-11']).toBeUndefined();
  });
});

describe('isWorkingDay / dayKind', () => {
  it('falls back to Monday–Friday when no explicit entry exists', () => {
    expect(isWorkingDay(CAL, '2026-03-13')).toBe(true); // Fri
    expect(isWorkingDay(CAL, '2026-03-14')).toBe(false); // Sat
  });

  it('counts a year without an official schedule from the law, provisionally (guessed)', () => {
    expect(dayKind(CAL, '2027-01-01')).toEqual({
      working: false,
      source: 'statute',
      guessed: true,
      name: '元旦',
    });
    expect(dayKind(CAL, '2027-01-04')).toEqual({ working: true, source: 'weekday', guessed: true });
    expect(dayKind(CAL, '2027-01-02')).toEqual({ working: false, source: 'weekday', guessed: true });
    expect(dayKind(CAL, '2026-03-13').guessed).toBe(false);
  });

  it('drops the law-based days once the year is covered (an imported official schedule decides alone)', () => {
    const cal = mergeCalendarData(CAL, { coveredYears: [2027] });
    expect(dayKind(cal, '2027-02-08')).toEqual({ working: true, source: 'weekday', guessed: false });
  });

  it('lets an explicit entry win even in an uncovered year (not a guess)', () => {
    const cal = mergeCalendarData(CAL, { days: { '2027-01-01': { kind: 'off' } } });
    expect(dayKind(cal, '2027-01-01')).toEqual({ working: false, source: 'explicit', guessed: false });
  });

  it('rejects malformed dates', () => {
    expect(() => isWorkingDay(CAL, '2026-2-1')).toThrow(RangeError);
    expect(() => isWorkingDay(CAL, '2026-02-30')).toThrow(RangeError);
  });
});

describe('mergeCalendarData', () => {
  it('lets admin rows override library days, add covered years and replace office hours', () => {
    const merged = mergeCalendarData(CAL, {
      days: { '2026-02-14': { kind: 'off', name: '取消调休' }, '2026-03-11': { kind: 'off' } },
      coveredYears: [2027, 2026],
      officeHours: [{ start: '08:30', end: '17:00' }],
    });
    expect(isWorkingDay(merged, '2026-02-14')).toBe(false);
    expect(isWorkingDay(merged, '2026-03-11')).toBe(false);
    expect(merged.coveredYears.at(-1)).toBe(2027);
    expect(merged.coveredYears.filter((y) => y === 2026)).toHaveLength(1);
    // A plain list (the stored shape of earlier versions) is one period since the beginning.
    expect(merged.officeHours).toEqual([{ from: null, hours: [{ start: '08:30', end: '17:00' }] }]);
    // the base is untouched
    expect(isWorkingDay(CAL, '2026-02-14')).toBe(true);
    expect(CAL.officeHours[0]?.hours).toHaveLength(2);
  });

  it('keeps the base office hours when none are given', () => {
    expect(mergeCalendarData(CAL, {}).officeHours).toEqual(CAL.officeHours);
  });

  it('rejects invalid office hours', () => {
    expect(() => mergeCalendarData(CAL, { officeHours: [] })).toThrow(/empty/);
    expect(() => mergeCalendarData(CAL, { officeHours: [{ start: '12:00', end: '09:00' }] })).toThrow(
      /before/,
    );
    expect(() =>
      mergeCalendarData(CAL, {
        officeHours: [
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '17:00' },
        ],
      }),
    ).toThrow(/overlap/);
    expect(() => mergeCalendarData(CAL, { officeHours: [{ start: '9:00', end: '12:00' }] })).toThrow(/HH:MM/);
  });

  it('rejects bad day keys', () => {
    expect(() => validateCalendarData({ ...CAL, days: { '2026/03/11': { kind: 'off' } } })).toThrow(
      RangeError,
    );
  });
});
