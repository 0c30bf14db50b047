import { describe, expect, it } from 'vitest';
import {
  addWorkingMinutes,
  type CalendarData,
  computeDeadline,
  deadlineWindow,
  defaultCalendarData,
  instantAtFraction,
  mergeCalendarData,
  nextOpening,
  windowTouches,
  workingDaysAfter,
  workingMinutesBetween,
} from '../../domain/working-time/index.ts';
import { at, show } from './support.ts';

const CAL = defaultCalendarData();

describe('workingMinutesBetween', () => {
  it('counts only office minutes: Tue 10:00 → 14:00 is 120 + 30', () => {
    expect(workingMinutesBetween(at('2026-03-10 10:00'), at('2026-03-10 14:00'), CAL)).toEqual({
      minutes: 150,
      flags: [],
    });
  });

  it('skips the weekend: Fri 17:00 → Mon 09:30 is 30 + 30', () => {
    expect(workingMinutesBetween(at('2026-03-13 17:00'), at('2026-03-16 09:30'), CAL).minutes).toBe(60);
  });

  it('is antisymmetric: negative when to is before from (overdue / lateness)', () => {
    expect(workingMinutesBetween(at('2026-03-16 09:30'), at('2026-03-13 17:00'), CAL).minutes).toBe(-60);
    expect(workingMinutesBetween(at('2026-03-10 12:30'), at('2026-03-10 12:30'), CAL).minutes).toBe(0);
    expect(
      Object.is(workingMinutesBetween(at('2026-03-10 12:45'), at('2026-03-10 12:30'), CAL).minutes, 0),
    ).toBe(true);
  });

  it('gives "剩余 25 分钟（工作时间）" at 11:55 for a 13:50 deadline', () => {
    expect(workingMinutesBetween(at('2026-03-10 11:55'), at('2026-03-10 13:50'), CAL).minutes).toBe(25);
  });

  it('spans Spring Festival: Fri 02-13 17:00 → Tue 02-24 09:10 is 30 + 420 (make-up Sat) + 10', () => {
    expect(workingMinutesBetween(at('2026-02-13 17:00'), at('2026-02-24 09:10'), CAL).minutes).toBe(460);
  });

  it('flags a span that reaches a year without an official schedule (元旦 2027 provisionally off)', () => {
    expect(workingMinutesBetween(at('2026-12-31 17:00'), at('2027-01-04 09:00'), CAL)).toEqual({
      minutes: 30,
      flags: ['calendar_provisional'],
    });
  });
});

describe('addWorkingMinutes', () => {
  it('returns the earliest instant: 0 minutes is the start itself, even at lunch', () => {
    expect(show(addWorkingMinutes(at('2026-03-10 12:30'), 0, CAL).at)).toBe('2026-03-10 12:30');
  });

  it('skips lunch and nights', () => {
    expect(show(addWorkingMinutes(at('2026-03-10 12:30'), 1, CAL).at)).toBe('2026-03-10 13:31');
    expect(show(addWorkingMinutes(at('2026-03-10 09:00'), 420, CAL).at)).toBe('2026-03-10 17:30');
    expect(show(addWorkingMinutes(at('2026-03-10 09:00'), 421, CAL).at)).toBe('2026-03-11 09:01');
  });

  it('rejects negative or non-finite amounts', () => {
    expect(() => addWorkingMinutes(at('2026-03-10 09:00'), -1, CAL)).toThrow(RangeError);
    expect(() => addWorkingMinutes(at('2026-03-10 09:00'), Number.POSITIVE_INFINITY, CAL)).toThrow(
      RangeError,
    );
  });
});

describe('instantAtFraction (reminders in working time)', () => {
  // 1d from Tue 10:00, due Wed 17:30: 360 min on Tue + 420 on Wed = 780.
  const d = computeDeadline(at('2026-03-10 10:00'), '1d', CAL);
  it('50% of 780 min = 390 → 360 on Tue + 30 on Wed → Wed 09:30', () => {
    expect(show(instantAtFraction(d.effectiveReceivedAt, d.dueAt, 0.5, CAL).at)).toBe('2026-03-11 09:30');
  });
  it('80% of 780 min = 624 → 360 + 180 morning + 84 → Wed 14:54', () => {
    expect(show(instantAtFraction(d.effectiveReceivedAt, d.dueAt, 0.8, CAL).at)).toBe('2026-03-11 14:54');
  });
  it('0 and 1 are the ends', () => {
    expect(instantAtFraction(d.effectiveReceivedAt, d.dueAt, 0, CAL).at).toEqual(d.effectiveReceivedAt);
    expect(instantAtFraction(d.effectiveReceivedAt, d.dueAt, 1, CAL).at).toEqual(d.dueAt);
  });
  it('30m from 11:45: 50% = 15 min → 12:00 (end of the morning interval)', () => {
    const q = computeDeadline(at('2026-03-10 11:45'), '30m', CAL);
    expect(show(instantAtFraction(q.effectiveReceivedAt, q.dueAt, 0.5, CAL).at)).toBe('2026-03-10 12:00');
  });
  it('rejects fractions outside [0, 1] and reversed ranges', () => {
    expect(() => instantAtFraction(d.effectiveReceivedAt, d.dueAt, 1.5, CAL)).toThrow(RangeError);
    expect(() => instantAtFraction(d.dueAt, d.effectiveReceivedAt, 0.5, CAL)).toThrow(RangeError);
  });
});

