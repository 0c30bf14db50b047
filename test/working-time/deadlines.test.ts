// Hand-checked deadlines against the real 2026 schedule (国办发明电〔2025〕7号, as shipped by
// chinese-days). Office hours 09:00–12:00 and 13:30–17:30 unless a case overrides them.
// Each name states the reasoning; times are Shanghai wall-clock.
import { describe, expect, it } from 'vitest';
import {
  type CalendarData,
  computeDeadline,
  type DeadlineFlag,
  defaultCalendarData,
  mergeCalendarData,
  type SlaRules,
  type SlaTier,
} from '../../domain/working-time/index.ts';
import { at, show } from './support.ts';

const CAL = defaultCalendarData();
const AS_IS: SlaRules = { offHoursReceipt: 'as-is' };

interface Case {
  name: string;
  received: string;
  tier: SlaTier;
  effective: string;
  due: string;
  rules?: SlaRules;
  cal?: CalendarData;
  flags?: DeadlineFlag[];
}

// biome-ignore format: one case per line reads as a table
const ordinaryWeek: Case[] = [
  // March 2026 has no holidays: Mon 9 … Fri 13, Sat 14, Sun 15, Mon 16.
  { name: '30m Tue 10:00 → 10:30 (plain office hours)', received: '2026-03-10 10:00', tier: '30m', effective: '2026-03-10 10:00', due: '2026-03-10 10:30' },
  { name: '30m Tue 11:45 → 15 min before lunch + 15 min after 13:30 → 13:45', received: '2026-03-10 11:45', tier: '30m', effective: '2026-03-10 11:45', due: '2026-03-10 13:45' },
  { name: '30m Tue 11:30 → exactly 30 min to 12:00 → due 12:00, not 13:30', received: '2026-03-10 11:30', tier: '30m', effective: '2026-03-10 11:30', due: '2026-03-10 12:00' },
  { name: '30m Tue 12:30 (lunch) → counting starts 13:30 → 14:00', received: '2026-03-10 12:30', tier: '30m', effective: '2026-03-10 13:30', due: '2026-03-10 14:00' },
  { name: '30m Tue exactly 12:00 (interval end is closed) → 13:30 → 14:00', received: '2026-03-10 12:00', tier: '30m', effective: '2026-03-10 13:30', due: '2026-03-10 14:00' },
  { name: '30m Tue 08:00 (before opening) → starts 09:00 → 09:30', received: '2026-03-10 08:00', tier: '30m', effective: '2026-03-10 09:00', due: '2026-03-10 09:30' },
  { name: '30m Tue exactly 09:00 (opening) → 09:30', received: '2026-03-10 09:00', tier: '30m', effective: '2026-03-10 09:00', due: '2026-03-10 09:30' },
  { name: '30m Fri 17:20 → 10 min Fri + 20 min Mon → Mon 09:20', received: '2026-03-13 17:20', tier: '30m', effective: '2026-03-13 17:20', due: '2026-03-16 09:20' },
  { name: '30m Fri exactly 17:30 (close) → Mon 09:00 → 09:30', received: '2026-03-13 17:30', tier: '30m', effective: '2026-03-16 09:00', due: '2026-03-16 09:30' },
  { name: '30m Sat 10:00 (day off) → Mon 09:00 → 09:30', received: '2026-03-14 10:00', tier: '30m', effective: '2026-03-16 09:00', due: '2026-03-16 09:30' },
  { name: '30m Tue 17:15:30 keeps seconds → 15 min Tue + 15 min Wed → Wed 09:15:30', received: '2026-03-10 17:15:30', tier: '30m', effective: '2026-03-10 17:15:30', due: '2026-03-11 09:15:30' },
  { name: '1d Tue 10:00 → receipt day not counted → close of Wed', received: '2026-03-10 10:00', tier: '1d', effective: '2026-03-10 10:00', due: '2026-03-11 17:30' },
  { name: '2d Tue 10:00 → Wed, Thu → close of Thu', received: '2026-03-10 10:00', tier: '2d', effective: '2026-03-10 10:00', due: '2026-03-12 17:30' },
  { name: '2d Thu 10:00 → Fri, (weekend skipped) Mon → close of Mon', received: '2026-03-12 10:00', tier: '2d', effective: '2026-03-12 10:00', due: '2026-03-16 17:30' },
  { name: '1d Fri 18:00 → deemed Mon 09:00 → close of Tue', received: '2026-03-13 18:00', tier: '1d', effective: '2026-03-16 09:00', due: '2026-03-17 17:30' },
  { name: '1d Fri 17:29 (still open) → receipt day Fri → close of Mon', received: '2026-03-13 17:29', tier: '1d', effective: '2026-03-13 17:29', due: '2026-03-16 17:30' },
  { name: '1d Sat 10:00 → deemed Mon 09:00 → close of Tue (DOMAIN.md example)', received: '2026-03-14 10:00', tier: '1d', effective: '2026-03-16 09:00', due: '2026-03-17 17:30' },
  { name: '2d Sat 10:00 → deemed Mon 09:00 → Tue, Wed → close of Wed', received: '2026-03-14 10:00', tier: '2d', effective: '2026-03-16 09:00', due: '2026-03-18 17:30' },
  { name: '1d Tue 08:00 → deemed Tue 09:00 → close of Wed', received: '2026-03-10 08:00', tier: '1d', effective: '2026-03-10 09:00', due: '2026-03-11 17:30' },
  { name: '1d Tue 12:30 (lunch) → deemed Tue 13:30, same day → close of Wed', received: '2026-03-10 12:30', tier: '1d', effective: '2026-03-10 13:30', due: '2026-03-11 17:30' },
  { name: '1d Tue exactly 17:30 (closed) → deemed Wed 09:00 → close of Thu', received: '2026-03-10 17:30', tier: '1d', effective: '2026-03-11 09:00', due: '2026-03-12 17:30' },
];

