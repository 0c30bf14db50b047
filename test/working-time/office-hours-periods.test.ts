// Office hours with date ranges (summer hours): each day is counted in the hours in force on it, so a period
// that starts on a date leaves every instant before that date as it was. Times are Shanghai wall-clock.
// Summer hours 08:30–12:00 and 14:30–18:00 from Tuesday 2026-06-02; before it 09:00–12:00 and 13:30–17:30.
import { describe, expect, it } from 'vitest';
import {
  addWorkingMinutes,
  computeDeadline,
  defaultCalendarData,
  instantAtFraction,
  mergeCalendarData,
  nextOpening,
  officeHoursOn,
  officeHoursPeriods,
  validateCalendarData,
  withOfficeHoursPeriod,
  workingDaysAfter,
  workingMinutesBetween,
} from '../../domain/working-time/index.ts';
import { at, show } from './support.ts';

const CAL = defaultCalendarData();
const WINTER = [
  { start: '09:00', end: '12:00' },
  { start: '13:30', end: '17:30' },
];
const SUMMER = [
  { start: '08:30', end: '12:00' },
  { start: '14:30', end: '18:00' },
];
const SUMMER_FROM = '2026-06-02';
const periods = withOfficeHoursPeriod(CAL.officeHours, { from: SUMMER_FROM, hours: SUMMER });
const SUMMER_CAL = mergeCalendarData(CAL, { officeHours: periods });

describe('office hours in force on a date', () => {
  it('keeps the periods in date order, the first one since the beginning', () => {
    expect(SUMMER_CAL.officeHours).toEqual([
      { from: null, hours: WINTER },
      { from: SUMMER_FROM, hours: SUMMER },
    ]);
    expect(officeHoursOn(SUMMER_CAL, '2026-06-01')).toEqual(WINTER);
    expect(officeHoursOn(SUMMER_CAL, SUMMER_FROM)).toEqual(SUMMER);
    expect(officeHoursOn(SUMMER_CAL, '2030-01-02')).toEqual(SUMMER);
    // A later period (autumn) ends the summer; adding it again for the same date replaces it.
    const autumn = withOfficeHoursPeriod(periods, {
      from: '2026-10-08',
      hours: [{ start: '09:00', end: '17:00' }],
    });
    const replaced = withOfficeHoursPeriod(autumn, { from: '2026-10-08', hours: WINTER });
    expect(replaced.map((p) => p.from)).toEqual([null, SUMMER_FROM, '2026-10-08']);
    expect(officeHoursOn({ officeHours: replaced }, '2026-10-07')).toEqual(SUMMER);
    expect(officeHoursOn({ officeHours: replaced }, '2026-10-08')).toEqual(WINTER);
  });

  it('reads the stored shape of earlier versions (a plain list) as one period from the beginning of time', () => {
    expect(officeHoursPeriods(WINTER)).toEqual([{ from: null, hours: WINTER }]);
    const old = mergeCalendarData(CAL, { officeHours: SUMMER });
    expect(old.officeHours).toEqual([{ from: null, hours: SUMMER }]);
    expect(show(computeDeadline(at('2020-06-03 10:00'), '1d', old).dueAt)).toBe('2020-06-04 18:00');
  });

  it('rejects periods that leave days without hours, repeat or go backwards, or carry bad hours', () => {
    const bad = (officeHours: unknown) => () =>
      validateCalendarData({ ...CAL, officeHours } as Parameters<typeof validateCalendarData>[0]);
    expect(bad([{ from: '2026-06-02', hours: SUMMER }])).toThrow(/first office-hours period/);
    expect(
      bad([
        { from: null, hours: WINTER },
        { from: '2026-07-01', hours: SUMMER },
        { from: '2026-06-01', hours: WINTER },
      ]),
    ).toThrow(/ascending/);
    expect(
      bad([
        { from: null, hours: WINTER },
        { from: null, hours: SUMMER },
      ]),
    ).toThrow(/only the first/);
    expect(
      bad([
        { from: null, hours: WINTER },
        { from: '2026-06-31', hours: SUMMER },
      ]),
    ).toThrow(RangeError);
    expect(
      bad([
        { from: null, hours: WINTER },
        { from: '2026-06-02', hours: [] },
      ]),
    ).toThrow(/empty/);
    expect(bad([])).toThrow(/empty/);
  });
});

