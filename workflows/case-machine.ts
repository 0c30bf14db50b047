/**
 * The case's rules as pure transitions: a snapshot and an action (with the facts the shell fetched from
 * activities) → the new snapshot and what to do about it. No Temporal here and no clock: the workflow
 * (`verification-case.ts`) receives a message, fetches the facts, calls one of these, and carries out the
 * effects. Every transition re-checks its rule (`case-rules.ts`) against the snapshot it is given, because
 * the case may have changed since the Update's validator ran; a refusal throws before anything changes.
 * Inputs are never modified: each transition works on a copy.
 *
 * Times are ISO-8601 strings, as in the snapshot; `now` is the workflow's current time.
 */
import type { CaseEvent, DeadlineResult, NotificationRequest } from './activity-contract.ts';
import { currentEscalation, isClosed, isWithIssuer, missedDeadline, rules } from './case-rules.ts';
import {
  type Actor,
  type CaseInput,
  type CaseSnapshot,
  type ClosedStatus,
  type Escalation,
  type HandOverInput,
  type OfflineChannel,
  type ResponseResult,
  type SlaTier,
  systemActorId,
} from './definitions.ts';
import { beijingTime, resultLabel, tierLabel } from './labels.ts';

/** An event to record; the shell numbers it (`numbered`), stamps its time and writes it with the snapshot. */
export interface Entry {
  type: string;
  actor?: Actor;
  reason?: string;
  data?: Record<string, unknown>;
  notify?: NotificationRequest[];
}

/** What the workflow keeps beside the snapshot. */
export interface CaseTimers {
  /** When the office is next reminded of an escalation nobody has ordered yet. */
  officeReminderAt?: string;
}

/** What a decision asks the shell to do, in this order. */
export type Effect =
  | { kind: 'record'; entry: Entry }
  /** Ask the calendar for the next working opening after now: when the office is reminded next. */
  | { kind: 'plan-office-reminder' };

export interface Decision {
  state: CaseSnapshot;
  effects: Effect[];
  /** Set when the decision changes the timers themselves. */
  timers?: CaseTimers;
}

const ms = (iso: string): number => Date.parse(iso);
/** A detached copy to change (the workflow sandbox has no structuredClone; the snapshot is plain JSON). */
const draft = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const recorded = (state: CaseSnapshot, entry: Entry): Decision => ({
  state,
  effects: [{ kind: 'record', entry }],
});
const assigneeAudience = (cs: CaseSnapshot) =>
  cs.status === 'registered' ? ('assignee_and_backup' as const) : ('issuing_unit' as const);

/** The case is finished once it is closed and the office closed every escalation. */
export const finished = (cs: CaseSnapshot): boolean =>
  isClosed(cs) && cs.escalations.every((e) => e.status === 'closed');

// ─── Opening and recording ──────────────────────────────────────────────────────────────────────

/** The new case, with its first event (seq 1, at the receipt) and the issuing unit's task. */
export function open(
  input: CaseInput,
  docNumber: string,
  first: DeadlineResult,
  arrivedAt: string,
): { state: CaseSnapshot; event: CaseEvent; notify: NotificationRequest[] } {
  const state: CaseSnapshot = {
    caseId: input.caseId,
    docNumber,
    status: 'awaiting_registration',
    tier: input.tier,
    ...(input.tierReason ? { tierReason: input.tierReason } : {}),
    ...(input.applicationNumber ? { applicationNumber: input.applicationNumber } : {}),
    requestingUnit: input.requestingUnit,
    catalog: input.catalog,
    purpose: input.purpose,
    createdBy: input.createdBy.staffId,
    createdAt: input.requestedAt,
    routing: {
      ...first,
      issuingUnit: input.issuingUnit,
      receivedAt: input.requestedAt,
      arrivedAt,
      remindersSent: 0,
      routingNo: 1,
    },
    returns: [],
    reclassifications: [],
    deadlines: [
      {
        routingNo: 1,
        issuingUnit: input.issuingUnit,
        tier: input.tier,
        dueAt: first.dueAt,
        kind: 'received',
        reason: '收到协查函',
        from: input.requestedAt,
      },
    ],
    escalations: [],
    waitIntervals: [{ from: input.requestedAt }],
    seq: 1,
  };
  return {
    state,
    event: {
      seq: 1,
      type: 'created',
      at: input.requestedAt,
      actorId: input.createdBy.staffId,
      actorUnit: input.requestingUnit,
      data: { arrivedAt, dueAt: first.dueAt, flags: first.flags, tier: input.tier },
    },
    notify: [
      {
        kind: 'new_task',
        audience: 'issuing_unit',
        message: `新的协查任务：${docNumber}（${input.catalog.name}）`,
      },
    ],
  };
}

