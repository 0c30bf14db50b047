// Property tests over random receipt instants in 2025–2026 (Shanghai), every tier and both rules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CalendarData,
  computeDeadline,
  dayKind,
  defaultCalendarData,
  instantAtFraction,
  mergeCalendarData,
  officeIntervals,
  SLA_TIERS,
  type SlaRules,
  shanghaiDateOf,
  shanghaiInstant,
  shanghaiMinuteOfDay,
  workingMinutesBetween,
} from '../../domain/working-time/index.ts';

const CAL = defaultCalendarData();
const NUM_RUNS = 300;

const instant = fc.date({
  min: shanghaiInstant('2025-01-01', 0),
  max: new Date(shanghaiInstant('2027-01-01', 0).getTime() - 1),
  noInvalidDate: true,
});
// Bias towards interesting wall-clock moments (openings, closings, lunch) as well as random ms.
const boundaryInstant = fc
  .record({
    day: fc.integer({ min: 0, max: 729 }),
    minute: fc.constantFrom(0, 539, 540, 541, 719, 720, 721, 809, 810, 811, 1049, 1050, 1051, 1439),
  })
  .map(({ day, minute }) => new Date(shanghaiInstant('2025-01-01', minute).getTime() + day * 86_400_000));
const receipt = fc.oneof(instant, boundaryInstant);
const tier = fc.constantFrom(...SLA_TIERS);
const rules = fc.constantFrom<SlaRules>({ offHoursReceipt: 'next-opening' }, { offHoursReceipt: 'as-is' });

// Random administrator closures in 2025–2026, to check the invariants do not rely on the library data.
const calendar = fc.oneof(
  fc.constant(CAL),
  fc.uniqueArray(fc.integer({ min: 0, max: 729 }), { maxLength: 40 }).map((offsets) => {
    const days: CalendarData['days'] = {};
    for (const o of offsets)
      days[shanghaiDateOf(new Date(shanghaiInstant('2025-01-01', 720).getTime() + o * 86_400_000))] = {
        kind: 'off',
      };
    return mergeCalendarData(CAL, { days });
  }),
);

function insideOfficeHoursOnWorkingDay(at: Date, cal: CalendarData): boolean {
  if (!dayKind(cal, shanghaiDateOf(at)).working) return false;
  const m = shanghaiMinuteOfDay(at);
  // Strictly after an opening and at most the interval end (a deadline may be exactly 12:00 or 17:30).
  return officeIntervals(cal).some(([s, e]) => m > s && m <= e);
}

describe('computeDeadline properties', () => {
  it('dueAt is inside office hours (or exactly at an interval end) on a working day, and after receipt', () => {
    fc.assert(
      fc.property(receipt, tier, rules, calendar, (r, t, rl, cal) => {
        const d = computeDeadline(r, t, cal, rl);
        expect(insideOfficeHoursOnWorkingDay(d.dueAt, cal)).toBe(true);
        expect(d.dueAt.getTime()).toBeGreaterThan(r.getTime());
        expect(d.effectiveReceivedAt.getTime()).toBeGreaterThanOrEqual(r.getTime());
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('is monotonic: r1 <= r2 ⇒ due1 <= due2', () => {
    fc.assert(
      fc.property(receipt, receipt, tier, rules, calendar, (a, b, t, rl, cal) => {
        const [r1, r2] = a.getTime() <= b.getTime() ? [a, b] : [b, a];
        const d1 = computeDeadline(r1, t, cal, rl);
        const d2 = computeDeadline(r2, t, cal, rl);
        expect(d1.dueAt.getTime()).toBeLessThanOrEqual(d2.dueAt.getTime());
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('30m: exactly 30 working minutes from the effective receipt, which is an open instant', () => {
    fc.assert(
      fc.property(receipt, calendar, (r, cal) => {
        const d = computeDeadline(r, '30m', cal);
        expect(workingMinutesBetween(d.effectiveReceivedAt, d.dueAt, cal).minutes).toBe(30);
        // The clock starts at an open instant: one more ms after it is working time.
        const probe = new Date(d.effectiveReceivedAt.getTime() + 1);
        expect(workingMinutesBetween(d.effectiveReceivedAt, probe, cal).minutes).toBe(1 / 60_000);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('instantAtFraction(0.5) and (0.8) lie between receipt and due, in order', () => {
    fc.assert(
      fc.property(receipt, tier, rules, calendar, (r, t, rl, cal) => {
        const d = computeDeadline(r, t, cal, rl);
        const half = instantAtFraction(d.effectiveReceivedAt, d.dueAt, 0.5, cal).at.getTime();
        const late = instantAtFraction(d.effectiveReceivedAt, d.dueAt, 0.8, cal).at.getTime();
        expect(half).toBeGreaterThanOrEqual(r.getTime());
        expect(half).toBeLessThanOrEqual(late);
        expect(late).toBeLessThanOrEqual(d.dueAt.getTime());
        const total = workingMinutesBetween(d.effectiveReceivedAt, d.dueAt, cal).minutes;
        const toHalf = workingMinutesBetween(d.effectiveReceivedAt, new Date(half), cal).minutes;
        expect(Math.abs(toHalf - total / 2)).toBeLessThanOrEqual(1 / 60_000); // ms rounding
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('is flagged exactly when the deadline reaches 2027, the first year the library lacks', () => {
    fc.assert(
      fc.property(receipt, tier, rules, (r, t, rl) => {
        const d = computeDeadline(r, t, CAL, rl);
        expect(d.flags.length > 0).toBe(shanghaiDateOf(d.dueAt) >= '2027-01-01');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('workingMinutesBetween is antisymmetric and additive', () => {
    fc.assert(
      fc.property(instant, instant, instant, (a, b, c) => {
        const ab = workingMinutesBetween(a, b, CAL).minutes;
        const ba = workingMinutesBetween(b, a, CAL).minutes;
        const bc = workingMinutesBetween(b, c, CAL).minutes;
        const ac = workingMinutesBetween(a, c, CAL).minutes;
        expect(ab + ba).toBe(0);
        expect(Math.round((ab + bc) * 60_000)).toBe(Math.round(ac * 60_000));
      }),
      { numRuns: 100 },
    );
  });
});
