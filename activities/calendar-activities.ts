/**
 * What the calendar re-timing workflow (workflows/calendar-retime.ts) asks of the database: the open cases a
 * calendar change may move, a page at a time, and clearing the change's "re-timing pending" marker when done.
 */
import { and, asc, eq, gt, gte, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { cases, systemMeta } from '../db/schema.ts';
import {
  addCalendarDays,
  deadlineWindow,
  type ShanghaiDate,
  shanghaiInstant,
  windowTouches,
} from '../domain/working-time/index.ts';
import type { CalendarActivities, CalendarChange, CasesToRetime } from '../workflows/calendar-retime.ts';
import { calculation, invalidInput } from './failures.ts';

/** Statuses whose deadline still runs (a returned case waits on the requester, an escalated one on the office). */
const RETIMABLE = ['awaiting_registration', 'registered'];

/** system_meta key of a committed calendar change whose open cases are not all re-timed yet. */
export const RETIME_PENDING_PREFIX = 'calendar_retime_';

/**
 * The open cases a change may move, each with the dates of its deadline window the change touches; ordered by
 * case id, `limit` rows of the coarse SQL filter after `afterId` (`next` is set while more may follow).
 */
export async function openCasesTouched(
  db: Db,
  change: CalendarChange,
  page: { afterId?: string; limit?: number } = {},
): Promise<CasesToRetime> {
  let dates: ShanghaiDate[] = [];
  const where = [inArray(cases.status, RETIMABLE)];
  if (page.afterId) where.push(gt(cases.id, page.afterId));
  if ('dates' in change) dates = [...change.dates].sort();
  if ('years' in change) {
    for (const y of change.years) dates.push(`${y}-01-01`, `${y}-12-31`);
    dates.sort();
  }
  const first = dates[0];
  const last = dates[dates.length - 1];
  if ('dates' in change || 'years' in change) {
    if (!first || !last) return { cases: [] };
    // Coarse filter in SQL (received before the last changed day ends, due on or after the first one)…
    where.push(lt(cases.receivedAt, shanghaiInstant(addCalendarDays(last, 1), 0)));
    where.push(gte(cases.dueAt, shanghaiInstant(first, 0)));
  }
  const query = db
    .select({ id: cases.id, receivedAt: cases.receivedAt, dueAt: cases.dueAt })
    .from(cases)
    .where(and(...where))
    .orderBy(asc(cases.id));
  const open = page.limit ? await query.limit(page.limit) : await query;
  const touched = open
    .map((c) => {
      const window = deadlineWindow(c.receivedAt, c.dueAt);
      if ('all' in change) return { id: c.id, dates: window };
      // …then the exact rule. For years, the dates of the window in those years.
      if ('years' in change) {
        const inYears = window.filter((d) => change.years.includes(Number(d.slice(0, 4))));
        return inYears.length ? { id: c.id, dates: inYears } : undefined;
      }
      return windowTouches(c.receivedAt, c.dueAt, dates) ? { id: c.id, dates } : undefined;
    })
    .filter((c) => c !== undefined);
  const lastRow = open[open.length - 1];
  return page.limit && open.length === page.limit && lastRow
    ? { cases: touched, next: lastRow.id }
    : { cases: touched };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Why a change cannot be re-timed (retrying would not change that), or undefined. */
export function invalidChange(change: CalendarChange): string | undefined {
  if (typeof change !== 'object' || change === null) return 'not an object';
  if ('all' in change) return change.all === true ? undefined : '`all` must be true';
  if ('dates' in change)
    return Array.isArray(change.dates) && change.dates.every((d) => typeof d === 'string' && ISO_DATE.test(d))
      ? undefined
      : '`dates` must be YYYY-MM-DD dates';
  if ('years' in change)
    return Array.isArray(change.years) && change.years.every((y) => Number.isInteger(y))
      ? undefined
      : '`years` must be whole years';
  return 'neither dates, years nor all';
}

export function createCalendarActivities(db: Db): CalendarActivities {
  return {
    async casesToRetime(change, afterId, limit) {
      const problem = invalidChange(change);
      if (problem) throw invalidInput(`calendar change: ${problem}`);
      return calculation(() => openCasesTouched(db, change, { afterId, limit }));
    },
    async calendarRetimeDone(retimeId) {
      await db.delete(systemMeta).where(eq(systemMeta.key, `${RETIME_PENDING_PREFIX}${retimeId}`));
    },
  };
}