/** The entry as the case's next event: the snapshot with its sequence advanced, and the event. */
export function numbered(
  cs: CaseSnapshot,
  entry: Entry,
  at: string,
): { state: CaseSnapshot; event: CaseEvent } {
  const seq = cs.seq + 1;
  return {
    state: { ...cs, seq },
    event: {
      seq,
      type: entry.type,
      at,
      actorId: entry.actor?.staffId,
      actorUnit: entry.actor?.unitCode,
      onBehalfOf: entry.actor?.onBehalfOf,
      reason: entry.reason,
      data: entry.data,
    },
  };
}

// ─── Facts the shell fetches before deciding ────────────────────────────────────────────────────

/**
 * From when an answer given at `answeredAt` is late: the deadline in force when it was missed
 * (`againstMissedDeadline()`, a patch: true in cases started since) or else the current deadline.
 * The flag is asked only when the two differ.
 */
export function lateSince(
  cs: CaseSnapshot,
  answeredAt: string,
  againstMissedDeadline: () => boolean,
): string | undefined {
  const current = ms(answeredAt) > ms(cs.routing.dueAt) ? cs.routing.dueAt : undefined;
  const missed = missedDeadline(cs, ms(answeredAt))?.dueAt;
  return missed !== current && againstMissedDeadline() ? missed : current;
}

/**
 * Art. 7 clock pause: the periods the requesting unit has waited until `to`. With returns (and the patch
 * that leaves them out, `excludeReturns()`, asked only then), the periods with an issuing unit; otherwise
 * everything since the request.
 */
export function waitPeriods(
  cs: CaseSnapshot,
  to: string,
  excludeReturns: () => boolean,
): { from: string; to: string }[] {
  if (cs.returns.length && excludeReturns())
    return cs.waitIntervals.map((i) => ({ from: i.from, to: i.to ?? to }));
  return [{ from: cs.createdAt, to }];
}

// ─── Helpers of the transitions (on the draft) ──────────────────────────────────────────────────

/** The case leaves the issuing side (returned, or ended): the open waiting period ends at `at`. */
function closeWaitInterval(cs: CaseSnapshot, at: string): void {
  const open = cs.waitIntervals[cs.waitIntervals.length - 1];
  if (open && open.to === undefined) open.to = at;
}

function complete(
  cs: CaseSnapshot,
  status: ClosedStatus,
  actor: Actor,
  at: string,
  extra: Partial<NonNullable<CaseSnapshot['completion']>> = {},
): void {
  cs.status = status;
  cs.completion = { status, at, by: actor.staffId, ...extra };
  closeWaitInterval(cs, at);
  for (const e of cs.escalations) if (e.status !== 'closed') e.caseCompletedAt = at;
}

// ─── Actions of the issuing unit ────────────────────────────────────────────────────────────────

export function register(cs: CaseSnapshot, actor: Actor, now: string): Decision {
  rules.register(cs, actor);
  const next = draft(cs);
  next.status = 'registered';
  next.assigneeId = actor.staffId;
  // Art. 7 measures the first registration: a case given back (unclaim) and claimed again keeps it.
  next.routing.registeredAt = cs.routing.registeredAt ?? now;
  next.routing.registeredBy = cs.routing.registeredBy ?? actor.staffId;
  const minutes = Math.round((ms(now) - ms(cs.routing.arrivedAt)) / 60000);
  return recorded(next, { type: 'registered', actor, data: { timeToRegisterMinutes: minutes } });
}

export interface AnswerFacts {
  answeredAt: string;
  /** When the answer became late (see `lateSince`); absent: on time. */
  lateFrom?: string;
  lateWorkingMinutes: number;
  waitedWorkingMinutes: number;
  /** The response letter's number (复函号), in cases started since the patch that allocates one. */
  replyNumber?: string;
}

