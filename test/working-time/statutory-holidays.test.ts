import { describe, expect, it } from 'vitest';
import { dayKind, defaultCalendarData } from '../../domain/working-time/index.ts';
import { statutoryHolidays } from '../../domain/working-time/statutory-holidays.ts';

const CAL = defaultCalendarData();

describe('statutory holidays from the law (《全国年节及纪念日放假办法》, 2024 amendment)', () => {
  it('2027: 元旦, 春节 from 除夕 (Fri 02-05) to 初三, 清明, 劳动节 2 days, 端午, 中秋, 国庆 3 days — 13 days', () => {
    expect(Object.fromEntries(statutoryHolidays(2027))).toEqual({
      '2027-01-01': '元旦',
      '2027-02-05': '春节',
      '2027-02-06': '春节',
      '2027-02-07': '春节',
      '2027-02-08': '春节',
      '2027-04-05': '清明节',
      '2027-05-01': '劳动节',
      '2027-05-02': '劳动节',
      '2027-06-09': '端午节',
      '2027-09-15': '中秋节',
      '2027-10-01': '国庆节',
      '2027-10-02': '国庆节',
      '2027-10-03': '国庆节',
    });
  });

  it('2028: 中秋 on 10-03 falls inside 国庆 — one day, both names (12 days)', () => {
    const days = statutoryHolidays(2028);
    expect(days.get('2028-10-03')).toBe('中秋节、国庆节');
    expect(days.get('2028-01-25')).toBe('春节'); // 除夕 2028
    expect(days.size).toBe(12);
  });

  // The rule is checked against the State Council's published schedules (chinese-days' data) for the years
  // since the amendment came into force: every statutory day must be an official day off.
  it.each([2025, 2026])('agrees with the official %i schedule: every statutory day is off', (year) => {
    expect(CAL.coveredYears).toContain(year);
    const notOff = [...statutoryHolidays(year).keys()].filter((date) => dayKind(CAL, date).working);
    expect(notOff).toEqual([]);
    for (const date of statutoryHolidays(year).keys()) expect(dayKind(CAL, date).source).toBe('explicit');
  });

  it('refuses years outside its lunar tables rather than guessing', () => {
    expect(() => statutoryHolidays(2100)).toThrow(RangeError);
    expect(() => statutoryHolidays(1899)).toThrow(RangeError);
  });
});
