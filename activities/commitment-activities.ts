/**
 * What the 告知承诺 check (workflows/commitment.ts) asks of the outside world: its due time on the city's working
 * calendar, and the read model (the commitment's status columns, the credit record of a false one).
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { cases, commitments, creditRecords, notifications } from '../db/schema.ts';
import { officeIntervals, shanghaiInstant, workingDaysAfter } from '../domain/working-time/index.ts';
import type { CommitmentActivities, CommitmentState } from '../workflows/commitment-definitions.ts';
import type { CalendarSource } from './calendar-source.ts';
import { calculation, invalidInput } from './failures.ts';

const at = (iso: string | undefined): Date | null => (iso ? new Date(iso) : null);

/** The status columns of a commitment as the workflow's state has them (the case's document number looked up). */
async function statusColumns(db: Db, s: CommitmentState) {
  let caseDocNumber = s.caseDocNumber ?? null;
  if (!caseDocNumber && s.caseId) {
    const [row] = await db.select({ docNumber: cases.docNumber }).from(cases).where(eq(cases.id, s.caseId));
    caseDocNumber = row?.docNumber ?? null;
  }
  return {
    status: s.status,
    checkDueAt: at(s.checkDueAt),
    caseId: s.caseId ?? null,
    caseDocNumber,
    checkOutcome: s.checkOutcome ?? null,
    checkNote: s.checkNote ?? null,
    checkedAt: at(s.checkedAt),
    decision: s.decision ?? null,
    decisionReason: s.decisionReason ?? null,
    decidedBy: s.decidedBy ?? null,
    decidedAt: at(s.decidedAt),
    updatedAt: new Date(),
  };
}

export function createCommitmentActivities(deps: { db: Db; calendar: CalendarSource }): CommitmentActivities {
  const { db, calendar } = deps;
  return {
    async commitmentCheckDue({ from, workingDays }) {
      if (!Number.isInteger(workingDays) || workingDays < 0)
        throw invalidInput(`workingDays must be a whole number >= 0, got ${workingDays}`);
      // 0: checked at once (an online check of shared data, seed 004 (四)).
      if (workingDays === 0) return new Date(from).toISOString();
      return calculation(async () => {
        const { data } = await calendar.current();
        const day = workingDaysAfter(new Date(from), workingDays, data);
        const opening = officeIntervals(data, day.date)[0]?.[0] ?? 9 * 60;
        return shanghaiInstant(day.date, opening).toISOString();
      });
    },

    async projectCommitment({ state }) {
      await db
        .update(commitments)
        .set(await statusColumns(db, state))
        .where(eq(commitments.id, state.commitmentId));
      if (state.status !== 'awaiting_confirmation') return;
      // The requesting unit is told that the check asks for its written decision (once: one row per event).
      const [c] = await db.select().from(commitments).where(eq(commitments.id, state.commitmentId));
      if (!c) return;
      await db
        .insert(notifications)
        .values({
          id: `${c.id}:awaiting_confirmation:unit:${c.requestingUnit}`,
          eventKey: `${c.id}:awaiting_confirmation`,
          recipientKey: `unit:${c.requestingUnit}`,
          caseId: c.caseId,
          recipientUnit: c.requestingUnit,
          kind: 'commitment_check',
          message:
            `告知承诺事后核查未能确认承诺属实（${c.catalogName}，办件号 ${c.applicationNumber}，承诺人 ${c.subjectMasked}），` +
            '请在「告知承诺」中书面确认承诺属实或不实',
          createdAt: new Date(),
        })
        .onConflictDoNothing();
    },

    async recordCreditRecord({ state, actor }) {
      if (!state.barredUntil || !state.decisionReason || !state.decidedAt)
        throw invalidInput('a credit record needs its reason, decision time and bar');
      const columns = await statusColumns(db, state);
      await db.transaction(async (tx) => {
        const [c] = await tx.select().from(commitments).where(eq(commitments.id, state.commitmentId));
        if (!c) throw invalidInput(`no commitment ${state.commitmentId}`);
        await tx
          .insert(creditRecords)
          .values({
            id: `credit-${randomUUID()}`,
            commitmentId: c.id,
            requestingUnit: c.requestingUnit,
            subjectKind: c.subjectKind,
            subjectMasked: c.subjectMasked,
            subjectIdHash: c.subjectIdHash,
            catalogName: c.catalogName,
            applicationNumber: c.applicationNumber,
            reason: state.decisionReason ?? '',
            recordedBy: actor.staffId,
            recordedAt: new Date(state.decidedAt ?? ''),
            barredUntil: new Date(state.barredUntil ?? ''),
          })
          .onConflictDoNothing({ target: creditRecords.commitmentId });
        await tx.update(commitments).set(columns).where(eq(commitments.id, c.id));
      });
    },
  };
}
