/**
 * One verification case (协查), from request to completion and, when overdue, through escalation to the
 * joint-meeting office (Zibo measures, Art. 7 and 11). The workflow is the single source of truth for the
 * case's state. Working-time math happens in activities (recorded in history), so a calendar change never
 * breaks replay; here we only compare absolute instants and wait with `condition(…, timeout)`.
 */
import * as wf from '@temporalio/workflow';
import type { CaseActivities, CaseEvent, NotificationRequest } from './activity-contract.ts';
import { CASE_ACTIVITY_OPTIONS } from './activity-options.ts';
import { currentEscalation, isClosed, isWithIssuer, missedDeadline, refuse, rules } from './case-rules.ts';
import {
  type Actor,
  applicantProofUpdate,
  type CaseInput,
  type CaseSnapshot,
  type ClosedStatus,
  calendarChangedSignal,
  closeAfterReturnUpdate,
  closeEscalationUpdate,
  type Escalation,
  handOverSignal,
  openedUpdate,
  orderDeadlineUpdate,
  reassignUpdate,
  reclassifyUpdate,
  recordOfflineUpdate,
  registerUpdate,
  rerouteUpdate,
  respondUpdate,
  returnUpdate,
  snapshotQuery,
  urgeUpdate,
  withdrawUpdate,
} from './definitions.ts';

const acts = wf.proxyActivities<CaseActivities>(CASE_ACTIVITY_OPTIONS);

const DEFAULT_REMINDER_FRACTIONS = [0.5, 0.8];
/**
 * Patches (cases live for weeks; histories recorded before a patch replay on the old branch):
 * - lateness is measured against the deadline missed while it was in force, not the latest one;
 * - a reclassification that reaches the handler after the deadline in force passed is refused.
 */
