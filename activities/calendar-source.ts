/**
 * The working calendar as activities and the API see it: the library's official schedules with the
 * administrators' rows (days, office hours, extra covered years) merged on top. Reloaded when the
 * calendar version in system_meta moves, so a change made through one process is seen by all.
 */
import { eq, like } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { calendarDays, calendarSettings, systemMeta } from '../db/schema.ts';
import {
  type CalendarData,
  type DayEntry,
  DEFAULT_SLA_RULES,
  defaultCalendarData,
  type SlaRules,
} from '../domain/working-time/index.ts';
import {
  type CalendarLayers,
  composeCalendar,
  type ScheduleDay,
} from '../domain/working-time/official-schedule.ts';

export const CALENDAR_VERSION_KEY = 'calendar_version';

export interface WorkingCalendar {
  data: CalendarData;
  rules: SlaRules;
}

export interface CalendarSource {
  current(): Promise<WorkingCalendar>;
}

const libraryCalendar = defaultCalendarData();

/** system_meta key of a year's imported official schedule (its value: OfficialScheduleRecord). */
export const officialScheduleKey = (year: number) => `calendar_official_${year}`;

export interface OfficialScheduleRecord {
  year: number;
  days: ScheduleDay[];
  importedBy: string;
  importedAt: string;
}

export async function loadOfficialSchedules(db: Db): Promise<Record<number, OfficialScheduleRecord>> {
  const rows = await db
    .select({ value: systemMeta.value })
    .from(systemMeta)
    .where(like(systemMeta.key, 'calendar_official_%'));
  const records = rows.map((r) => r.value as OfficialScheduleRecord);
  return Object.fromEntries(records.map((r) => [r.year, r]));
}

/** The calendar's layers as stored: library, imported official schedules, administrators' overrides. */
export async function loadCalendarLayers(db: Db): Promise<CalendarLayers> {
  const [settings] = await db.select().from(calendarSettings).where(eq(calendarSettings.id, 1));
  const rows = await db.select().from(calendarDays);
  const days: Record<string, DayEntry> = {};
  for (const r of rows) days[r.date] = { kind: r.kind, name: r.name ?? undefined };
  const official = await loadOfficialSchedules(db);
  return {
    library: libraryCalendar,
    official: Object.fromEntries(Object.values(official).map((r) => [r.year, r.days])),
    overrides: {
      days,
      coveredYears: settings?.extraCoveredYears ?? [],
      ...(settings?.officeHours ? { officeHours: settings.officeHours } : {}),
    },
  };
}

export async function loadCalendar(db: Db): Promise<WorkingCalendar> {
  const [settings] = await db.select().from(calendarSettings).where(eq(calendarSettings.id, 1));
  const data = composeCalendar(await loadCalendarLayers(db));
  const rules: SlaRules = settings
    ? { offHoursReceipt: settings.offHoursReceipt === 'as-is' ? 'as-is' : 'next-opening' }
    : DEFAULT_SLA_RULES;
  return { data, rules };
}

export function createCalendarSource(db: Db): CalendarSource {
  let cached: { version: unknown; calendar: WorkingCalendar } | undefined;
  return {
    async current() {
      const [meta] = await db
        .select({ value: systemMeta.value })
        .from(systemMeta)
        .where(eq(systemMeta.key, CALENDAR_VERSION_KEY));
      const version = meta?.value ?? 0;
      if (!cached || cached.version !== version) cached = { version, calendar: await loadCalendar(db) };
      return cached.calendar;
    },
  };
}
