/**
 * After an administrator changes the working calendar: bump the calendar version (every process's
 * CalendarSource reloads), then tell each open case whose deadline window touches a changed date, so its
 * workflow re-times the deadline from the original receipt ("retimed" on its timeline).
 */
import { and, gte, inArray, lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { CALENDAR_VERSION_KEY } from '../../activities/calendar-source.ts';
import type { Db } from '../../db/client.ts';
import { cases, systemMeta } from '../../db/schema.ts';
import {
  addCalendarDays,
  deadlineWindow,
  type ShanghaiDate,
  shanghaiInstant,
  windowTouches,
} from '../../domain/working-time/index.ts';
import type { CaseGateway } from './case-gateway.ts';

/** Statuses whose deadline still runs (a returned case waits on the requester, an escalated one on the office). */
const RETIMABLE = ['awaiting_registration', 'registered'];
const SIGNAL_CONCURRENCY = 16;

/** Inside the change's transaction: a new calendar version, so every CalendarSource reloads. */
export async function bumpCalendarVersion(tx: Db): Promise<void> {
  await tx
    .insert(systemMeta)
    .values({ key: CALENDAR_VERSION_KEY, value: 1 })
    .onConflictDoUpdate({
      target: systemMeta.key,
      set: {
        value: sql`to_jsonb(coalesce((${systemMeta.value} #>> '{}')::bigint, 0) + 1)`,
        updatedAt: new Date(),
      },
    });
}

export type CalendarChange =
  /** Day kinds changed on these dates. */
  | { dates: ShanghaiDate[] }
  /** Office hours or the receipt rule changed: every open case. */
  | { all: true }
  /** Coverage of whole years changed. */
  | { years: number[] };

export interface RetimeOutcome {
  signalled: number;
  failed: number;
}

/** The open cases a change may move, each with the dates of its deadline window the change touches. */
export async function openCasesTouched(
  db: Db,
  change: CalendarChange,
): Promise<Array<{ id: string; dates: ShanghaiDate[] }>> {
  let dates: ShanghaiDate[] = [];
  const where = [inArray(cases.status, RETIMABLE)];
  if ('dates' in change) dates = [...change.dates].sort();
  if ('years' in change) {
    for (const y of change.years) dates.push(`${y}-01-01`, `${y}-12-31`);
    dates.sort();
  }
  const first = dates[0];
  const last = dates[dates.length - 1];
  if ('dates' in change || 'years' in change) {
    if (!first || !last) return [];
    // Coarse filter in SQL (received before the last changed day ends, due on or after the first one)…
    where.push(lt(cases.receivedAt, shanghaiInstant(addCalendarDays(last, 1), 0)));
    where.push(gte(cases.dueAt, shanghaiInstant(first, 0)));
  }
  const open = await db
    .select({ id: cases.id, receivedAt: cases.receivedAt, dueAt: cases.dueAt })
    .from(cases)
    .where(and(...where));
  return open
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
}

/** Signals `calendarChanged` to every open case the change may move. Run after the change is committed. */
export async function signalCalendarChange(
  db: Db,
  gateway: CaseGateway,
  log: FastifyBaseLogger,
  change: CalendarChange,
  changedBy: string,
): Promise<RetimeOutcome> {
  const touched = await openCasesTouched(db, change);
  const outcome: RetimeOutcome = { signalled: 0, failed: 0 };
  for (let i = 0; i < touched.length; i += SIGNAL_CONCURRENCY) {
    const batch = touched.slice(i, i + SIGNAL_CONCURRENCY);
    const results = await Promise.allSettled(
      batch.map((c) => gateway.calendarChanged(c.id, { dates: c.dates, changedBy })),
    );
    results.forEach((r, j) => {
      if (r.status === 'fulfilled') outcome.signalled++;
      else {
        // The case may have ended meanwhile: nothing to re-time.
        outcome.failed++;
        log.warn({ err: r.reason, caseId: batch[j]?.id }, 'calendarChanged signal failed');
      }
    });
  }
  return outcome;
}