// biome-ignore format: one case per line reads as a table
const holidays2026: Case[] = [
  // New Year: 01-01..03 off, Sun 01-04 make-up working day. 2025 and 2026 are both covered.
  { name: '1d Wed 2025-12-31 10:00 → 01-01..03 off → make-up Sun 01-04 close', received: '2025-12-31 10:00', tier: '1d', effective: '2025-12-31 10:00', due: '2026-01-04 17:30' },
  { name: '30m Wed 2025-12-31 17:20 → 10 min + 20 min on make-up Sun 01-04 → 09:20', received: '2025-12-31 17:20', tier: '30m', effective: '2025-12-31 17:20', due: '2026-01-04 09:20' },
  // Spring Festival: Sat 02-14 make-up working day, 02-15..23 off, Sat 02-28 make-up working day.
  { name: '30m make-up Sat 02-14 10:00 → working day → 10:30', received: '2026-02-14 10:00', tier: '30m', effective: '2026-02-14 10:00', due: '2026-02-14 10:30' },
  { name: '30m Fri 02-13 17:20 → 10 min + 20 min on make-up Sat 02-14 → 09:20', received: '2026-02-13 17:20', tier: '30m', effective: '2026-02-13 17:20', due: '2026-02-14 09:20' },
  { name: '1d make-up Sat 02-14 10:00 → 02-15..23 off → close of Tue 02-24', received: '2026-02-14 10:00', tier: '1d', effective: '2026-02-14 10:00', due: '2026-02-24 17:30' },
  { name: '2d make-up Sat 02-14 10:00 → Tue 02-24, Wed 02-25 → close of 02-25', received: '2026-02-14 10:00', tier: '2d', effective: '2026-02-14 10:00', due: '2026-02-25 17:30' },
  { name: '30m Sat 02-14 17:20 → 10 min + 20 min after Spring Festival → Tue 02-24 09:20', received: '2026-02-14 17:20', tier: '30m', effective: '2026-02-14 17:20', due: '2026-02-24 09:20' },
  { name: '1d Wed 02-18 (Spring Festival) → deemed Tue 02-24 09:00 → close of Wed 02-25', received: '2026-02-18 10:00', tier: '1d', effective: '2026-02-24 09:00', due: '2026-02-25 17:30' },
  { name: '1d Fri 02-27 10:00 → make-up Sat 02-28 is the 1st working day → its close', received: '2026-02-27 10:00', tier: '1d', effective: '2026-02-27 10:00', due: '2026-02-28 17:30' },
  { name: '2d Fri 02-27 10:00 → Sat 02-28 (make-up), Mon 03-02 → close of 03-02', received: '2026-02-27 10:00', tier: '2d', effective: '2026-02-27 10:00', due: '2026-03-02 17:30' },
  // Qingming: Sat 04-04..Mon 04-06 off, no make-up day.
  { name: '1d Fri 04-03 10:00 → 04-04..06 off → close of Tue 04-07', received: '2026-04-03 10:00', tier: '1d', effective: '2026-04-03 10:00', due: '2026-04-07 17:30' },
  { name: '30m Fri 04-03 17:20 before Qingming → 10 min + 20 min → Tue 04-07 09:20', received: '2026-04-03 17:20', tier: '30m', effective: '2026-04-03 17:20', due: '2026-04-07 09:20' },
  // Labour Day: Fri 05-01..Tue 05-05 off, Sat 05-09 make-up working day.
  { name: '30m Thu 04-30 17:20 before Labour Day → Wed 05-06 09:20', received: '2026-04-30 17:20', tier: '30m', effective: '2026-04-30 17:20', due: '2026-05-06 09:20' },
  { name: '1d Thu 04-30 10:00 → 05-01..05 off → close of Wed 05-06', received: '2026-04-30 10:00', tier: '1d', effective: '2026-04-30 10:00', due: '2026-05-06 17:30' },
  { name: '2d Sun 05-03 (holiday) → deemed Wed 05-06 09:00 → Thu, Fri → close of Fri 05-08', received: '2026-05-03 11:00', tier: '2d', effective: '2026-05-06 09:00', due: '2026-05-08 17:30' },
  { name: '1d Fri 05-08 18:00 → deemed make-up Sat 05-09 09:00 → close of Mon 05-11', received: '2026-05-08 18:00', tier: '1d', effective: '2026-05-09 09:00', due: '2026-05-11 17:30' },
  // Dragon Boat: Fri 06-19..Sun 06-21 off.
  { name: '1d Thu 06-18 10:00 → 06-19..21 off → close of Mon 06-22', received: '2026-06-18 10:00', tier: '1d', effective: '2026-06-18 10:00', due: '2026-06-22 17:30' },
  { name: '2d Thu 06-18 18:00 → deemed Mon 06-22 09:00 → Tue, Wed → close of Wed 06-24', received: '2026-06-18 18:00', tier: '2d', effective: '2026-06-22 09:00', due: '2026-06-24 17:30' },
  // Mid-Autumn: Fri 09-25..Sun 09-27 off; Sun 09-20 is a make-up day for National Day.
  { name: '1d Sat 09-19 → deemed make-up Sun 09-20 09:00 → close of Mon 09-21', received: '2026-09-19 10:00', tier: '1d', effective: '2026-09-20 09:00', due: '2026-09-21 17:30' },
  { name: '1d Thu 09-24 10:00 → Mid-Autumn 09-25..27 off → close of Mon 09-28', received: '2026-09-24 10:00', tier: '1d', effective: '2026-09-24 10:00', due: '2026-09-28 17:30' },
  // National Day: 10-01..07 off, Sat 10-10 make-up working day.
  { name: '30m Wed 09-30 17:20 before National Day → Thu 10-08 09:20', received: '2026-09-30 17:20', tier: '30m', effective: '2026-09-30 17:20', due: '2026-10-08 09:20' },
  { name: '1d Wed 09-30 10:00 → 10-01..07 off → close of Thu 10-08', received: '2026-09-30 10:00', tier: '1d', effective: '2026-09-30 10:00', due: '2026-10-08 17:30' },
  { name: '2d Fri 10-02 (holiday) → deemed Thu 10-08 09:00 → Fri 10-09, make-up Sat 10-10 → close of 10-10', received: '2026-10-02 10:00', tier: '2d', effective: '2026-10-08 09:00', due: '2026-10-10 17:30' },
];