export function respond(
  cs: CaseSnapshot,
  actor: Actor,
  answer: { result: ResponseResult; fields: Record<string, unknown>; attachments?: string[] },
  facts: AnswerFacts,
  now: string,
): Decision {
  rules.respond(cs, actor);
  const next = draft(cs);
  const late = facts.lateFrom !== undefined;
  next.waitedWorkingMinutes = facts.waitedWorkingMinutes;
  next.answer = {
    result: answer.result,
    fields: answer.fields,
    attachments: answer.attachments ?? [],
    answeredAt: facts.answeredAt,
    answeredBy: actor.staffId,
    late,
    lateWorkingMinutes: facts.lateWorkingMinutes,
    ...(facts.replyNumber ? { replyNumber: facts.replyNumber } : {}),
  };
  complete(next, 'answered', actor, now);
  return recorded(next, {
    type: 'answered',
    actor,
    data: { result: answer.result, late, lateWorkingMinutes: facts.lateWorkingMinutes },
    notify: [
      {
        kind: 'answered',
        audience: 'requesting_unit',
        message: `协查已反馈：${resultLabel(answer.result)}${late ? '（超时反馈）' : ''}`,
      },
    ],
  });
}

// ─── The automatic answer (a connector of the catalog item) ──────────────────────────────────────

/** The system answering from a data source, acting for the issuing unit (系统自动核验). */
export const systemActor = (connector: string, unitCode: string): Actor => ({
  staffId: systemActorId(connector),
  name: '系统自动核验',
  unitCode,
  role: 'agent',
});

/** The automatic answer may still be given, or fall back: the case is with its issuing unit, unanswered. */
export const autoAnswerable = (cs: CaseSnapshot): boolean => isWithIssuer(cs) && !cs.answer;

export interface AutomaticFinding {
  result: ResponseResult;
  fields: Record<string, unknown>;
  source: string;
  queriedAt: string;
  evidenceHash: string;
}

/**
 * The system answers from the connector's clear match. `undefined` when the case is no longer answerable (a
 * person answered first, or the requester ended it): there is only ever one answer.
 */
export function autoAnswer(
  cs: CaseSnapshot,
  connector: string,
  found: AutomaticFinding,
  facts: AnswerFacts,
  now: string,
): Decision | undefined {
  if (!autoAnswerable(cs)) return undefined;
  const actor = systemActor(connector, cs.routing.issuingUnit);
  const next = draft(cs);
  const late = facts.lateFrom !== undefined;
  // Art. 7: registered at once, by the system, when nobody had yet.
  if (!next.routing.registeredAt) {
    next.routing.registeredAt = now;
    next.routing.registeredBy = actor.staffId;
  }
  next.waitedWorkingMinutes = facts.waitedWorkingMinutes;
  next.answer = {
    result: found.result,
    fields: found.fields,
    attachments: [],
    answeredAt: facts.answeredAt,
    answeredBy: actor.staffId,
    late,
    lateWorkingMinutes: facts.lateWorkingMinutes,
    ...(facts.replyNumber ? { replyNumber: facts.replyNumber } : {}),
    automatic: {
      connector,
      source: found.source,
      queriedAt: found.queriedAt,
      evidenceHash: found.evidenceHash,
    },
  };
  next.autoCheck = { connector, status: 'answered', at: now };
  complete(next, 'answered', actor, now);
  return recorded(next, {
    type: 'answered',
    actor,
    data: {
      result: found.result,
      late,
      lateWorkingMinutes: facts.lateWorkingMinutes,
      automatic: true,
      connector,
      source: found.source,
      queriedAt: found.queriedAt,
      evidenceHash: found.evidenceHash,
    },
    notify: [
      {
        kind: 'answered',
        audience: 'requesting_unit',
        message: `协查已由系统自动核验反馈：${resultLabel(found.result)}（数据来源：${found.source}）`,
      },
    ],
  });
}

/** No clear answer from the connector: the case stays with the people of the issuing unit, with the reason. */
export function autoCheckFallback(
  cs: CaseSnapshot,
  connector: string,
  reason: string,
  now: string,
): Decision | undefined {
  if (!autoAnswerable(cs)) return undefined;
  const next = draft(cs);
  next.autoCheck = { connector, status: 'fallback', reason, at: now };
  return recorded(next, {
    type: 'auto_check_fallback',
    actor: systemActor(connector, cs.routing.issuingUnit),
    reason,
    data: { connector },
    notify: [
      {
        kind: 'auto_check_fallback',
        audience: assigneeAudience(cs),
        message: `${cs.docNumber} 自动核验未能答复，请人工办理：${reason}`,
      },
    ],
  });
}

