/**
 * Who may do what, in which state: pure checks run by the Update validators (before anything enters
 * history) and again by handlers after they awaited an activity, since another Update may have changed
 * the case meanwhile. Refusals are ApplicationFailures whose type tells the API which status to answer.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import {
  type Actor,
  type CaseSnapshot,
  CLOSED_STATUSES,
  type DeadlineRecord,
  type Escalation,
  type SlaTier,
  TIER_ORDER,
  URGE_INTERVAL_MS,
} from './definitions.ts';

/** `wrong_party` → 403, `invalid_state` → 409, `invalid_input` → 422 at the API. */
export type RefusalKind = 'wrong_party' | 'invalid_state' | 'invalid_input';

export function refuse(kind: RefusalKind, message: string): never {
  throw ApplicationFailure.create({ type: `CaseRefusal.${kind}`, message, nonRetryable: true });
}

export const isClosed = (c: CaseSnapshot): boolean => CLOSED_STATUSES.includes(c.status);
export const isWithIssuer = (c: CaseSnapshot): boolean =>
  c.status === 'awaiting_registration' || c.status === 'registered';

export function currentEscalation(c: CaseSnapshot): Escalation | undefined {
  return c.escalations.findLast((e) => e.status !== 'closed');
}

/**
 * The deadline of the current routing that was missed while it was in force, if any: each deadline is
 * in force from its `from` until the next one's. A later, longer deadline never erases the lateness.
 */
export function missedDeadline(c: CaseSnapshot, atMs: number): DeadlineRecord | undefined {
  const mine = c.deadlines.filter((d) => d.routingNo === c.routing.routingNo);
  return mine.find((d, i) => {
    const next = mine[i + 1];
    const until = next ? Math.min(Date.parse(next.from), atMs) : atMs;
    return Date.parse(d.dueAt) < until;
  });
}

export function mustBeIssuer(c: CaseSnapshot, actor: Actor): void {
  if (actor.unitCode !== c.routing.issuingUnit) refuse('wrong_party', '只有本案当前的出具单位可以办理此操作');
  if (actor.role !== 'agent' && actor.role !== 'liaison')
    refuse('wrong_party', '只有出具单位的联络员或代办员可以办理此操作');
}

export function mustBeRequester(c: CaseSnapshot, actor: Actor): void {
  if (actor.unitCode !== c.requestingUnit) refuse('wrong_party', '只有本案的需求单位可以办理此操作');
  if (actor.role !== 'agent' && actor.role !== 'liaison')
    refuse('wrong_party', '只有需求单位的联络员或代办员可以办理此操作');
}

export function mustBeSupervisor(actor: Actor): void {
  if (actor.role !== 'supervisor') refuse('wrong_party', '只有联席会议办公室的督办人员可以办理此操作');
}

function mustHaveReason(reason: string | undefined, label = '理由'): void {
  if (!reason || reason.trim().length < 2) refuse('invalid_input', `请填写${label}`);
}