// biome-ignore format: one case per line reads as a table
const asIs: Case[] = [
  { name: 'as-is 1d Sat 10:00 → receipt day is Sat itself → close of Mon', received: '2026-03-14 10:00', tier: '1d', rules: AS_IS, effective: '2026-03-14 10:00', due: '2026-03-16 17:30' },
  { name: 'as-is 1d Fri 18:00 → receipt day Fri → close of Mon (next-opening gives Tue)', received: '2026-03-13 18:00', tier: '1d', rules: AS_IS, effective: '2026-03-13 18:00', due: '2026-03-16 17:30' },
  { name: 'as-is 2d Wed 02-18 (Spring Festival) → Tue 02-24 is the 1st → close of Wed 02-25', received: '2026-02-18 10:00', tier: '2d', rules: AS_IS, effective: '2026-02-18 10:00', due: '2026-02-25 17:30' },
  { name: 'as-is does not change 30m: Sat → counting starts Mon 09:00 → 09:30', received: '2026-03-14 10:00', tier: '30m', rules: AS_IS, effective: '2026-03-16 09:00', due: '2026-03-16 09:30' },
];

// Administrators' rows merged over the library.
const closure = mergeCalendarData(CAL, { days: { '2026-03-11': { kind: 'off', name: '台风停工' } } });
const summerHours = mergeCalendarData(CAL, {
  officeHours: [
    { start: '08:30', end: '12:00' },
    { start: '14:30', end: '18:00' },
  ],
});
const extraSaturday = mergeCalendarData(CAL, { days: { '2026-03-14': { kind: 'work', name: '专项攻坚' } } });
const known2027 = mergeCalendarData(CAL, {
  coveredYears: [2027],
  days: { '2027-01-01': { kind: 'off', name: '元旦' } },
});