export function returnToRequester(
  cs: CaseSnapshot,
  actor: Actor,
  { reason, suggestedUnit }: { reason: string; suggestedUnit?: string },
  now: string,
): Decision {
  rules.return(cs, actor, reason);
  const next = draft(cs);
  next.status = 'returned';
  next.returns.push({
    issuingUnit: cs.routing.issuingUnit,
    reason,
    suggestedUnit,
    at: now,
    by: actor.staffId,
  });
  next.assigneeId = undefined;
  closeWaitInterval(next, now);
  return recorded(next, {
    type: 'returned',
    actor,
    reason,
    data: { suggestedUnit },
    notify: [{ kind: 'returned', audience: 'requesting_unit', message: `协查被退回：${reason}` }],
  });
}

/**
 * Art. 7 reclassification, with the deadline of the new tier (`d`, counted from this routing's receipt).
 * `refuseAfterDeadline()` (a patch: true in cases started since) is asked only once the deadline in force
 * has passed, and then refuses.
 */
export function reclassify(
  cs: CaseSnapshot,
  actor: Actor,
  { tier, reason }: { tier: SlaTier; reason: string },
  d: DeadlineResult,
  now: string,
  refuseAfterDeadline: () => boolean,
): Decision {
  rules.reclassify(cs, actor, tier, reason);
  if (ms(now) >= ms(cs.routing.dueAt) && refuseAfterDeadline()) rules.reclassifyInTime(cs, ms(now));
  const next = draft(cs);
  const from = cs.tier;
  next.reclassifications.push({ from, to: tier, reason, at: now, by: actor.staffId });
  next.tier = tier;
  next.deadlines.push({
    routingNo: cs.routing.routingNo,
    issuingUnit: cs.routing.issuingUnit,
    tier,
    dueAt: d.dueAt,
    kind: 'reclassified',
    reason,
    from: now,
  });
  const passed = d.reminderAt.filter((t) => ms(t) <= ms(now)).length;
  next.routing = { ...next.routing, ...d, remindersSent: passed };
  return recorded(next, {
    type: 'reclassified',
    actor,
    reason,
    data: { from, to: tier, dueAt: d.dueAt, flags: d.flags },
    notify: [
      {
        kind: 'reclassified',
        audience: 'requesting_unit',
        message: `出具单位将时限调整为${tierLabel(tier)}：${reason}`,
      },
      {
        kind: 'reclassified',
        audience: 'office',
        message: `${cs.docNumber} 时限由${tierLabel(from)}调整为${tierLabel(tier)}：${reason}`,
      },
    ],
  });
}

export function reassign(
  cs: CaseSnapshot,
  actor: Actor,
  { toStaffId, reason }: { toStaffId: string; reason?: string },
): Decision {
  rules.reassign(cs, actor, toStaffId);
  const next = draft(cs);
  const from = cs.assigneeId;
  next.assigneeId = toStaffId;
  return recorded(next, {
    type: 'reassigned',
    actor,
    reason,
    data: { from, to: toStaffId },
    notify: [
      { kind: 'assigned', audience: { staffId: toStaffId }, message: `协查 ${cs.docNumber} 已转派给您` },
    ],
  });
}

/**
 * 取消认领: the case goes back to the unit's unclaimed tasks (awaiting registration) with no assignee. The
 * first registration stays on the routing (Art. 7 measures it) and the deadline in force does not move.
 */
export function unclaim(cs: CaseSnapshot, actor: Actor, reason: string): Decision {
  rules.unclaim(cs, actor, reason);
  const next = draft(cs);
  const from = cs.assigneeId;
  next.status = 'awaiting_registration';
  next.assigneeId = undefined;
  return recorded(next, {
    type: 'unclaimed',
    actor,
    reason,
    data: { from },
    notify: [
      {
        kind: 'unclaimed',
        audience: 'issuing_unit',
        message: `协查 ${cs.docNumber} 已取消认领，回到待认领：${reason}`,
      },
    ],
  });
}

/** Art. 6: an absent agent's registered case passes to their A/B partner; anything else is left alone. */
export function handOver(cs: CaseSnapshot | undefined, hand: HandOverInput): Decision | undefined {
  if (cs?.status !== 'registered' || cs.assigneeId !== hand.fromStaffId) return undefined;
  const next = draft(cs);
  next.assigneeId = hand.toStaffId;
  return recorded(next, {
    type: 'handed_over',
    actor: {
      staffId: hand.toStaffId,
      name: hand.toName,
      unitCode: cs.routing.issuingUnit,
      role: 'agent',
      onBehalfOf: hand.fromStaffId,
    },
    reason: hand.reason,
    data: { from: hand.fromStaffId, to: hand.toStaffId },
    notify: [
      {
        kind: 'handed_over',
        audience: { staffId: hand.toStaffId },
        message: `A/B角接办：${cs.docNumber}（原承办人缺岗）`,
      },
    ],
  });
}