export const rules = {
  register(c: CaseSnapshot, actor: Actor): void {
    mustBeIssuer(c, actor);
    if (c.status !== 'awaiting_registration') refuse('invalid_state', '本案已登记受理或已不在待受理状态');
  },
  respond(c: CaseSnapshot, actor: Actor): void {
    mustBeIssuer(c, actor);
    if (c.status === 'awaiting_registration') refuse('invalid_state', '请先登记受理，再出具反馈函');
    if (c.status !== 'registered') refuse('invalid_state', '本案当前状态不能反馈');
  },
  return(c: CaseSnapshot, actor: Actor, reason: string): void {
    mustBeIssuer(c, actor);
    if (!isWithIssuer(c)) refuse('invalid_state', '本案当前状态不能退回');
    mustHaveReason(reason, '退回理由');
  },
  reroute(c: CaseSnapshot, actor: Actor, issuingUnit: string): void {
    mustBeRequester(c, actor);
    if (c.status !== 'returned') refuse('invalid_state', '只有被退回的协查才能改派');
    if (issuingUnit === c.routing.issuingUnit) refuse('invalid_input', '请选择另一个出具单位');
    if (issuingUnit === c.requestingUnit) refuse('invalid_input', '不能向本单位发起协查');
  },
  closeAfterReturn(c: CaseSnapshot, actor: Actor, reason: string): void {
    mustBeRequester(c, actor);
    if (c.status !== 'returned') refuse('invalid_state', '只有被退回的协查才能办结关闭');
    mustHaveReason(reason);
  },
  /** `nowMs` absent: the deadline is not checked (the handler checks it under a patch, see the workflow). */
  reclassify(c: CaseSnapshot, actor: Actor, tier: SlaTier, reason: string, nowMs?: number): void {
    mustBeIssuer(c, actor);
    if (!isWithIssuer(c)) refuse('invalid_state', '本案当前状态不能调整时限');
    if (nowMs !== undefined) rules.reclassifyInTime(c, nowMs);
    if (TIER_ORDER.indexOf(tier) <= TIER_ORDER.indexOf(c.tier))
      refuse('invalid_input', '时限只能向上调整（30分钟 → 1个工作日 → 2个工作日）');
    mustHaveReason(reason, '调整理由');
  },
  /** Art. 7: the tier is set on receipt; once the deadline in force has passed it can no longer move. */
  reclassifyInTime(c: CaseSnapshot, nowMs: number): void {
    if (
      nowMs >= Date.parse(c.routing.dueAt) ||
      c.escalations.some((e) => e.routingNo === c.routing.routingNo)
    )
      refuse(
        'invalid_state',
        '本案已超过办理时限，不能再调整时限档次：时限档次应在收到协查时确定（第七条），逾期后调整会抹去逾期记录',
      );
  },
  urge(c: CaseSnapshot, actor: Actor, nowMs: number): void {
    mustBeRequester(c, actor);
    if (!isWithIssuer(c)) refuse('invalid_state', '本案当前状态无需催办');
    if (c.lastUrgedAt && nowMs - Date.parse(c.lastUrgedAt) < URGE_INTERVAL_MS) {
      const waitMin = Math.ceil((URGE_INTERVAL_MS - (nowMs - Date.parse(c.lastUrgedAt))) / 60000);
      refuse('invalid_state', `催办过于频繁，请 ${waitMin} 分钟后再试`);
    }
  },
  withdraw(c: CaseSnapshot, actor: Actor, reason: string): void {
    mustBeRequester(c, actor);
    if (isClosed(c)) refuse('invalid_state', '本案已办结，不能撤回');
    mustHaveReason(reason, '撤回理由');
  },
  endByRequester(c: CaseSnapshot, actor: Actor, note: string): void {
    mustBeRequester(c, actor);
    if (isClosed(c)) refuse('invalid_state', '本案已办结');
    mustHaveReason(note, '说明');
  },
  reassign(c: CaseSnapshot, actor: Actor, toStaffId: string): void {
    mustBeIssuer(c, actor);
    if (actor.role !== 'liaison' && !actor.actingAsLiaison)
      refuse('wrong_party', '只有联络员（联络员缺岗时为联络员B角）可以转派');
    if (c.status !== 'registered') refuse('invalid_state', '只有已登记受理的协查才能转派');
    if (toStaffId === c.assigneeId) refuse('invalid_input', '已是该承办人');
  },
  /** 取消认领: the assignee gives the case back to the unit, or a liaison takes it from an assignee. */
  unclaim(c: CaseSnapshot, actor: Actor, reason: string): void {
    mustBeIssuer(c, actor);
    if (c.status !== 'registered') refuse('invalid_state', '只有已登记受理、尚未反馈的协查才能取消认领');
    const own = actor.staffId === c.assigneeId || (!!c.assigneeId && actor.onBehalfOf === c.assigneeId);
    if (!own && actor.role !== 'liaison' && !actor.actingAsLiaison)
      refuse('wrong_party', '只有本案承办人或本单位联络员可以取消认领');
    mustHaveReason(reason, '取消认领理由');
  },
  orderDeadline(c: CaseSnapshot, actor: Actor, dueAt: string, nowMs: number): void {
    mustBeSupervisor(actor);
    const esc = currentEscalation(c);
    if (!esc) refuse('invalid_state', '本案没有待处理的督办');
    if (!isWithIssuer(c)) refuse('invalid_state', '本案已不在出具单位办理中，无需责成限时办结');
    const due = Date.parse(dueAt);
    if (Number.isNaN(due)) refuse('invalid_input', '限办时间格式不正确');
    if (due <= nowMs) refuse('invalid_input', '限办时间必须晚于当前时间');
  },
  /** The office's decision on a responsibility dispute: the case goes from its issuing unit to another. */
  officeReroute(c: CaseSnapshot, actor: Actor, issuingUnit: string, reason: string): void {
    mustBeSupervisor(actor);
    if (!isWithIssuer(c)) refuse('invalid_state', '本案已不在出具单位办理中，不能再改派');
    if (issuingUnit === c.routing.issuingUnit) refuse('invalid_input', '请选择另一个出具单位');
    if (issuingUnit === c.requestingUnit) refuse('invalid_input', '不能改派给需求单位本身');
    mustHaveReason(reason, '裁定理由');
  },
  closeEscalation(c: CaseSnapshot, actor: Actor, level: number, outcome: string): void {
    mustBeSupervisor(actor);
    const esc = c.escalations.find((e) => e.level === level && e.status !== 'closed');
    if (!esc) refuse('invalid_state', '没有该级别的未关闭督办');
    mustHaveReason(outcome, '督办结果');
  },
};
