/**
 * What the dispute workflow (workflows/dispute.ts) asks of the outside world: its read model row with the
 * notifications of each step, and the office's re-route sent to the case. `computeDeadline` is the case
 * activities' own (registered on the same worker).
 */
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { disputes, staff, units } from '../db/schema.ts';
import { officeRerouteUpdate } from '../workflows/definitions.ts';
import type { DisputeActivities, DisputeState, DisputeStep } from '../workflows/dispute.ts';
import { beijingTime, readableText } from '../workflows/labels.ts';
import { insertNotifications, type NotificationRow } from './case-activities.ts';

const REFUSAL_STATUS: Record<string, number> = {
  'CaseRefusal.wrong_party': 403,
  'CaseRefusal.invalid_state': 409,
  'CaseRefusal.invalid_input': 422,
};

async function unitName(db: Db, code: string | undefined): Promise<string> {
  if (!code) return '';
  const [u] = await db.select({ name: units.name }).from(units).where(eq(units.code, code));
  return u?.name ?? code;
}

/** Active people of a unit in the given roles. */
async function people(db: Db, unitCodes: string[], roles: ('agent' | 'liaison' | 'supervisor')[]) {
  if (!unitCodes.length) return [];
  return db
    .select({ id: staff.id })
    .from(staff)
    .where(and(inArray(staff.unitCode, unitCodes), inArray(staff.role, roles), eq(staff.active, true)));
}

async function officeSupervisors(db: Db) {
  const offices = await db.select({ code: units.code }).from(units).where(eq(units.kind, 'office'));
  return people(
    db,
    offices.map((o) => o.code),
    ['supervisor'],
  );
}

/** Who hears of each step, and what they read (Chinese, Beijing time). */
async function notices(db: Db, s: DisputeState, step: DisputeStep) {
  const unit = await unitName(db, s.unitCode);
  if (step === 'filed')
    return {
      kind: 'dispute_filed',
      to: await officeSupervisors(db),
      text: `${unit}对协查提出职责争议，请于 ${beijingTime(s.dueAt ?? s.filedAt)} 前裁定：${s.reason}`,
    };
  if (step === 'overdue')
    return {
      kind: 'dispute_overdue',
      to: await officeSupervisors(db),
      text: `职责争议逾期未裁定（应于 ${beijingTime(s.dueAt ?? s.filedAt)} 前裁定）：${unit}，${s.reason}`,
    };
  const d = s.decision;
  if (!d) return undefined;
  const text =
    d.outcome === 'reroute'
      ? `联席会议办公室裁定本案不属于本单位职责，已改派${await unitName(db, d.targetUnit)}：${d.reason}`
      : `联席会议办公室裁定本案由本单位办理，请按时限反馈：${d.reason}`;
  return { kind: 'dispute_decided', to: await people(db, [s.unitCode], ['agent', 'liaison']), text };
}

export function createDisputeActivities({ db }: { db: Db }): Omit<DisputeActivities, 'computeDeadline'> {
  return {
    async projectDispute({ state: s, step }) {
      const d = s.decision;
      const values = {
        status: s.status,
        dueAt: s.dueAt ? new Date(s.dueAt) : null,
        overdueAt: s.overdueAt ? new Date(s.overdueAt) : null,
        outcome: d?.outcome ?? null,
        targetUnit: d?.targetUnit ?? null,
        decisionReason: d?.reason ?? null,
        decidedBy: d?.by ?? null,
        decidedByName: d?.byName ?? null,
        decidedAt: d ? new Date(d.at) : null,
        decidedLate: d ? d.late : null,
        seq: s.seq,
      };
      // The API inserted the row when the dispute was filed; a later step replaces an earlier one only.
      await db
        .update(disputes)
        .set(values)
        .where(and(eq(disputes.id, s.disputeId), lt(disputes.seq, s.seq)));
      const n = await notices(db, s, step);
      if (!n) return;
      const eventKey = `dispute:${s.disputeId}:${step}`;
      const at = new Date(
        step === 'decided' && d ? d.at : step === 'overdue' ? (s.overdueAt ?? s.filedAt) : s.filedAt,
      );
      const rows: NotificationRow[] = n.to.map((p) => ({
        id: `${eventKey}:${p.id}`,
        eventKey,
        recipientKey: p.id,
        caseId: s.caseId,
        recipientStaffId: p.id,
        recipientUnit: null,
        kind: n.kind,
        message: readableText(n.text),
        createdAt: at,
      }));
      await insertNotifications(db, rows);
    },

    async rerouteCaseForDispute({ disputeId, caseId, actor, issuingUnit, reason }) {
      try {
        await Context.current()
          .client.workflow.getHandle(caseId)
          .executeUpdate(officeRerouteUpdate, {
            args: [{ actor, issuingUnit, reason, disputeId }],
            updateId: `dispute-${disputeId}`,
          });
        return { ok: true };
      } catch (err) {
        const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type && REFUSAL_STATUS[cause.type])
          return { ok: false, status: REFUSAL_STATUS[cause.type] ?? 422, detail: cause.message };
        if (err instanceof Error && err.name === 'WorkflowNotFoundError')
          return { ok: false, status: 409, detail: '本案已办结，不能再改派' };
        throw err;
      }
    },
  };
}