describe('nextOpening', () => {
  it.each([
    ['2026-03-10 10:00', '2026-03-10 10:00', 'open: the instant itself'],
    ['2026-03-10 12:00', '2026-03-10 13:30', 'lunch starts at 12:00'],
    ['2026-03-10 17:30', '2026-03-11 09:00', 'closed at 17:30'],
    ['2026-03-13 20:00', '2026-03-16 09:00', 'Friday evening → Monday'],
    ['2026-02-13 18:00', '2026-02-14 09:00', 'make-up Saturday opens'],
    ['2026-09-30 18:00', '2026-10-08 09:00', 'after National Day'],
  ])('%s → %s (%s)', (from, expected) => {
    expect(show(nextOpening(at(from), CAL))).toBe(expected);
  });
});

describe('workingDaysAfter', () => {
  it('+1 working day from Friday is Monday, closing 17:30', () => {
    const r = workingDaysAfter(at('2026-03-13 10:00'), 1, CAL);
    expect([r.date, show(r.closeAt), r.flags]).toEqual(['2026-03-16', '2026-03-16 17:30', []]);
  });
  it('+3 working days from the make-up Saturday 02-14 → 02-24, 02-25, 02-26', () => {
    expect(workingDaysAfter(at('2026-02-14 10:00'), 3, CAL).date).toBe('2026-02-26');
  });
  it('rejects n < 1', () => {
    expect(() => workingDaysAfter(at('2026-02-14 10:00'), 0, CAL)).toThrow(RangeError);
  });
});

describe('deadlineWindow (re-timing open cases after a calendar change)', () => {
  const received = at('2026-03-14 10:00'); // Saturday
  const d = computeDeadline(received, '1d', CAL); // due Tue 03-17 17:30
  it('lists the Shanghai dates from receipt to deadline, inclusive', () => {
    expect(deadlineWindow(received, d.dueAt)).toEqual([
      '2026-03-14',
      '2026-03-15',
      '2026-03-16',
      '2026-03-17',
    ]);
  });
  it('a closure on Monday touches the case and moves its deadline to Wednesday', () => {
    expect(windowTouches(received, d.dueAt, ['2026-03-16'])).toBe(true);
    const closed = mergeCalendarData(CAL, { days: { '2026-03-16': { kind: 'off' } } });
    expect(show(computeDeadline(received, '1d', closed).dueAt)).toBe('2026-03-18 17:30');
  });
  it('turning the receipt Saturday into a working day moves the deadline earlier', () => {
    const working = mergeCalendarData(CAL, { days: { '2026-03-14': { kind: 'work' } } });
    expect(show(computeDeadline(received, '1d', working).dueAt)).toBe('2026-03-16 17:30');
  });
  it('changes outside the window do not touch the case', () => {
    expect(windowTouches(received, d.dueAt, ['2026-03-13', '2026-03-18'])).toBe(false);
  });
});

describe('guards', () => {
  it('throws instead of looping when no working day exists', () => {
    const days: CalendarData['days'] = {};
    for (let i = 0; i < 800; i++) {
      const date = new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10);
      days[date] = { kind: 'off' };
    }
    const closed = mergeCalendarData(CAL, { days });
    expect(() => computeDeadline(at('2026-01-05 10:00'), '30m', closed)).toThrow(/no working day/);
    expect(() => computeDeadline(at('2026-01-05 10:00'), '1d', closed)).toThrow(/no working day/);
    expect(() => addWorkingMinutes(at('2026-01-05 10:00'), 5, closed)).toThrow(/no working day/);
  });
  it('rejects an invalid receipt instant', () => {
    expect(() => computeDeadline(new Date('nope'), '1d', CAL)).toThrow(RangeError);
  });
});
