/**
 * What a case needs to open — its document number and its first deadline — as plain functions of the
 * database and the calendar, so that the API can work them out before it starts the workflow (one round
 * trip to Temporal instead of two activities in sequence) and the workflow's activities of older cases
 * compute them the same way.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { caseDocNumbers, docNumberCounters, units } from '../db/schema.ts';
import { computeDeadline, instantAtFraction, shanghaiDateOf } from '../domain/working-time/index.ts';
import type { DeadlineResult } from '../workflows/activity-contract.ts';
import type { SlaTier } from '../workflows/definitions.ts';
import type { CalendarSource } from './calendar-source.ts';
import { calculation, unknownUnit } from './failures.ts';

/**
 * The requesting unit's next document number (文号) for the case, from its yearly sequence. Idempotent
 * per case: a retried start (same case ID) gets the number it was given the first time.
 */
export async function allocateDocNumber(
  db: Db,
  { caseId, unitCode, at }: { caseId: string; unitCode: string; at: string },
): Promise<string> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(caseDocNumbers).where(eq(caseDocNumbers.caseId, caseId));
    if (existing) return existing.docNumber;
    const [unit] = await tx.select({ prefix: units.docPrefix }).from(units).where(eq(units.code, unitCode));
    if (!unit) throw unknownUnit(`unknown requesting unit ${unitCode}`);
    const year = Number(shanghaiDateOf(new Date(at)).slice(0, 4));
    const [counter] = await tx
      .insert(docNumberCounters)
      .values({ unitCode, year, lastValue: 1 })
      .onConflictDoUpdate({
        target: [docNumberCounters.unitCode, docNumberCounters.year],
        set: { lastValue: sql`${docNumberCounters.lastValue} + 1` },
      })
      .returning({ n: docNumberCounters.lastValue });
    const docNumber = `${unit.prefix}〔${year}〕${counter?.n}号`;
    await tx.insert(caseDocNumbers).values({ caseId, docNumber });
    return docNumber;
  });
}

/** How a case's deadline is worked out: the calendar's (below), or a demonstration's (DEV_SLA_SECONDS). */
export type CaseDeadline = (input: {
  receivedAt: string;
  tier: SlaTier;
  reminderFractions: number[];
}) => Promise<DeadlineResult>;

/** The deadline of a tier from a receipt time, and the instants of its reminders, in the calendar now in force. */
export async function deadlineWithReminders(
  calendar: CalendarSource,
  { receivedAt, tier, reminderFractions }: { receivedAt: string; tier: SlaTier; reminderFractions: number[] },
): Promise<DeadlineResult> {
  const { data, rules } = await calendar.current();
  return calculation(() => {
    const d = computeDeadline(new Date(receivedAt), tier, data, rules);
    const reminderAt = reminderFractions.map((f) =>
      instantAtFraction(d.effectiveReceivedAt, d.dueAt, f, data).at.toISOString(),
    );
    return {
      effectiveReceivedAt: d.effectiveReceivedAt.toISOString(),
      dueAt: d.dueAt.toISOString(),
      flags: [...d.flags],
      reminderAt,
    };
  });
}
