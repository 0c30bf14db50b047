/**
 * Absences and the A/B hand-over (Art. 6): who takes an absent person's registered cases, and what the
 * absence workflow (workflows/absence-hand-over.ts) needs from the database when an absence begins and ends.
 * Nothing here signals a case: the API (for an absence that covers now) and the workflow do that.
 */
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { cases, staff, staffAbsences } from '../db/schema.ts';
import { liaisonDuty } from '../db/staffing.ts';
import type { AbsenceActivities, HandOverPlan } from '../workflows/absence-hand-over.ts';
import { readableText } from '../workflows/labels.ts';
import { insertNotifications } from './case-activities.ts';

type StaffRow = typeof staff.$inferSelect;

export async function isAbsentAt(db: Db, staffId: string, at: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: staffAbsences.id })
    .from(staffAbsences)
    .where(
      and(eq(staffAbsences.staffId, staffId), lte(staffAbsences.startsAt, at), gt(staffAbsences.endsAt, at)),
    )
    .limit(1);
  return !!row;
}

export interface HandOverOutcome {
  toStaffId: string | null;
  toName: string | null;
  /** Cases whose hand-over signal was sent. */
  caseIds: string[];
  failed: number;
  /** Why nothing was handed over although there were cases. */
  warning: string | null;
}

/**
 * A task for the unit's liaison (re-assign cases nobody could take over): it goes to the liaisons who are
 * present, or to the backup liaison when every liaison is absent (A/B roles, Art. 6). Once per liaison
 * and `eventKey` (an absence is planned by the API when recorded and again by its workflow).
 */
async function notifyLiaisonDuty(db: Db, person: StaffRow, warning: string, eventKey: string): Promise<void> {
  const duty = await liaisonDuty(db, person.unitCode);
  const at = new Date();
  const rows = duty.recipients
    .filter((r) => r.id !== person.id)
    .map((r) => ({
      id: `${eventKey}:${r.id}`,
      eventKey,
      recipientKey: r.id,
      caseId: null,
      recipientStaffId: r.id,
      recipientUnit: null,
      kind: 'handover_failed',
      message: readableText(
        `${person.displayName}：${warning}${duty.backupActing ? '（联络员缺岗，由联络员B角办理）' : ''}`,
      ),
      createdAt: at,
    }));
  await insertNotifications(db, rows);
}

/**
 * The registered open cases of `staffId` and the active, present A/B partner to take them; with no such
 * partner, a warning (also sent to the liaison on duty) and nobody to take them.
 */
export async function planHandOver(
  db: Db,
  staffId: string,
  /** What the liaison's notice is about, once: the absence (`absence:ID`), or the person leaving. */
  eventKey = `handover:${staffId}:${Date.now()}`,
): Promise<HandOverPlan> {
  const open = await db
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.assigneeId, staffId), eq(cases.status, 'registered')));
  const [person] = await db.select().from(staff).where(eq(staff.id, staffId));
  const plan: HandOverPlan = { caseIds: open.map((c) => c.id), to: null, warning: null };
  if (!open.length || !person) return plan;
  const [partner] = person.partnerId
    ? await db.select().from(staff).where(eq(staff.id, person.partnerId))
    : [];
  if (!partner?.active || partner.unitCode !== person.unitCode || partner.id === person.id) {
    plan.warning = `该人员没有在岗的A/B角，${open.length} 件在办协查未能转交，请联络员转派`;
  } else if (await isAbsentAt(db, partner.id, new Date())) {
    plan.warning = `A/B角${partner.displayName}也在缺岗，${open.length} 件在办协查未能转交，请联络员转派`;
  } else {
    plan.to = { id: partner.id, name: partner.displayName };
    return plan;
  }
  await notifyLiaisonDuty(db, person, plan.warning, eventKey);
  return plan;
}

export function createAbsenceActivities(db: Db): AbsenceActivities {
  const absence = async (absenceId: string) =>
    (await db.select().from(staffAbsences).where(eq(staffAbsences.id, absenceId)))[0];
  return {
    async absenceBegins(absenceId) {
      const row = await absence(absenceId);
      return row ? planHandOver(db, row.staffId, `absence:${row.id}`) : null; // withdrawn meanwhile: nothing to do
    },
    async absenceEnds(absenceId) {
      const row = await absence(absenceId);
      const [person] = row ? await db.select().from(staff).where(eq(staff.id, row.staffId)) : [];
      // Back only to someone who is active and not absent again (a longer absence recorded meanwhile).
      if (!person?.active || (await isAbsentAt(db, person.id, new Date()))) return null;
      return { id: person.id, name: person.displayName };
    },
  };
}
