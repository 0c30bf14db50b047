// A year's official holiday schedule (国务院办公厅 关于某年部分节假日安排的通知), as an administrator imports it when
// it is published: every day off (休) and every make-up working day (班) of the year. Until then the year is counted
// provisionally from the law (statutory-holidays.ts). Pure: parsing, checks and the preview diff.

import {
  type CalendarData,
  type CalendarOverrides,
  type DayEntry,
  dayKind,
  mergeCalendarData,
} from './calendar.ts';
import { addCalendarDays, isShanghaiDate, type ShanghaiDate, weekdayOf, yearOf } from './shanghai.ts';
import { statutoryHolidays } from './statutory-holidays.ts';

export interface ScheduleDay {
  date: ShanghaiDate;
  kind: 'off' | 'work';
  name: string;
}

export interface ScheduleProblem {
  /** 1-based line of the pasted table, or the index in the list (0-based) when given as JSON. */
  at: number;
  detail: string;
}

const KIND_WORDS: Record<string, 'off' | 'work'> = {
  休: 'off',
  休息: 'off',
  放假: 'off',
  off: 'off',
  班: 'work',
  上班: 'work',
  调休上班: 'work',
  work: 'work',
};

/**
 * A pasted table, one day per line: `日期,休|班,名称` (comma, tab or spaces between; `#` starts a comment).
 * Example: `2027-02-07,班,春节调休上班`. Returns the days, or the problems with their line numbers.
 */
export function parseScheduleTable(text: string): { days: ScheduleDay[]; problems: ScheduleProblem[] } {
  const days: ScheduleDay[] = [];
  const problems: ScheduleProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const [date = '', kindWord = '', ...rest] = line.split(/\s*[,，\t]\s*|\s+/);
    const kind = KIND_WORDS[kindWord.toLowerCase()];
    if (!kind) {
      problems.push({
        at: i + 1,
        detail: `第 ${i + 1} 行：第二列须为“休”或“班”，而不是“${kindWord.slice(0, 10)}”`,
      });
      return;
    }
    days.push({ date, kind, name: rest.join(' ').trim() });
  });
  return { days, problems };
}

/** Each problem of a year's list: bad or foreign dates, duplicates, missing names. Empty when it can be imported. */
export function scheduleProblems(
  year: number,
  days: ScheduleDay[],
  lineOf = (i: number) => i,
): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  const seen = new Set<string>();
  days.forEach((d, i) => {
    const at = lineOf(i);
    if (!isShanghaiDate(d.date))
      problems.push({ at, detail: `日期“${d.date.slice(0, 20)}”无效，须为 YYYY-MM-DD` });
    else if (yearOf(d.date) !== year) problems.push({ at, detail: `日期 ${d.date} 不在 ${year} 年度` });
    else if (seen.has(d.date)) problems.push({ at, detail: `日期 ${d.date} 重复` });
    seen.add(d.date);
    if (!d.name || d.name.length > 50)
      problems.push({ at, detail: `日期 ${d.date} 须有 1–50 字的名称（如“春节”）` });
  });
  if (!days.some((d) => d.kind === 'off')) problems.push({ at: 0, detail: '安排中没有任何放假日' });
  return problems;
}

/** What looks wrong but may be right (the administrator decides): a statutory holiday not off, a 班 on a weekday. */
export function scheduleWarnings(year: number, days: ScheduleDay[]): string[] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const warnings: string[] = [];
  if (year >= 1900 && year <= 2099) {
    for (const [date, name] of statutoryHolidays(year)) {
      if (byDate.get(date)?.kind !== 'off')
        warnings.push(`${date}（${name}）是法定节假日，但安排中不是放假日`);
    }
  }
  for (const d of days) {
    const weekday = weekdayOf(d.date);
    if (d.kind === 'work' && weekday >= 1 && weekday <= 5)
      warnings.push(`${d.date} 是周${'一二三四五'[weekday - 1]}，本来就上班，无需列为调休上班`);
  }
  return warnings;
}

export function scheduleEntries(days: ScheduleDay[]): Record<ShanghaiDate, DayEntry> {
  return Object.fromEntries(days.map((d) => [d.date, { kind: d.kind, name: d.name }]));
}

export interface DayChange {
  date: ShanghaiDate;
  before: { working: boolean; name: string | null; provisional: boolean };
  after: { working: boolean; name: string | null };
}

/**
 * The calendar in three layers, lowest first: the library's schedules; the official schedules administrators
 * imported (each replaces the library's days of its year and makes the year covered); the administrators' own
 * day overrides (closures…), extra covered years and office hours.
 */
export interface CalendarLayers {
  library: CalendarData;
  official: Record<number, ScheduleDay[]>;
  overrides: CalendarOverrides;
}

export function composeCalendar(layers: CalendarLayers): CalendarData {
  const imported = Object.keys(layers.official).map(Number);
  const libraryDays = Object.fromEntries(
    Object.entries(layers.library.days).filter(([date]) => !imported.includes(yearOf(date))),
  );
  const withOfficial = mergeCalendarData(
    { ...layers.library, days: libraryDays },
    {
      days: Object.assign({}, ...Object.values(layers.official).map(scheduleEntries)),
      coveredYears: imported,
    },
  );
  return mergeCalendarData(withOfficial, layers.overrides);
}

export interface DayChange {
  date: ShanghaiDate;
  before: { working: boolean; name: string | null; provisional: boolean };
  after: { working: boolean; name: string | null };
}

/** The year's days whose kind or name importing `days` changes, against the calendar in force. */
export function scheduleDiff(layers: CalendarLayers, year: number, days: ScheduleDay[]): DayChange[] {
  const current = composeCalendar(layers);
  const next = composeCalendar({ ...layers, official: { ...layers.official, [year]: days } });
  const changes: DayChange[] = [];
  for (let date: ShanghaiDate = `${year}-01-01`; yearOf(date) === year; date = addCalendarDays(date, 1)) {
    const a = dayKind(current, date);
    const b = dayKind(next, date);
    if (a.working !== b.working || (a.name ?? null) !== (b.name ?? null))
      changes.push({
        date,
        before: { working: a.working, name: a.name ?? null, provisional: a.guessed },
        after: { working: b.working, name: b.name ?? null },
      });
  }
  return changes;
}
