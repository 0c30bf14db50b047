/**
 * After an administrator changes the working calendar: in the change's own transaction, bump the calendar
 * version (every process's CalendarSource reloads) and record that the open cases are to be re-timed; after the
 * commit, run the re-timing workflow (workflows/calendar-retime.ts), which tells each open case whose deadline
 * window touches a changed date to re-time itself ("retimed" on its timeline). A change whose workflow never
 * started (the API died in between, Temporal was down) is resumed from its marker at the next API start.
 */
import { randomUUID } from 'node:crypto';
import { like, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { openCasesTouched, RETIME_PENDING_PREFIX } from '../../activities/calendar-activities.ts';
import { CALENDAR_VERSION_KEY } from '../../activities/calendar-source.ts';
import type { Db } from '../../db/client.ts';
import { systemMeta } from '../../db/schema.ts';
import type { CalendarChange, CalendarRetimeInput, RetimeOutcome } from '../../workflows/calendar-retime.ts';
import type { CaseGateway } from './case-gateway.ts';

export type { CalendarChange, RetimeOutcome };
export { openCasesTouched };

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

/**
 * Inside the change's transaction: a new calendar version and the "re-timing pending" marker, so the change and
 * the promise to re-time its cases commit together. Run `retimeOpenCases` with the result after the commit.
 */
export async function recordCalendarChange(
  tx: Db,
  change: CalendarChange,
  changedBy: string,
): Promise<CalendarRetimeInput> {
  await bumpCalendarVersion(tx);
  const pending: CalendarRetimeInput = { retimeId: randomUUID(), change, changedBy };
  await tx.insert(systemMeta).values({ key: `${RETIME_PENDING_PREFIX}${pending.retimeId}`, value: pending });
  return pending;
}

/** Runs (or joins) the change's re-timing workflow and waits for its outcome. */
export async function retimeOpenCases(
  gateway: CaseGateway,
  log: FastifyBaseLogger,
  pending: CalendarRetimeInput,
): Promise<RetimeOutcome> {
  try {
    return await gateway.retimeCalendar(pending);
  } catch (err) {
    // The marker stays: the next API start resumes it. The change itself is committed.
    log.error(
      { err, retimeId: pending.retimeId },
      'calendar re-timing could not run now; resumed at next start',
    );
    return { signalled: 0, failed: 0 };
  }
}

/** At API start: every committed change whose re-timing has not finished is run again (one workflow each). */
export async function resumePendingRetimes(
  db: Db,
  gateway: CaseGateway,
  log: FastifyBaseLogger,
): Promise<number> {
  const rows = await db
    .select({ value: systemMeta.value })
    .from(systemMeta)
    .where(like(systemMeta.key, `${RETIME_PENDING_PREFIX}%`));
  await Promise.all(
    rows.map(async (r) => {
      const outcome = await retimeOpenCases(gateway, log, r.value as CalendarRetimeInput);
      log.info(
        { retimeId: (r.value as CalendarRetimeInput).retimeId, ...outcome },
        'calendar re-timing resumed',
      );
    }),
  );
  return rows.length;
}