// ─── Actions of the requesting unit ─────────────────────────────────────────────────────────────

/** The returned case goes to another issuing unit, with its deadline `d` counted from `receivedAt`. */
export function reroute(
  cs: CaseSnapshot,
  actor: Actor,
  { issuingUnit, note }: { issuingUnit: string; note?: string },
  d: DeadlineResult,
  receivedAt: string,
): Decision {
  rules.reroute(cs, actor, issuingUnit);
  const next = draft(cs);
  const from = cs.routing.issuingUnit;
  next.routing = {
    ...d,
    issuingUnit,
    receivedAt,
    remindersSent: 0,
    arrivedAt: receivedAt,
    routingNo: cs.routing.routingNo + 1,
  };
  next.deadlines.push({
    routingNo: next.routing.routingNo,
    issuingUnit,
    tier: cs.tier,
    dueAt: d.dueAt,
    kind: 'rerouted',
    reason: note || '改派',
    from: receivedAt,
  });
  next.status = 'awaiting_registration';
  next.waitIntervals.push({ from: receivedAt });
  return recorded(next, {
    type: 'rerouted',
    actor,
    reason: note,
    data: { from, to: issuingUnit, dueAt: d.dueAt, flags: d.flags },
    notify: [
      { kind: 'new_task', audience: 'issuing_unit', message: `新的协查任务（改派）：${cs.docNumber}` },
    ],
  });
}

export function urge(cs: CaseSnapshot, actor: Actor, reason: string | undefined, now: string): Decision {
  rules.urge(cs, actor, ms(now));
  const next = draft(cs);
  next.lastUrgedAt = now;
  return recorded(next, {
    type: 'urged',
    actor,
    reason,
    notify: [
      {
        kind: 'urged',
        audience: assigneeAudience(cs),
        message: `需求单位催办：${cs.docNumber}${reason ? `（${reason}）` : ''}`,
      },
    ],
  });
}

export function closeAfterReturn(
  cs: CaseSnapshot,
  actor: Actor,
  reason: string,
  waitedWorkingMinutes: number,
  now: string,
): Decision {
  rules.closeAfterReturn(cs, actor, reason);
  const next = draft(cs);
  next.waitedWorkingMinutes = waitedWorkingMinutes;
  complete(next, 'closed_after_return', actor, now, { note: reason });
  return recorded(next, { type: 'closed_after_return', actor, reason });
}

export function withdraw(
  cs: CaseSnapshot,
  actor: Actor,
  reason: string,
  waitedWorkingMinutes: number,
  now: string,
): Decision {
  rules.withdraw(cs, actor, reason);
  const next = draft(cs);
  next.waitedWorkingMinutes = waitedWorkingMinutes;
  complete(next, 'withdrawn', actor, now, { note: reason });
  return recorded(next, {
    type: 'withdrawn',
    actor,
    reason,
    notify: isWithIssuer(cs)
      ? [{ kind: 'withdrawn', audience: 'issuing_unit', message: `需求单位已撤回协查：${reason}` }]
      : [],
  });
}

/** Art. 3: the exchange happened outside the system (fax, OA, e-mail, on site). */
export function recordOffline(
  cs: CaseSnapshot,
  actor: Actor,
  { channel, note, result }: { channel: OfflineChannel; note: string; result?: ResponseResult },
  waitedWorkingMinutes: number,
  now: string,
): Decision {
  rules.endByRequester(cs, actor, note);
  const next = draft(cs);
  next.waitedWorkingMinutes = waitedWorkingMinutes;
  complete(next, 'offline', actor, now, { note, channel });
  return recorded(next, { type: 'ended_offline', actor, reason: note, data: { channel, result } });
}

/** Art. 9: the applicant brought the proof after all. */
export function applicantProof(
  cs: CaseSnapshot,
  actor: Actor,
  note: string,
  waitedWorkingMinutes: number,
  now: string,
): Decision {
  rules.endByRequester(cs, actor, note);
  const next = draft(cs);
  next.waitedWorkingMinutes = waitedWorkingMinutes;
  complete(next, 'applicant_supplied', actor, now, { note });
  return recorded(next, { type: 'applicant_supplied', actor, reason: note });
}

// ─── Actions of the joint-meeting office (Art. 11) ──────────────────────────────────────────────

