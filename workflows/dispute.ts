/**
 * A responsibility dispute (职责争议, Zibo measures Art. 7 and 11): an issuing unit that believes a case's item is
 * not its duty asks the joint-meeting office to decide, instead of answering. One workflow per dispute (ID
 * `dispute-<id>`): filed → decided by the office within a deadline in working time (`decisionDays`, default 2
 * working days) — re-route the case to the unit the office names, or order the disputing unit to answer — or,
 * once that deadline passes undecided, overdue: the office's supervisors are told and the dispute is flagged; it
 * can still be decided then. The case's own SLA keeps running meanwhile (the measures pause it for nothing).
 *
 * The working-time deadline comes from the case activities' `computeDeadline` (recorded in history, like every
 * working-time fact of the case workflow); the decision reaches the case through its `officeReroute` Update, sent
 * by an activity. The read model (`disputes`) is written by `projectDispute`, idempotent on the dispute's step.
 */
import * as wf from '@temporalio/workflow';
import type { DeadlineResult } from './activity-contract.ts';
import { CASE_ACTIVITY_OPTIONS } from './activity-options.ts';
import type { Actor, SlaTier } from './definitions.ts';

export type DisputeOutcome = 'reroute' | 'must_answer';
export type DisputeStatus = 'open' | 'overdue' | 'rerouted' | 'must_answer';

export interface DisputeInput {
  disputeId: string;
  caseId: string;
  /** The disputing unit: the case's issuing unit when the dispute was filed. */
  unitCode: string;
  /** The case's routing the dispute is about. */
  routingNo: number;
  filedBy: Actor;
  reason: string;
  /** The unit the disputing unit believes responsible, if it names one. */
  suggestedUnit?: string;
  filedAt: string;
  /** Working days the office has to decide: 1 or 2 (DISPUTE_DECISION_DAYS). */
  decisionDays: 1 | 2;
}

export interface DisputeDecision {
  outcome: DisputeOutcome;
  /** The unit the case was re-routed to (`reroute`). */
  targetUnit?: string;
  reason: string;
  by: string;
  byName: string;
  at: string;
  /** Decided after the deadline. */
  late: boolean;
}

export interface DisputeState {
  disputeId: string;
  caseId: string;
  unitCode: string;
  routingNo: number;
  status: DisputeStatus;
  filedBy: string;
  filedByName: string;
  reason: string;
  suggestedUnit?: string;
  filedAt: string;
  /** When the office's decision is due (working time). */
  dueAt?: string;
  overdueAt?: string;
  decision?: DisputeDecision;
  /** Bumped by every recorded step (the projection keeps the newest). */
  seq: number;
}

export interface DecideDisputeInput {
  actor: Actor;
  outcome: DisputeOutcome;
  targetUnit?: string;
  reason: string;
}

export type DisputeStep = 'filed' | 'overdue' | 'decided';

export interface DisputeActivities {
  computeDeadline(input: {
    receivedAt: string;
    tier: SlaTier;
    reminderFractions: number[];
  }): Promise<DeadlineResult>;
  /** Writes the dispute's row and the step's notifications; idempotent on (dispute, seq). */
  projectDispute(input: { state: DisputeState; step: DisputeStep }): Promise<void>;
  /** Sends the case the office's re-route (Update ID from the dispute); a refusal comes back as its reason. */
  rerouteCaseForDispute(input: {
    disputeId: string;
    caseId: string;
    actor: Actor;
    issuingUnit: string;
    reason: string;
  }): Promise<{ ok: true } | { ok: false; status: number; detail: string }>;
}

export const disputeWorkflowId = (disputeId: string): string => `dispute-${disputeId}`;
export const decideDisputeUpdate = wf.defineUpdate<DisputeState, [DecideDisputeInput]>('decideDispute');
export const disputeStateQuery = wf.defineQuery<DisputeState>('disputeState');