const PATCH_LATENESS_MISSED_DEADLINE = 'lateness-against-missed-deadline';
const PATCH_RECLASSIFY_IN_TIME = 'reclassify-refused-after-deadline';
/** - a calendar re-timing leaves a newer deadline (set while it computed its own) in force. */
const PATCH_RETIME_NOT_OVER_NEWER_DEADLINE = 'calendar-retime-keeps-newer-deadline';
/** - the response letter gets its own number (复函号) from the issuing unit's sequence. */
const PATCH_REPLY_NUMBER = 'response-letter-number';
/** - the requester's waiting time leaves out the periods the case sat returned to the requester. */
const PATCH_WAIT_EXCLUDES_RETURNS = 'wait-excludes-returned-periods';
const nowIso = (): string => new Date(Date.now()).toISOString();
const ms = (iso: string): number => Date.parse(iso);
/** A detached copy for an activity argument (the workflow sandbox has no structuredClone). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export async function verificationCase(input: CaseInput): Promise<CaseSnapshot> {
  const fractions = input.reminderFractions ?? DEFAULT_REMINDER_FRACTIONS;
  let c: CaseSnapshot | undefined;
  /** Bumped by every change so the main loop re-plans its timers. */
  let version = 0;
  /** When the office is next reminded of an escalation nobody has ordered yet. */
  let officeReminderAt: string | undefined;

  const state = (): CaseSnapshot => {
    if (!c) refuse('invalid_state', '协查仍在创建中，请稍后再试');
    return c;
  };

  /** Records one event: bumps the sequence and writes the projection before the caller returns. */
  async function emit(
    type: string,
    actor: Actor | undefined,
    details: { reason?: string; data?: Record<string, unknown>; notify?: NotificationRequest[] } = {},
  ): Promise<CaseSnapshot> {
    const cs = state();
    cs.seq += 1;
    version += 1;
    const event: CaseEvent = {
      seq: cs.seq,
      type,
      at: nowIso(),
      actorId: actor?.staffId,
      actorUnit: actor?.unitCode,
      onBehalfOf: actor?.onBehalfOf,
      reason: details.reason,
      data: details.data,
    };
    const snapshot = copy(cs);
    await acts.projectCase({ snapshot, event, notifications: details.notify });
    return snapshot;
  }

  async function deadlineFor(receivedAt: string, tier: CaseSnapshot['tier']) {
    return acts.computeDeadline({ receivedAt, tier, reminderFractions: fractions });
  }

  function complete(
    status: ClosedStatus,
    actor: Actor,
    extra: Partial<NonNullable<CaseSnapshot['completion']>> = {},
  ) {
    const cs = state();
    cs.status = status;
    cs.completion = { status, at: nowIso(), by: actor.staffId, ...extra };
    closeWaitInterval(cs, cs.completion.at);
    for (const e of cs.escalations) if (e.status !== 'closed') e.caseCompletedAt = cs.completion.at;
  }

  /**
   * Art. 7 clock pause: the working minutes the requesting unit has waited so far. Handlers store it only
   * after their re-check, so a handler refused after its await leaves the case untouched.
   */
  async function waitedMinutes(): Promise<number> {
    const cs = state();
    const to = nowIso();
    if (cs.returns.length && wf.patched(PATCH_WAIT_EXCLUDES_RETURNS)) {
      let total = 0;
      for (const i of cs.waitIntervals)
        total += await acts.workingMinutesBetween({ from: i.from, to: i.to ?? to });
      return total;
    }
    return acts.workingMinutesBetween({ from: cs.createdAt, to });
  }

  /** The case leaves the issuing side (returned, or ended): the open waiting period ends now. */
  function closeWaitInterval(cs: CaseSnapshot, at: string): void {
    const open = cs.waitIntervals[cs.waitIntervals.length - 1];
    if (open && open.to === undefined) open.to = at;
  }

  // ─── Queries and Updates ─────────────────────────────────────────────────────────────────────

  wf.setHandler(snapshotQuery, () => state());

  // Lets update-with-start answer the caller once the case exists (document number, deadline).
  // Returns once the case is in the read model, so the requester's list shows it at once.
  let openedInReadModel = false;
  wf.setHandler(openedUpdate, async () => {
    await wf.condition(() => openedInReadModel);
    return state();
  });

  wf.setHandler(
    registerUpdate,
    async ({ actor }) => {
      const cs = state();
      cs.status = 'registered';
      cs.assigneeId = actor.staffId;
      cs.routing.registeredAt = nowIso();
      cs.routing.registeredBy = actor.staffId;
      const minutes = Math.round((ms(cs.routing.registeredAt) - ms(cs.routing.arrivedAt)) / 60000);
      return emit('registered', actor, { data: { timeToRegisterMinutes: minutes } });
    },
    { validator: ({ actor }) => rules.register(state(), actor) },
  );

  wf.setHandler(
    respondUpdate,
    async ({ actor, result, fields, attachments }) => {
      const cs = state();
      const answeredAt = nowIso();
      let lateFrom = ms(answeredAt) > ms(cs.routing.dueAt) ? cs.routing.dueAt : undefined;
      const missed = missedDeadline(cs, ms(answeredAt))?.dueAt;
      if (missed !== lateFrom && wf.patched(PATCH_LATENESS_MISSED_DEADLINE)) lateFrom = missed;
      const late = lateFrom !== undefined;
      const lateWorkingMinutes =
        lateFrom !== undefined ? await acts.workingMinutesBetween({ from: lateFrom, to: answeredAt }) : 0;
      const waited = await waitedMinutes();
      const replyNumber = wf.patched(PATCH_REPLY_NUMBER)
        ? await acts.allocateReplyNumber({
            key: `${cs.caseId}#${cs.routing.routingNo}`,
            unitCode: actor.unitCode,
            at: answeredAt,
          })
        : undefined;
      rules.respond(state(), actor); // the case may have changed while we awaited (after the last await)
      cs.waitedWorkingMinutes = waited;
      cs.answer = {
        result,
        fields,
        attachments: attachments ?? [],
        answeredAt,
        answeredBy: actor.staffId,
        late,
        lateWorkingMinutes,
        ...(replyNumber ? { replyNumber } : {}),
      };
      complete('answered', actor);
      return emit('answered', actor, {
        data: { result, late, lateWorkingMinutes },
        notify: [
          {
            kind: 'answered',
            audience: 'requesting_unit',
            message: `协查已反馈：${result}${late ? '（超时反馈）' : ''}`,
          },
        ],
      });
    },
    { validator: ({ actor }) => rules.respond(state(), actor) },
  );

  wf.setHandler(
    returnUpdate,
    async ({ actor, reason, suggestedUnit }) => {
      const cs = state();
      cs.status = 'returned';
      cs.returns.push({
        issuingUnit: cs.routing.issuingUnit,
        reason,
        suggestedUnit,
        at: nowIso(),
        by: actor.staffId,
      });
      cs.assigneeId = undefined;
      closeWaitInterval(cs, cs.returns[cs.returns.length - 1]?.at ?? nowIso());
      return emit('returned', actor, {
        reason,
        data: { suggestedUnit },
        notify: [{ kind: 'returned', audience: 'requesting_unit', message: `协查被退回：${reason}` }],
      });
    },
    { validator: ({ actor, reason }) => rules.return(state(), actor, reason) },
  );

  wf.setHandler(
    rerouteUpdate,
    async ({ actor, issuingUnit, note }) => {
      const receivedAt = nowIso();
      const d = await deadlineFor(receivedAt, state().tier);
      rules.reroute(state(), actor, issuingUnit);
      const cs = state();
      const from = cs.routing.issuingUnit;
      cs.routing = {
        ...d,
        issuingUnit,
        receivedAt,
        remindersSent: 0,
        arrivedAt: receivedAt,
        routingNo: cs.routing.routingNo + 1,
      };
      cs.deadlines.push({
        routingNo: cs.routing.routingNo,
        issuingUnit,
        tier: cs.tier,
        dueAt: d.dueAt,
        kind: 'rerouted',
        reason: note || '改派',
        from: receivedAt,
      });
      cs.status = 'awaiting_registration';
      cs.waitIntervals.push({ from: receivedAt });
      return emit('rerouted', actor, {
        reason: note,
        data: { from, to: issuingUnit, dueAt: d.dueAt, flags: d.flags },
        notify: [
          { kind: 'new_task', audience: 'issuing_unit', message: `新的协查任务（改派）：${cs.docNumber}` },
        ],
      });
    },
    { validator: ({ actor, issuingUnit }) => rules.reroute(state(), actor, issuingUnit) },
  );

  wf.setHandler(
    closeAfterReturnUpdate,
    async ({ actor, reason }) => {
      const waited = await waitedMinutes();
      rules.closeAfterReturn(state(), actor, reason);
      state().waitedWorkingMinutes = waited;
      complete('closed_after_return', actor, { note: reason });
      return emit('closed_after_return', actor, { reason });
    },
    { validator: ({ actor, reason }) => rules.closeAfterReturn(state(), actor, reason) },
  );

  wf.setHandler(
    reclassifyUpdate,
    async ({ actor, tier, reason }) => {
      const d = await deadlineFor(state().routing.receivedAt, tier);
      rules.reclassify(state(), actor, tier, reason);
      const cs = state();
      if (Date.now() >= ms(cs.routing.dueAt) && wf.patched(PATCH_RECLASSIFY_IN_TIME))
        rules.reclassifyInTime(cs, Date.now());
      const from = cs.tier;
      cs.reclassifications.push({ from, to: tier, reason, at: nowIso(), by: actor.staffId });
      cs.tier = tier;
      cs.deadlines.push({
        routingNo: cs.routing.routingNo,
        issuingUnit: cs.routing.issuingUnit,
        tier,
        dueAt: d.dueAt,
        kind: 'reclassified',
        reason,
        from: nowIso(),
      });
      const passed = d.reminderAt.filter((t) => ms(t) <= Date.now()).length;
      cs.routing = { ...cs.routing, ...d, remindersSent: passed };
      return emit('reclassified', actor, {
        reason,
        data: { from, to: tier, dueAt: d.dueAt, flags: d.flags },
        notify: [
          {
            kind: 'reclassified',
            audience: 'requesting_unit',
            message: `出具单位将时限调整为 ${tier}：${reason}`,
          },
          {
            kind: 'reclassified',
            audience: 'office',
            message: `${cs.docNumber} 时限由 ${from} 调整为 ${tier}：${reason}`,
          },
        ],
      });
    },
    { validator: ({ actor, tier, reason }) => rules.reclassify(state(), actor, tier, reason, Date.now()) },
  );

  wf.setHandler(
    urgeUpdate,
    async ({ actor, reason }) => {
      const cs = state();
      cs.lastUrgedAt = nowIso();
      const audience = cs.status === 'registered' ? 'assignee_and_backup' : 'issuing_unit';
      return emit('urged', actor, {
        reason,
        notify: [
          {
            kind: 'urged',
            audience,
            message: `需求单位催办：${cs.docNumber}${reason ? `（${reason}）` : ''}`,
          },
        ],
      });
    },
    { validator: ({ actor }) => rules.urge(state(), actor, Date.now()) },
  );

  wf.setHandler(
    withdrawUpdate,
    async ({ actor, reason }) => {
      const waited = await waitedMinutes();
      rules.withdraw(state(), actor, reason);
      state().waitedWorkingMinutes = waited;
      const wasWithIssuer = isWithIssuer(state());
      complete('withdrawn', actor, { note: reason });
      return emit('withdrawn', actor, {
        reason,
        notify: wasWithIssuer
          ? [{ kind: 'withdrawn', audience: 'issuing_unit', message: `需求单位已撤回协查：${reason}` }]
          : [],
      });
    },
    { validator: ({ actor, reason }) => rules.withdraw(state(), actor, reason) },
  );

  wf.setHandler(
    recordOfflineUpdate,
    async ({ actor, channel, note, result }) => {
      const waited = await waitedMinutes();
      rules.endByRequester(state(), actor, note);
      state().waitedWorkingMinutes = waited;
      complete('offline', actor, { note, channel });
      return emit('ended_offline', actor, { reason: note, data: { channel, result } });
    },
    { validator: ({ actor, note }) => rules.endByRequester(state(), actor, note) },
  );

  wf.setHandler(
    applicantProofUpdate,
    async ({ actor, note }) => {
      const waited = await waitedMinutes();
      rules.endByRequester(state(), actor, note);
      state().waitedWorkingMinutes = waited;
      complete('applicant_supplied', actor, { note });
      return emit('applicant_supplied', actor, { reason: note });
    },
    { validator: ({ actor, note }) => rules.endByRequester(state(), actor, note) },
  );

  wf.setHandler(
    reassignUpdate,
    async ({ actor, toStaffId, reason }) => {
      const cs = state();
      const from = cs.assigneeId;
      cs.assigneeId = toStaffId;
      return emit('reassigned', actor, {
        reason,
        data: { from, to: toStaffId },
        notify: [
          { kind: 'assigned', audience: { staffId: toStaffId }, message: `协查 ${cs.docNumber} 已转派给您` },
        ],
      });
    },
    { validator: ({ actor, toStaffId }) => rules.reassign(state(), actor, toStaffId) },
  );

  wf.setHandler(
    orderDeadlineUpdate,
    async ({ actor, dueAt, note }) => {
      const esc = currentEscalation(state()) as Escalation;
      esc.status = 'ordered';
      esc.orderedDueAt = new Date(ms(dueAt)).toISOString();
      esc.orderedBy = actor.staffId;
      esc.orderNote = note;
      const cs = state();
      cs.deadlines.push({
        routingNo: cs.routing.routingNo,
        issuingUnit: cs.routing.issuingUnit,
        tier: cs.tier,
        dueAt: esc.orderedDueAt,
        kind: 'ordered',
        reason: note,
        from: nowIso(),
      });
      return emit('deadline_ordered', actor, {
        reason: note,
        data: { level: esc.level, orderedDueAt: esc.orderedDueAt },
        notify: [
          {
            kind: 'deadline_ordered',
            audience: 'issuing_unit',
            message: `联席会议办公室责成于 ${esc.orderedDueAt} 前办结：${note}`,
          },
          {
            kind: 'deadline_ordered',
            audience: 'requesting_unit',
            message: `联席会议办公室已责成出具单位限时办结`,
          },
        ],
      });
    },
    { validator: ({ actor, dueAt }) => rules.orderDeadline(state(), actor, dueAt, Date.now()) },
  );

  wf.setHandler(
    closeEscalationUpdate,
    async ({ actor, level, outcome }) => {
      const esc = state().escalations.find((e) => e.level === level && e.status !== 'closed') as Escalation;
      esc.status = 'closed';
      esc.closedAt = nowIso();
      esc.closedBy = actor.staffId;
      esc.outcome = outcome;
      return emit('escalation_closed', actor, { reason: outcome, data: { level } });
    },
    { validator: ({ actor, level, outcome }) => rules.closeEscalation(state(), actor, level, outcome) },
  );

  // ─── Signals ─────────────────────────────────────────────────────────────────────────────────

  // Signal handlers must never throw (that would fail the whole case): they ignore what does not apply.
  wf.setHandler(handOverSignal, async ({ fromStaffId, toStaffId, toName, reason }) => {
    const cs = c;
    if (cs?.status !== 'registered' || cs.assigneeId !== fromStaffId) return; // nothing of theirs here
    cs.assigneeId = toStaffId;
    await emit(
      'handed_over',
      {
        staffId: toStaffId,
        name: toName,
        unitCode: cs.routing.issuingUnit,
        role: 'agent',
        onBehalfOf: fromStaffId,
      },
      {
        reason,
        data: { from: fromStaffId, to: toStaffId },
        notify: [
          {
            kind: 'handed_over',
            audience: { staffId: toStaffId },
            message: `A/B角接办：${cs.docNumber}（原承办人缺岗）`,
          },
        ],
      },
    );
  });

  wf.setHandler(calendarChangedSignal, async ({ dates, changedBy }) => {
    const cs = c;
    if (!cs || !isWithIssuer(cs) || cs.escalations.some((e) => e.routingNo === cs.routing.routingNo)) return;
    // Only dates on or after the receipt can move a deadline counted from it.
    const receivedDay = cs.routing.receivedAt.slice(0, 10);
    if (!dates.some((d) => d >= receivedDay)) return;
    const before = { tier: cs.tier, routing: cs.routing };
    const d = await deadlineFor(cs.routing.receivedAt, cs.tier);
    if (!isWithIssuer(cs) || d.dueAt === cs.routing.dueAt) return;
    // While the deadline was computed, an action may have set a new tier or routing (a reclassification,
    // a re-route): its own deadline, computed on the changed calendar already, is the one in force.
    const superseded = cs.tier !== before.tier || cs.routing !== before.routing;
    if (superseded && wf.patched(PATCH_RETIME_NOT_OVER_NEWER_DEADLINE)) return;
    const from = cs.routing.dueAt;
    const passed = d.reminderAt.filter((t) => ms(t) <= Date.now()).length;
    cs.routing = { ...cs.routing, ...d, remindersSent: Math.max(passed, 0) };
    cs.deadlines.push({
      routingNo: cs.routing.routingNo,
      issuingUnit: cs.routing.issuingUnit,
      tier: cs.tier,
      dueAt: d.dueAt,
      kind: 'retimed',
      reason: '工作日历调整',
      from: nowIso(),
    });
    await emit('retimed', undefined, {
      reason: '工作日历调整',
      data: { from, to: d.dueAt, dates, changedBy, flags: d.flags },
      notify: [
        {
          kind: 'retimed',
          audience: 'issuing_unit',
          message: `因工作日历调整，${cs.docNumber} 的办理时限改为 ${d.dueAt}`,
        },
      ],
    });
  });

  // ─── Opening ─────────────────────────────────────────────────────────────────────────────────

  const docNumber = await acts.allocateDocNumber({
    caseId: input.caseId,
    unitCode: input.requestingUnit,
    at: input.requestedAt,
  });
  const first = await deadlineFor(input.requestedAt, input.tier);
  c = {
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
      arrivedAt: nowIso(),
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
  version += 1;
  await acts.projectCase({
    snapshot: copy(c),
    input,
    event: {
      seq: 1,
      type: 'created',
      at: input.requestedAt,
      actorId: input.createdBy.staffId,
      actorUnit: input.requestingUnit,
      data: { arrivedAt: c.routing.arrivedAt, dueAt: first.dueAt, flags: first.flags, tier: input.tier },
    },
    notifications: [
      {
        kind: 'new_task',
        audience: 'issuing_unit',
        message: `新的协查任务：${docNumber}（${input.catalog.name}）`,
      },
    ],
  });
  openedInReadModel = true;

  // ─── Timers: reminders, deadline, escalation ────────────────────────────────────────────────

  /** The earliest instant at which something is due, given the current state. */
  function nextWake(cs: CaseSnapshot): number | undefined {
    const times: number[] = [];
    const escalatedHere = cs.escalations.findLast((e) => e.routingNo === cs.routing.routingNo);
    if (isWithIssuer(cs)) {
      if (!escalatedHere) {
        const reminder = cs.routing.reminderAt[cs.routing.remindersSent];
        if (reminder) times.push(ms(reminder));
        times.push(ms(cs.routing.dueAt));
      } else if (escalatedHere.status === 'ordered' && escalatedHere.orderedDueAt) {
        times.push(ms(escalatedHere.orderedDueAt));
      }
      if (officeReminderAt) times.push(ms(officeReminderAt));
    }
    return times.length ? Math.min(...times) : undefined;
  }

  async function openEscalation(level: 1 | 2, missedDueAt: string): Promise<void> {
    const cs = state();
    const esc: Escalation = {
      level,
      openedAt: nowIso(),
      missedDueAt,
      status: 'open',
      routingNo: cs.routing.routingNo,
      issuingUnit: cs.routing.issuingUnit,
    };
    cs.escalations.push(esc);
    officeReminderAt = await acts.nextWorkingOpening({ after: esc.openedAt });
    const what =
      level === 1 ? '逾期未反馈，已提请联席会议办公室督办' : '逾期未在责成时限内办结，建议约谈相关责任人';
    await emit(level === 1 ? 'escalated' : 'escalated_level2', undefined, {
      data: { level, missedDueAt, issuingUnit: cs.routing.issuingUnit },
      notify: [
        { kind: 'escalated', audience: 'office', message: `${cs.docNumber} ${what}` },
        { kind: 'escalated', audience: 'requesting_unit', message: `${cs.docNumber} ${what}` },
        { kind: 'escalated', audience: 'issuing_unit', message: `${cs.docNumber} ${what}` },
      ],
    });
  }

  async function handleDueTimers(): Promise<void> {
    const cs = state();
    const now = Date.now();
    if (!isWithIssuer(cs)) {
      officeReminderAt = undefined;
      return;
    }
    const escalatedHere = cs.escalations.findLast((e) => e.routingNo === cs.routing.routingNo);
    if (!escalatedHere) {
      const reminder = cs.routing.reminderAt[cs.routing.remindersSent];
      if (reminder && ms(reminder) <= now && now < ms(cs.routing.dueAt)) {
        cs.routing.remindersSent += 1;
        const audience = cs.status === 'registered' ? 'assignee_and_backup' : 'issuing_unit';
        await emit('reminder_sent', undefined, {
          data: { n: cs.routing.remindersSent, dueAt: cs.routing.dueAt },
          notify: [
            {
              kind: 'reminder',
              audience,
              message: `协查 ${cs.docNumber} 将于 ${cs.routing.dueAt} 到期，请及时办理`,
            },
          ],
        });
      }
      if (now >= ms(cs.routing.dueAt)) {
        cs.routing.remindersSent = cs.routing.reminderAt.length;
        await openEscalation(1, cs.routing.dueAt);
      }
      return;
    }
    if (
      escalatedHere.status === 'ordered' &&
      escalatedHere.orderedDueAt &&
      now >= ms(escalatedHere.orderedDueAt)
    ) {
      const missed = escalatedHere.orderedDueAt;
      escalatedHere.orderedDueAt = undefined; // this order is spent
      if (escalatedHere.level === 1) {
        escalatedHere.status = 'open';
        await openEscalation(2, missed);
      } else {
        escalatedHere.status = 'open';
        officeReminderAt = await acts.nextWorkingOpening({ after: nowIso() });
        await emit('order_missed', undefined, {
          data: { level: 2, missedDueAt: missed },
          notify: [{ kind: 'order_missed', audience: 'office', message: `${cs.docNumber} 再次逾期未办结` }],
        });
      }
      return;
    }
    if (officeReminderAt && now >= ms(officeReminderAt)) {
      const pending = currentEscalation(cs);
      if (pending && pending.status === 'open') {
        pending.officeRemindedAt = nowIso();
        await emit('office_reminded', undefined, {
          data: { level: pending.level },
          notify: [
            {
              kind: 'escalation_pending',
              audience: 'office',
              message: `督办待处理：${cs.docNumber}（第 ${pending.level} 级）`,
            },
          ],
        });
        officeReminderAt = await acts.nextWorkingOpening({ after: nowIso() });
      } else {
        officeReminderAt = undefined;
      }
    }
  }

  const finished = (cs: CaseSnapshot) => isClosed(cs) && cs.escalations.every((e) => e.status === 'closed');

  while (!finished(state())) {
    const seen = version;
    const wake = nextWake(state());
    if (wake === undefined) {
      await wf.condition(() => version !== seen);
    } else {
      await wf.condition(() => version !== seen, Math.max(wake - Date.now(), 1));
    }
    await handleDueTimers();
  }
  await wf.condition(wf.allHandlersFinished);
  return state();
}
