/**
 * The working calendar as activities and the API see it: the library's official schedules with the
 * administrators' rows (days, office hours, extra covered years) merged on top. Reloaded when the
 * calendar version in system_meta moves, so a change made through one process is seen by all.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { calendarDays, calendarSettings, systemMeta } from '../db/schema.ts';
import {
  type CalendarData,
  type DayEntry,
  DEFAULT_SLA_RULES,
  defaultCalendarData,
  mergeCalendarData,
  type SlaRules,
} from '../domain/working-time/index.ts';

export const CALENDAR_VERSION_KEY = 'calendar_version';

export interface WorkingCalendar {
  data: CalendarData;
  rules: SlaRules;
}

export interface CalendarSource {
  current(): Promise<WorkingCalendar>;
}

const libraryCalendar = defaultCalendarData();

export async function loadCalendar(db: Db): Promise<WorkingCalendar> {
  const [settings] = await db.select().from(calendarSettings).where(eq(calendarSettings.id, 1));
  const rows = await db.select().from(calendarDays);
  const days: Record<string, DayEntry> = {};
  for (const r of rows) days[r.date] = { kind: r.kind, name: r.name ?? undefined };
  const data = mergeCalendarData(libraryCalendar, {
    days,
    coveredYears: settings?.extraCoveredYears ?? [],
    officeHours: settings?.officeHours,
  });
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