export function orderDeadline(
  cs: CaseSnapshot,
  actor: Actor,
  { dueAt, note }: { dueAt: string; note: string },
  now: string,
): Decision {
  rules.orderDeadline(cs, actor, dueAt, ms(now));
  const next = draft(cs);
  const esc = currentEscalation(next) as Escalation;
  esc.status = 'ordered';
  esc.orderedDueAt = new Date(ms(dueAt)).toISOString();
  esc.orderedBy = actor.staffId;
  esc.orderNote = note;
  next.deadlines.push({
    routingNo: cs.routing.routingNo,
    issuingUnit: cs.routing.issuingUnit,
    tier: cs.tier,
    dueAt: esc.orderedDueAt,
    kind: 'ordered',
    reason: note,
    from: now,
  });
  return recorded(next, {
    type: 'deadline_ordered',
    actor,
    reason: note,
    data: { level: esc.level, orderedDueAt: esc.orderedDueAt },
    notify: [
      {
        kind: 'deadline_ordered',
        audience: 'issuing_unit',
        message: `联席会议办公室责成于 ${beijingTime(esc.orderedDueAt)} 前办结：${note}`,
      },
      {
        kind: 'deadline_ordered',
        audience: 'requesting_unit',
        message: `联席会议办公室已责成出具单位限时办结`,
      },
    ],
  });
}

/**
 * The office's decision on a responsibility dispute (职责争议): the unit's routing ends as a return decided by the
 * office (so every routing but the last still ends with a return, as the figures count them) and the case goes
 * at once to the unit the office named, with a new deadline from now. The requester's wait runs on: the case
 * never sat with it.
 */
export function officeReroute(
  cs: CaseSnapshot,
  actor: Actor,
  { issuingUnit, reason, disputeId }: { issuingUnit: string; reason: string; disputeId?: string },
  d: DeadlineResult,
  now: string,
): Decision {
  rules.officeReroute(cs, actor, issuingUnit, reason);
  const from = cs.routing.issuingUnit;
  const next = draft(cs);
  next.returns.push({ issuingUnit: from, reason, suggestedUnit: issuingUnit, at: now, by: actor.staffId });
  next.assigneeId = undefined;
  next.routing = {
    ...d,
    issuingUnit,
    receivedAt: now,
    remindersSent: 0,
    arrivedAt: now,
    routingNo: cs.routing.routingNo + 1,
  };
  next.deadlines.push({
    routingNo: next.routing.routingNo,
    issuingUnit,
    tier: cs.tier,
    dueAt: d.dueAt,
    kind: 'rerouted',
    reason: `职责争议裁定：${reason}`,
    from: now,
  });
  next.status = 'awaiting_registration';
  const returned: Entry = {
    type: 'returned',
    actor,
    reason: `职责争议裁定不属于本单位职责：${reason}`,
    // Its projection writes the final snapshot (the new routing): the disputing unit hears of the decision
    // from the dispute's own projection.
    data: { suggestedUnit: issuingUnit, byOffice: true, disputeId },
  };
  const rerouted: Entry = {
    type: 'rerouted',
    actor,
    reason: `职责争议裁定：${reason}`,
    data: { from, to: issuingUnit, dueAt: d.dueAt, flags: d.flags, byOffice: true, disputeId },
    notify: [
      {
        kind: 'new_task',
        audience: 'issuing_unit',
        message: `新的协查任务（联席会议办公室裁定改派）：${cs.docNumber}`,
      },
      {
        kind: 'dispute_decided',
        audience: 'requesting_unit',
        message: `联席会议办公室裁定改派本案至新的出具单位：${reason}`,
      },
    ],
  };
  return {
    state: next,
    effects: [
      { kind: 'record', entry: returned },
      { kind: 'record', entry: rerouted },
    ],
  };
}

export function closeEscalation(
  cs: CaseSnapshot,
  actor: Actor,
  { level, outcome }: { level: 1 | 2; outcome: string },
  now: string,
): Decision {
  rules.closeEscalation(cs, actor, level, outcome);
  const next = draft(cs);
  const esc = next.escalations.find((e) => e.level === level && e.status !== 'closed') as Escalation;
  esc.status = 'closed';
  esc.closedAt = now;
  esc.closedBy = actor.staffId;
  esc.outcome = outcome;
  return recorded(next, { type: 'escalation_closed', actor, reason: outcome, data: { level } });
}

// ─── A change of the working calendar ───────────────────────────────────────────────────────────

/**
 * Whether a calendar change on `dates` may move this case's deadline: it is with an issuing unit, its
 * deadline was not missed yet, and one of the dates is on or after the receipt it is counted from.
 */