/** `wrong_party` → 403, `invalid_state` → 409, `invalid_input` → 422 at the API (as the case's refusals). */
function refuse(kind: 'wrong_party' | 'invalid_state' | 'invalid_input', message: string): never {
  throw wf.ApplicationFailure.create({ type: `CaseRefusal.${kind}`, message, nonRetryable: true });
}

/** The office's decision, checked before it enters history and again when its turn comes. */
export function checkDecision(s: DisputeState, deciding: boolean, input: DecideDisputeInput): void {
  if (input.actor.role !== 'supervisor')
    refuse('wrong_party', '只有联席会议办公室的督办人员可以裁定职责争议');
  if (deciding || s.decision) refuse('invalid_state', '该职责争议已裁定');
  if (!input.reason || input.reason.trim().length < 2) refuse('invalid_input', '请填写裁定理由');
  if (input.outcome === 'reroute') {
    if (!input.targetUnit) refuse('invalid_input', '改派时请选择承办的出具单位');
    if (input.targetUnit === s.unitCode) refuse('invalid_input', '请选择提出争议的单位以外的出具单位');
  }
}

const acts = wf.proxyActivities<DisputeActivities>(CASE_ACTIVITY_OPTIONS);

export async function dispute(input: DisputeInput): Promise<DisputeState> {
  const s: DisputeState = {
    disputeId: input.disputeId,
    caseId: input.caseId,
    unitCode: input.unitCode,
    routingNo: input.routingNo,
    status: 'open',
    filedBy: input.filedBy.staffId,
    filedByName: input.filedBy.name,
    reason: input.reason,
    ...(input.suggestedUnit ? { suggestedUnit: input.suggestedUnit } : {}),
    filedAt: input.filedAt,
    seq: 0,
  };
  let deciding = false;
  const project = async (step: DisputeStep) => {
    s.seq += 1;
    await acts.projectDispute({ state: { ...s }, step });
  };

  wf.setHandler(disputeStateQuery, () => s);
  wf.setHandler(
    decideDisputeUpdate,
    async (d) => {
      checkDecision(s, deciding, d);
      deciding = true;
      try {
        if (d.outcome === 'reroute') {
          const applied = await acts.rerouteCaseForDispute({
            disputeId: s.disputeId,
            caseId: s.caseId,
            actor: d.actor,
            issuingUnit: d.targetUnit as string,
            reason: d.reason,
          });
          if (!applied.ok)
            refuse(
              applied.status === 403
                ? 'wrong_party'
                : applied.status === 409
                  ? 'invalid_state'
                  : 'invalid_input',
              applied.detail,
            );
        }
        const at = new Date(Date.now()).toISOString();
        s.decision = {
          outcome: d.outcome,
          ...(d.outcome === 'reroute' ? { targetUnit: d.targetUnit } : {}),
          reason: d.reason,
          by: d.actor.staffId,
          byName: d.actor.name,
          at,
          late: s.dueAt !== undefined && Date.parse(at) > Date.parse(s.dueAt),
        };
        s.status = d.outcome === 'reroute' ? 'rerouted' : 'must_answer';
        await project('decided');
        return { ...s };
      } finally {
        if (!s.decision) deciding = false;
      }
    },
    { validator: (d) => checkDecision(s, deciding, d) },
  );

  const d = await acts.computeDeadline({
    receivedAt: input.filedAt,
    tier: input.decisionDays === 1 ? '1d' : '2d',
    reminderFractions: [],
  });
  s.dueAt = d.dueAt;
  await project('filed');

  const decidedInTime = await wf.condition(
    () => s.decision !== undefined,
    Math.max(Date.parse(d.dueAt) - Date.now(), 1),
  );
  if (!decidedInTime && !s.decision) {
    // Overdue: flagged, and the office's supervisors are told (once, by the projection's event key).
    s.overdueAt = new Date(Date.now()).toISOString();
    if (!deciding) s.status = 'overdue';
    await project('overdue');
    await wf.condition(() => s.decision !== undefined);
  }
  await wf.condition(wf.allHandlersFinished);
  return s;
}