// biome-ignore format: one case per line reads as a table
const overrides: Case[] = [
  { name: 'closure Wed 03-11 off: 1d Tue 10:00 → close of Thu 03-12', received: '2026-03-10 10:00', tier: '1d', cal: closure, effective: '2026-03-10 10:00', due: '2026-03-12 17:30' },
  { name: 'closure Wed 03-11 off: 30m Tue 17:20 → 10 min + 20 min Thu → Thu 09:20', received: '2026-03-10 17:20', tier: '30m', cal: closure, effective: '2026-03-10 17:20', due: '2026-03-12 09:20' },
  { name: 'closure Wed 03-11 off: 1d received on the closed day → deemed Thu 09:00 → close of Fri', received: '2026-03-11 10:00', tier: '1d', cal: closure, effective: '2026-03-12 09:00', due: '2026-03-13 17:30' },
  { name: 'summer hours 08:30–12:00/14:30–18:00: 30m Tue 11:45 → 15 + 15 → 14:45', received: '2026-03-10 11:45', tier: '30m', cal: summerHours, effective: '2026-03-10 11:45', due: '2026-03-10 14:45' },
  { name: 'summer hours: 30m Tue 08:40 is already open → 09:10', received: '2026-03-10 08:40', tier: '30m', cal: summerHours, effective: '2026-03-10 08:40', due: '2026-03-10 09:10' },
  { name: 'summer hours: 1d Tue 17:45 still open → close of Wed is 18:00', received: '2026-03-10 17:45', tier: '1d', cal: summerHours, effective: '2026-03-10 17:45', due: '2026-03-11 18:00' },
  { name: 'extra working Sat 03-14: 1d Fri 10:00 → close of Sat 03-14', received: '2026-03-13 10:00', tier: '1d', cal: extraSaturday, effective: '2026-03-13 10:00', due: '2026-03-14 17:30' },
  { name: 'admin publishes 2027 (covered, 01-01 off): 1d Thu 2026-12-31 → close of Mon 2027-01-04, no flag', received: '2026-12-31 10:00', tier: '1d', cal: known2027, effective: '2026-12-31 10:00', due: '2027-01-04 17:30' },
];