export function retimeConcerns(cs: CaseSnapshot, dates: string[]): boolean {
  if (!isWithIssuer(cs) || cs.escalations.some((e) => e.routingNo === cs.routing.routingNo)) return false;
  const receivedDay = cs.routing.receivedAt.slice(0, 10);
  return dates.some((d) => d >= receivedDay);
}

/** A mark to tell later whether a newer deadline came into force meanwhile (`supersededSince`). */
export const deadlineMark = (cs: CaseSnapshot): number => cs.deadlines.length;

/**
 * A re-route, reclassification or re-timing set a new deadline for the case since `mark` (an office order
 * does not replace the routing's deadline; it has its own).
 */
export const supersededSince = (cs: CaseSnapshot, mark: number): boolean =>
  cs.deadlines.slice(mark).some((d) => d.kind !== 'ordered');

/**
 * The deadline recomputed on the changed calendar (`d`, computed from the snapshot at `since`), if it
 * still applies: the case is with an issuing unit and the deadline moves. A newer deadline set meanwhile
 * was computed on the changed calendar already and stays in force when `keepNewerDeadline()` (a patch:
 * true in cases started since; asked only then).
 */
export function retime(
  cs: CaseSnapshot,
  d: DeadlineResult,
  change: { dates: string[]; changedBy: string },
  since: number,
  now: string,
  keepNewerDeadline: () => boolean,
): Decision | undefined {
  if (!isWithIssuer(cs) || d.dueAt === cs.routing.dueAt) return undefined;
  if (supersededSince(cs, since) && keepNewerDeadline()) return undefined;
  const next = draft(cs);
  const from = cs.routing.dueAt;
  const passed = d.reminderAt.filter((t) => ms(t) <= ms(now)).length;
  next.routing = { ...next.routing, ...d, remindersSent: Math.max(passed, 0) };
  next.deadlines.push({
    routingNo: cs.routing.routingNo,
    issuingUnit: cs.routing.issuingUnit,
    tier: cs.tier,
    dueAt: d.dueAt,
    kind: 'retimed',
    reason: '工作日历调整',
    from: now,
  });
  return recorded(next, {
    type: 'retimed',
    reason: '工作日历调整',
    data: { from, to: d.dueAt, dates: change.dates, changedBy: change.changedBy, flags: d.flags },
    notify: [
      {
        kind: 'retimed',
        audience: 'issuing_unit',
        message: `因工作日历调整，${cs.docNumber} 的办理时限改为 ${beijingTime(d.dueAt)}`,
      },
    ],
  });
}

// ─── Timers: reminders, the deadline, escalation (Art. 7 and 11) ────────────────────────────────

/** Something that falls due at `at` (epoch ms) if nothing changes the case first. */
export type TimerItem =
  /** The deadline in force passed: the first-level escalation opens. */
  | { kind: 'deadline'; at: number }
  /** The next reminder of this routing (at the reminder fractions of the SLA). */
  | { kind: 'reminder'; at: number }
  /** The office's order (责成限时办结) passed: a second level opens, or the office hears it again. */
  | { kind: 'order'; at: number }
  /** The office is reminded of an escalation nobody has ordered yet, or stops being reminded. */
  | { kind: 'office'; at: number };

/**
 * Everything that may fall due for the case, in the order it is dealt with when several are due: the
 * single source of `nextWake` (the earliest) and `dueTimer` (the first one due). Nothing while the case is
 * not with an issuing unit. Before the routing is escalated: its deadline and its next reminder (a reminder
 * is never sent once the deadline has passed). After: the office's order, and the office's reminder.
 */
export function agenda(cs: CaseSnapshot, timers: CaseTimers): TimerItem[] {
  if (!isWithIssuer(cs)) return [];
  const escalatedHere = cs.escalations.findLast((e) => e.routingNo === cs.routing.routingNo);
  const items: TimerItem[] = [];
  if (!escalatedHere) {
    items.push({ kind: 'deadline', at: ms(cs.routing.dueAt) });
    const reminder = cs.routing.reminderAt[cs.routing.remindersSent];
    if (reminder) items.push({ kind: 'reminder', at: ms(reminder) });
    return items;
  }
  if (escalatedHere.status === 'ordered' && escalatedHere.orderedDueAt)
    items.push({ kind: 'order', at: ms(escalatedHere.orderedDueAt) });
  if (timers.officeReminderAt) items.push({ kind: 'office', at: ms(timers.officeReminderAt) });
  return items;
}