describe('counting across the change date', () => {
  it('a 1-day deadline received the day before summer hours start ends at the summer close of the next day', () => {
    const d = computeDeadline(at('2026-06-01 10:00'), '1d', SUMMER_CAL);
    expect(show(d.dueAt)).toBe('2026-06-02 18:00');
    expect(show(d.effectiveReceivedAt)).toBe('2026-06-01 10:00');
    // Without the period it was the old close.
    expect(show(computeDeadline(at('2026-06-01 10:00'), '1d', CAL).dueAt)).toBe('2026-06-02 17:30');
  });

  it('a 30-minute request at 17:20 the day before: 10 minutes in the old hours, 20 from the summer opening', () => {
    const d = computeDeadline(at('2026-06-01 17:20'), '30m', SUMMER_CAL);
    expect(show(d.dueAt)).toBe('2026-06-02 08:50');
    // Received before the opening on the change date: the summer opening, 08:30.
    expect(show(computeDeadline(at('2026-06-02 08:00'), '30m', SUMMER_CAL).effectiveReceivedAt)).toBe(
      '2026-06-02 08:30',
    );
    expect(show(nextOpening(at('2026-06-01 08:45'), SUMMER_CAL))).toBe('2026-06-01 09:00');
    expect(show(nextOpening(at('2026-06-02 12:30'), SUMMER_CAL))).toBe('2026-06-02 14:30');
  });

  it('counts working minutes day by day in the hours in force, and adds them the same way', () => {
    // Mon 09:00–17:30 in the old hours = 420 minutes; Tue 08:30–18:00 in summer hours = 420 minutes.
    const between = workingMinutesBetween(at('2026-06-01 09:00'), at('2026-06-02 18:00'), SUMMER_CAL);
    expect(between.minutes).toBe(840);
    // Tue 13:30–14:30 is the summer lunch break: no working time.
    expect(workingMinutesBetween(at('2026-06-02 13:30'), at('2026-06-02 14:30'), SUMMER_CAL).minutes).toBe(0);
    expect(workingMinutesBetween(at('2026-06-01 13:30'), at('2026-06-01 14:30'), SUMMER_CAL).minutes).toBe(
      60,
    );
    expect(show(addWorkingMinutes(at('2026-06-01 17:00'), 60, SUMMER_CAL).at)).toBe('2026-06-02 09:00');
    const half = instantAtFraction(at('2026-06-01 09:00'), at('2026-06-02 18:00'), 0.5, SUMMER_CAL);
    expect(show(half.at)).toBe('2026-06-01 17:30');
    expect(show(workingDaysAfter(at('2026-06-01 10:00'), 1, SUMMER_CAL).closeAt)).toBe('2026-06-02 18:00');
  });

  it('never recomputes the past: every deadline wholly before the change date is the same as without it', () => {
    for (let day = 1; day <= 29; day++) {
      for (const hhmm of ['08:00', '09:00', '11:59', '13:00', '17:10', '17:29', '20:00']) {
        const received = at(`2026-05-${String(day).padStart(2, '0')} ${hhmm}`);
        for (const tier of ['30m', '1d'] as const) {
          const before = computeDeadline(received, tier, CAL);
          if (before.dueAt.getTime() >= at(`${SUMMER_FROM} 00:00`).getTime()) continue;
          expect(computeDeadline(received, tier, SUMMER_CAL)).toEqual(before);
        }
      }
    }
    // And the time elapsed before the change date counts the same.
    expect(workingMinutesBetween(at('2026-05-25 09:00'), at('2026-06-02 00:00'), SUMMER_CAL)).toEqual(
      workingMinutesBetween(at('2026-05-25 09:00'), at('2026-06-02 00:00'), CAL),
    );
  });
});