const provisional: DeadlineFlag[] = ['calendar_provisional'];
// biome-ignore format: one case per line reads as a table
const uncovered: Case[] = [
  // chinese-days 1.5.7 has no data after 2026: the statutory holidays from the law, weekends otherwise, flagged.
  { name: 'provisional 2027: 1d Thu 2026-12-31 → 元旦 Fri 01-01 off, weekend → close of Mon 2027-01-04, flagged', received: '2026-12-31 10:00', tier: '1d', effective: '2026-12-31 10:00', due: '2027-01-04 17:30', flags: provisional },
  { name: 'provisional 2027: 1d Thu 02-04 → 春节 除夕 Fri 02-05 … 初三 Mon 02-08 off → close of Tue 02-09, flagged', received: '2027-02-04 10:00', tier: '1d', effective: '2027-02-04 10:00', due: '2027-02-09 17:30', flags: provisional },
  { name: 'provisional 2027: 1d Thu 09-30 → 国庆 Fri 10-01 … Sun 10-03 off → close of Mon 10-04, flagged', received: '2027-09-30 10:00', tier: '1d', effective: '2027-09-30 10:00', due: '2027-10-04 17:30', flags: provisional },
  { name: 'provisional 2027: 1d Tue 09-14 → 中秋 Wed 09-15 off → close of Thu 09-16, flagged', received: '2027-09-14 10:00', tier: '1d', effective: '2027-09-14 10:00', due: '2027-09-16 17:30', flags: provisional },
  { name: 'provisional 2027: 2d Fri 04-02 → 清明 Mon 04-05 off → close of Wed 04-07, flagged', received: '2027-04-02 10:00', tier: '2d', effective: '2027-04-02 10:00', due: '2027-04-07 17:30', flags: provisional },
  { name: 'provisional 2030: 30m Tue 2030-01-01 10:00 (元旦) → deemed Wed 09:00 → 09:30, flagged', received: '2030-01-01 10:00', tier: '30m', effective: '2030-01-02 09:00', due: '2030-01-02 09:30', flags: provisional },
  { name: 'provisional 2030: 2d Sat 2030-01-05 → deemed Mon 01-07 → close of Wed 01-09, flagged', received: '2030-01-05 10:00', tier: '2d', effective: '2030-01-07 09:00', due: '2030-01-09 17:30', flags: provisional },
  { name: 'provisional 2003 (before the library data): 1d Fri 2003-01-03 → close of Mon, flagged', received: '2003-01-03 10:00', tier: '1d', effective: '2003-01-03 10:00', due: '2003-01-06 17:30', flags: provisional },
  { name: 'covered up to the last day: 1d Tue 2026-12-29 → close of Wed 12-30, no flag', received: '2026-12-29 10:00', tier: '1d', effective: '2026-12-29 10:00', due: '2026-12-30 17:30' },
];

function check(c: Case): void {
  const result = computeDeadline(at(c.received), c.tier, c.cal ?? CAL, c.rules);
  expect({
    effective: show(result.effectiveReceivedAt),
    due: show(result.dueAt),
    flags: result.flags,
  }).toEqual({ effective: c.effective, due: c.due, flags: c.flags ?? [] });
}

describe('computeDeadline — ordinary week', () => {
  it.each(ordinaryWeek)('$name', check);
});
describe('computeDeadline — 2026 holidays and make-up days', () => {
  it.each(holidays2026)('$name', check);
});
describe("computeDeadline — offHoursReceipt 'as-is'", () => {
  it.each(asIs)('$name', check);
});
describe('computeDeadline — administrator overrides', () => {
  it.each(overrides)('$name', check);
});
describe('computeDeadline — years without a known schedule', () => {
  it.each(uncovered)('$name', check);
});