/** When the workflow must wake next to deal with a timer (epoch ms); undefined: only a message can change anything. */
export function nextWake(cs: CaseSnapshot, timers: CaseTimers): number | undefined {
  const times = agenda(cs, timers).map((i) => i.at);
  return times.length ? Math.min(...times) : undefined;
}

/** What is due at `nowMs`, if anything: the first item of the agenda whose time has come. */
export function dueTimer(cs: CaseSnapshot, timers: CaseTimers, nowMs: number): TimerItem | undefined {
  return agenda(cs, timers).find((i) => i.at <= nowMs);
}

/** A case that left the issuing side keeps no office reminder (an escalation it had is followed up by hand). */
export const settledTimers = (cs: CaseSnapshot, timers: CaseTimers): CaseTimers =>
  isWithIssuer(cs) ? timers : {};

/** Deals with a due item of the agenda (`dueTimer`). */
export function onTimer(cs: CaseSnapshot, item: TimerItem, now: string): Decision {
  switch (item.kind) {
    case 'reminder':
      return remind(cs);
    case 'deadline': {
      const next = draft(cs);
      next.routing.remindersSent = next.routing.reminderAt.length;
      return escalate(next, 1, cs.routing.dueAt, now);
    }
    case 'order':
      return orderMissed(cs, now);
    case 'office':
      return remindOffice(cs, now);
  }
}

function remind(cs: CaseSnapshot): Decision {
  const next = draft(cs);
  next.routing.remindersSent += 1;
  return recorded(next, {
    type: 'reminder_sent',
    data: { n: next.routing.remindersSent, dueAt: cs.routing.dueAt },
    notify: [
      {
        kind: 'reminder',
        audience: assigneeAudience(cs),
        message: `协查 ${cs.docNumber} 将于 ${beijingTime(cs.routing.dueAt)} 到期，请及时办理`,
      },
    ],
  });
}

/** Opens an escalation of `level` on the current routing (`cs` is a draft already). */
function escalate(cs: CaseSnapshot, level: 1 | 2, missedDueAt: string, now: string): Decision {
  cs.escalations.push({
    level,
    openedAt: now,
    missedDueAt,
    status: 'open',
    routingNo: cs.routing.routingNo,
    issuingUnit: cs.routing.issuingUnit,
  });
  const what =
    level === 1 ? '逾期未反馈，已提请联席会议办公室督办' : '逾期未在责成时限内办结，建议约谈相关责任人';
  const message = `${cs.docNumber} ${what}`;
  return {
    state: cs,
    effects: [
      { kind: 'plan-office-reminder' },
      {
        kind: 'record',
        entry: {
          type: level === 1 ? 'escalated' : 'escalated_level2',
          data: { level, missedDueAt, issuingUnit: cs.routing.issuingUnit },
          notify: [
            { kind: 'escalated', audience: 'office', message },
            { kind: 'escalated', audience: 'requesting_unit', message },
            { kind: 'escalated', audience: 'issuing_unit', message },
          ],
        },
      },
    ],
  };
}

/** The order is spent: after a first-level order a second level opens; after a second-level one the office hears it. */
function orderMissed(cs: CaseSnapshot, now: string): Decision {
  const next = draft(cs);
  const esc = next.escalations.findLast((e) => e.routingNo === next.routing.routingNo) as Escalation;
  const missed = esc.orderedDueAt as string;
  esc.orderedDueAt = undefined;
  esc.status = 'open';
  if (esc.level === 1) return escalate(next, 2, missed, now);
  return {
    state: next,
    effects: [
      { kind: 'plan-office-reminder' },
      {
        kind: 'record',
        entry: {
          type: 'order_missed',
          data: { level: 2, missedDueAt: missed },
          notify: [{ kind: 'order_missed', audience: 'office', message: `${cs.docNumber} 再次逾期未办结` }],
        },
      },
    ],
  };
}

/** The office is reminded of the pending escalation and again at the next opening; with none pending, no more. */
function remindOffice(cs: CaseSnapshot, now: string): Decision {
  const pending = currentEscalation(cs);
  if (pending?.status !== 'open') return { state: cs, effects: [], timers: {} };
  const next = draft(cs);
  (currentEscalation(next) as Escalation).officeRemindedAt = now;
  return {
    state: next,
    effects: [
      {
        kind: 'record',
        entry: {
          type: 'office_reminded',
          data: { level: pending.level },
          notify: [
            {
              kind: 'escalation_pending',
              audience: 'office',
              message: `督办待处理：${cs.docNumber}（第 ${pending.level} 级）`,
            },
          ],
        },
      },
      { kind: 'plan-office-reminder' },
    ],
  };
}
