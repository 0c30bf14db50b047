/**
 * One verification case (协查), from request to completion and, when overdue, through escalation to the
 * joint-meeting office (Zibo measures, Art. 7 and 11). The workflow is the single source of truth for the
 * case's state. Working-time math happens in activities (recorded in history), so a calendar change never
 * breaks replay; here we only compare absolute instants and wait with `condition(…, timeout)`.
 *
 * This file is the shell: each handler receives a message, fetches the facts its decision needs (a
 * deadline, working minutes, a letter number), decides with a pure transition of `case-machine.ts`, and
 * records the result (`projectCase`); the main loop waits for the next message or the next timer of the
 * machine's agenda. Decisions and records run one at a time (`exclusively`): only the fetching runs
 * concurrently, and every decision re-checks its rule against the case as it is when its turn comes.
 */
import * as wf from '@temporalio/workflow';
import type { CaseActivities, ConnectorActivities, ConnectorQueryResult } from './activity-contract.ts';
import {
  CASE_ACTIVITY_OPTIONS,
  CASE_LOCAL_ACTIVITY_OPTIONS,
  CONNECTOR_ACTIVITY_OPTIONS,
} from './activity-options.ts';
import * as machine from './case-machine.ts';
import { refuse, rules } from './case-rules.ts';
import {
  applicantProofUpdate,
  type CaseInput,
  type CaseSnapshot,
  calendarChangedSignal,
  closeAfterReturnUpdate,
  closeEscalationUpdate,
  DEFAULT_REMINDER_FRACTIONS,
  handOverSignal,
  officeRerouteUpdate,
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
  unclaimUpdate,
  urgeUpdate,
  withdrawUpdate,
} from './definitions.ts';
import { Mutex } from './mutex.ts';

const acts = wf.proxyActivities<CaseActivities>(CASE_ACTIVITY_OPTIONS);
/**
 * The case's steps as local activities: each runs inside the workflow task on the worker that holds the
 * case, so an action, a reminder or an escalation costs one workflow task instead of one round trip to
 * the server per step (issue 11: a respond made four). That is safe for every one of them:
 * - they are idempotent: the projection on (case, seq), the reply number on its key (a second run returns
 *   the first number), the working-time look-ups are reads; re-running one after a worker crash (the
 *   workflow task is retried) or a retry changes nothing;
 * - they are short (one transaction, or a calculation on the cached calendar);
 * - while the database is down they keep retrying as normal activities would, the workflow task
 *   heartbeating meanwhile and, past the local retry threshold, a durable timer between attempts.
 * Their results are recorded in history (markers), so replay reads them as it reads activity results.
 */
const localActs = wf.proxyLocalActivities<CaseActivities>(CASE_LOCAL_ACTIVITY_OPTIONS);
/** The data source's query: a normal activity (it may be slow, it is retried a few times, then given up). */
const connectorActs = wf.proxyActivities<ConnectorActivities>(CONNECTOR_ACTIVITY_OPTIONS);

/**
 * Patches (cases live for weeks; histories recorded before a patch replay on the old branch; the list with
 * what they changed is in the README, "Changing the case workflow"):
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
/**
 * - decisions, records and timer steps run one at a time under a lock (and re-check their rule when their
 *   turn comes); the opening holds the lock until the case is in the read model.
 */
const PATCH_HANDLERS_SERIALISED = 'handlers-serialised';
/**
 * - a case whose document number and first deadline the API worked out opens without activities in
 *   sequence, and writes its first projection as a local activity (one workflow task to open, not four).
 */
const PATCH_OPENING_PREPARED = 'opening-prepared';
/**
 * - every step after the opening (deadlines, working minutes, reply numbers, projections, the office's next
 *   opening) runs as a local activity. Decided once per case, at its start.
 */
const PATCH_LOCAL_STEPS = 'local-steps';
/**
 * - a case whose catalog item names a connector (`input.connector`) asks that data source once it is open and,
 *   on a clear match, answers itself; otherwise it records why a person must. Asked only in such cases.
 */
const PATCH_CONNECTOR_AUTO_ANSWER = 'connector-auto-answer';
/**
 * - the office may re-route a case still with its issuing unit after deciding a responsibility dispute
 *   (`officeReroute`, workflows/dispute.ts). A new Update: no older history holds it; the marker names the
 *   histories that do.
 */
const PATCH_OFFICE_REROUTE = 'office-reroute';

/** Why the connector gave no answer, for the people who now must (its failures carry Chinese messages). */
function connectorFailureReason(err: unknown): string {
  const cause = err instanceof wf.ActivityFailure ? err.cause : err;
  if (cause instanceof wf.TimeoutFailure) return '数据源查询超时';
  if (cause instanceof wf.ApplicationFailure && cause.message) return cause.message;
  return '数据源查询出错';
}
const nowIso = (): string => new Date(Date.now()).toISOString();
/** A detached copy for an activity argument (the workflow sandbox has no structuredClone). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export async function verificationCase(input: CaseInput): Promise<CaseSnapshot> {
  // Decided once per case: a case started before the patch keeps running its handlers interleaved.
  const serialised = wf.patched(PATCH_HANDLERS_SERIALISED);
  // Decided once per case too: a case started before keeps the normal activities its history holds.
  const steps = wf.patched(PATCH_LOCAL_STEPS) ? localActs : acts;
  const lock = new Mutex();
  const fractions = input.reminderFractions ?? [...DEFAULT_REMINDER_FRACTIONS];
  let c: CaseSnapshot | undefined;
  let timers: machine.CaseTimers = {};
  /** Bumped by every recorded event so the main loop re-plans its timers. */
  let version = 0;

  const state = (): CaseSnapshot => {
    if (!c) refuse('invalid_state', '协查仍在创建中，请稍后再试');
    return c;
  };

  /** Runs a decision and its records alone (in cases started before the patch: at once, as they always did). */
  const exclusively = <T>(step: () => Promise<T>): Promise<T> =>
    serialised ? lock.runExclusive(step) : step();

  // ─── Fetching facts (activities; may run while other handlers decide) ────────────────────────

  function deadlineFor(receivedAt: string, tier: CaseSnapshot['tier']) {
    return steps.computeDeadline({ receivedAt, tier, reminderFractions: fractions });
  }

  /** Art. 7 clock pause: the working minutes the requesting unit has waited so far. */
  async function waitedMinutes(): Promise<number> {
    const to = nowIso();
    const byPeriod = state().returns.length > 0 && wf.patched(PATCH_WAIT_EXCLUDES_RETURNS);
    let total = 0;
    // Period after period, reading the case again after each await: a period may close (or a re-route open
    // one) meanwhile, and the count has always followed the case as it is.
    for (let i = 0; ; i++) {
      const period = machine.waitPeriods(state(), to, () => byPeriod)[i];
      if (!period) return total;
      total += await steps.workingMinutesBetween(period);
    }
  }

  // ─── Recording ───────────────────────────────────────────────────────────────────────────────

  /**
   * Records one event: bumps the sequence and writes the projection before the caller returns. `durable`:
   * as a normal activity, whose write happens only once the workflow task that decided it has completed
   * (see `answerFromConnector`).
   */
  async function record(entry: machine.Entry, durable = false): Promise<CaseSnapshot> {
    const { state: next, event } = machine.numbered(state(), entry, nowIso());
    c = next;
    version += 1;
    const snapshot = copy(next);
    await (durable ? acts : steps).projectCase({ snapshot, event, notifications: entry.notify });
    return snapshot;
  }

  /** Makes the decision's state the case's, then carries out its effects in order. */
  async function carryOut(decision: machine.Decision, durable = false): Promise<CaseSnapshot> {
    c = decision.state;
    if (decision.timers) timers = decision.timers;
    let snapshot = c;
    for (const effect of decision.effects) {
      if (effect.kind === 'record') snapshot = await record(effect.entry, durable);
      else timers = { officeReminderAt: await steps.nextWorkingOpening({ after: nowIso() }) };
    }
    return snapshot;
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
    ({ actor }) => exclusively(() => carryOut(machine.register(state(), actor, nowIso()))),
    { validator: ({ actor }) => rules.register(state(), actor) },
  );

  wf.setHandler(
    respondUpdate,
    async ({ actor, result, fields, attachments }) => {
      const answeredAt = nowIso();
      const lateFrom = machine.lateSince(state(), answeredAt, () =>
        wf.patched(PATCH_LATENESS_MISSED_DEADLINE),
      );
      const lateWorkingMinutes =
        lateFrom !== undefined ? await steps.workingMinutesBetween({ from: lateFrom, to: answeredAt }) : 0;
      const waitedWorkingMinutes = await waitedMinutes();
      const replyNumber = wf.patched(PATCH_REPLY_NUMBER)
        ? await steps.allocateReplyNumber({
            key: `${state().caseId}#${state().routing.routingNo}`,
            unitCode: actor.unitCode,
            at: answeredAt,
          })
        : undefined;
      const facts = { answeredAt, lateFrom, lateWorkingMinutes, waitedWorkingMinutes, replyNumber };
      return exclusively(() =>
        carryOut(machine.respond(state(), actor, { result, fields, attachments }, facts, nowIso())),
      );
    },
    { validator: ({ actor }) => rules.respond(state(), actor) },
  );

  wf.setHandler(
    returnUpdate,
    ({ actor, reason, suggestedUnit }) =>
      exclusively(() =>
        carryOut(machine.returnToRequester(state(), actor, { reason, suggestedUnit }, nowIso())),
      ),
    { validator: ({ actor, reason }) => rules.return(state(), actor, reason) },
  );

  wf.setHandler(
    rerouteUpdate,
    async ({ actor, issuingUnit, note }) => {
      const receivedAt = nowIso();
      const d = await deadlineFor(receivedAt, state().tier);
      return exclusively(() =>
        carryOut(machine.reroute(state(), actor, { issuingUnit, note }, d, receivedAt)),
      );
    },
    { validator: ({ actor, issuingUnit }) => rules.reroute(state(), actor, issuingUnit) },
  );

  wf.setHandler(
    closeAfterReturnUpdate,
    async ({ actor, reason }) => {
      const waited = await waitedMinutes();
      return exclusively(() => carryOut(machine.closeAfterReturn(state(), actor, reason, waited, nowIso())));
    },
    { validator: ({ actor, reason }) => rules.closeAfterReturn(state(), actor, reason) },
  );

  wf.setHandler(
    reclassifyUpdate,
    async ({ actor, tier, reason }) => {
      const d = await deadlineFor(state().routing.receivedAt, tier);
      const inTime = () => wf.patched(PATCH_RECLASSIFY_IN_TIME);
      return exclusively(() =>
        carryOut(machine.reclassify(state(), actor, { tier, reason }, d, nowIso(), inTime)),
      );
    },
    { validator: ({ actor, tier, reason }) => rules.reclassify(state(), actor, tier, reason, Date.now()) },
  );

  wf.setHandler(
    urgeUpdate,
    ({ actor, reason }) => exclusively(() => carryOut(machine.urge(state(), actor, reason, nowIso()))),
    { validator: ({ actor }) => rules.urge(state(), actor, Date.now()) },
  );

  wf.setHandler(
    withdrawUpdate,
    async ({ actor, reason }) => {
      const waited = await waitedMinutes();
      return exclusively(() => carryOut(machine.withdraw(state(), actor, reason, waited, nowIso())));
    },
    { validator: ({ actor, reason }) => rules.withdraw(state(), actor, reason) },
  );

  wf.setHandler(
    recordOfflineUpdate,
    async ({ actor, channel, note, result }) => {
      const waited = await waitedMinutes();
      return exclusively(() =>
        carryOut(machine.recordOffline(state(), actor, { channel, note, result }, waited, nowIso())),
      );
    },
    { validator: ({ actor, note }) => rules.endByRequester(state(), actor, note) },
  );

  wf.setHandler(
    applicantProofUpdate,
    async ({ actor, note }) => {
      const waited = await waitedMinutes();
      return exclusively(() => carryOut(machine.applicantProof(state(), actor, note, waited, nowIso())));
    },
    { validator: ({ actor, note }) => rules.endByRequester(state(), actor, note) },
  );

  wf.setHandler(
    reassignUpdate,
    ({ actor, toStaffId, reason }) =>
      exclusively(() => carryOut(machine.reassign(state(), actor, { toStaffId, reason }))),
    { validator: ({ actor, toStaffId }) => rules.reassign(state(), actor, toStaffId) },
  );

  // A new Update needs no patch: no history before it holds one, and registering a handler issues no command.
  wf.setHandler(
    unclaimUpdate,
    ({ actor, reason }) => exclusively(() => carryOut(machine.unclaim(state(), actor, reason))),
    { validator: ({ actor, reason }) => rules.unclaim(state(), actor, reason) },
  );

  wf.setHandler(
    orderDeadlineUpdate,
    ({ actor, dueAt, note }) =>
      exclusively(() => carryOut(machine.orderDeadline(state(), actor, { dueAt, note }, nowIso()))),
    { validator: ({ actor, dueAt }) => rules.orderDeadline(state(), actor, dueAt, Date.now()) },
  );

  wf.setHandler(
    closeEscalationUpdate,
    ({ actor, level, outcome }) =>
      exclusively(() => carryOut(machine.closeEscalation(state(), actor, { level, outcome }, nowIso()))),
    { validator: ({ actor, level, outcome }) => rules.closeEscalation(state(), actor, level, outcome) },
  );

  wf.setHandler(
    officeRerouteUpdate,
    async ({ actor, issuingUnit, reason, disputeId }) => {
      if (!wf.patched(PATCH_OFFICE_REROUTE)) refuse('invalid_state', '本案不支持联席会议办公室改派');
      const receivedAt = nowIso();
      const d = await deadlineFor(receivedAt, state().tier);
      return exclusively(() =>
        carryOut(machine.officeReroute(state(), actor, { issuingUnit, reason, disputeId }, d, receivedAt)),
      );
    },
    {
      validator: ({ actor, issuingUnit, reason }) => rules.officeReroute(state(), actor, issuingUnit, reason),
    },
  );

  // ─── Signals ─────────────────────────────────────────────────────────────────────────────────

  // Signal handlers must never throw (that would fail the whole case): they ignore what does not apply.
  wf.setHandler(handOverSignal, (hand) =>
    exclusively(async () => {
      const decision = machine.handOver(c, hand);
      if (decision) await carryOut(decision);
    }),
  );

  wf.setHandler(calendarChangedSignal, async (change) => {
    if (!c || !machine.retimeConcerns(c, change.dates)) return;
    const since = machine.deadlineMark(c);
    const d = await deadlineFor(c.routing.receivedAt, c.tier);
    await exclusively(async () => {
      // In its turn the change is looked at again (cases started before the patch re-checked less).
      if (serialised && !machine.retimeConcerns(state(), change.dates)) return;
      const keepNewer = () => wf.patched(PATCH_RETIME_NOT_OVER_NEWER_DEADLINE);
      const decision = machine.retime(state(), d, change, since, nowIso(), keepNewer);
      if (decision) await carryOut(decision);
    });
  });

  // ─── Opening ─────────────────────────────────────────────────────────────────────────────────

  const prepared = input.opening && wf.patched(PATCH_OPENING_PREPARED) ? input.opening : undefined;
  await exclusively(async () => {
    const docNumber =
      prepared?.docNumber ??
      (await acts.allocateDocNumber({
        caseId: input.caseId,
        unitCode: input.requestingUnit,
        at: input.requestedAt,
      }));
    const first = prepared?.deadline ?? (await deadlineFor(input.requestedAt, input.tier));
    const opened = machine.open(input, docNumber, first, nowIso());
    c = opened.state;
    version += 1;
    const projection = { snapshot: copy(c), input, event: opened.event, notifications: opened.notify };
    // A prepared opening's projection is local in either version (`opening-prepared` made it so).
    await (prepared ? localActs.projectCase(projection) : acts.projectCase(projection));
  });
  openedInReadModel = true;

  // ─── The automatic answer: the data source is asked while the case waits in the inbox ────────

  /**
   * Asks the catalog item's connector; a clear match answers the case as the system acting for the issuing
   * unit, anything else records why a person must. Both decide under the lock and only while the case is
   * still unanswered with its issuing unit, so a person who answers first wins and there is one answer.
   * Their projections are normal activities, not local ones: a local activity writes during the workflow
   * task, and a task that ends the case is failed by the server when a person's Update arrives meanwhile;
   * its retry runs the Update first (Updates before activity results), and the read model would keep the
   * discarded task's answer under the same sequence number. Never throws (it runs beside the main loop).
   */
  async function answerFromConnector(connector: string): Promise<void> {
    let found: ConnectorQueryResult | undefined;
    let failed = '';
    try {
      found = await connectorActs.queryConnector({
        caseId: input.caseId,
        connector,
        issuingUnit: state().routing.issuingUnit,
        subject: input.subject,
        fields: input.fields,
      });
    } catch (err) {
      failed = connectorFailureReason(err);
    }
    if (found?.outcome === 'match') {
      const match = found;
      if (!machine.autoAnswerable(state())) return;
      const answeredAt = nowIso();
      const lateFrom = machine.lateSince(state(), answeredAt, () => true);
      const lateWorkingMinutes =
        lateFrom !== undefined ? await steps.workingMinutesBetween({ from: lateFrom, to: answeredAt }) : 0;
      const waitedWorkingMinutes = await waitedMinutes();
      const replyNumber = await steps.allocateReplyNumber({
        key: `${state().caseId}#${state().routing.routingNo}`,
        unitCode: state().routing.issuingUnit,
        at: answeredAt,
      });
      const facts = { answeredAt, lateFrom, lateWorkingMinutes, waitedWorkingMinutes, replyNumber };
      await exclusively(async () => {
        const decision = machine.autoAnswer(state(), connector, match, facts, nowIso());
        if (decision) await carryOut(decision, true);
      });
      return;
    }
    const reason = found ? found.reason : failed;
    await exclusively(async () => {
      const decision = machine.autoCheckFallback(state(), connector, reason, nowIso());
      if (decision) await carryOut(decision, true);
    });
  }

  const autoCheck =
    input.connector && wf.patched(PATCH_CONNECTOR_AUTO_ANSWER)
      ? answerFromConnector(input.connector)
      : undefined;

  // ─── Timers: wait for a message or the next item of the agenda, then deal with what is due ──

  /** One pass over the agenda at this instant. */
  async function handleDueTimers(): Promise<void> {
    const now = Date.now();
    timers = machine.settledTimers(state(), timers);
    const due = machine.dueTimer(state(), timers, now);
    if (!due) return;
    await carryOut(machine.onTimer(state(), due, nowIso()));
    // A reminder and the deadline have always been looked at in the same pass (at the same instant).
    if (due.kind !== 'reminder') return;
    const after = machine.dueTimer(state(), timers, now);
    if (after?.kind === 'deadline') await carryOut(machine.onTimer(state(), after, nowIso()));
  }

  while (!machine.finished(state())) {
    const seen = version;
    const wake = machine.nextWake(state(), timers);
    if (wake === undefined) {
      await wf.condition(() => version !== seen);
    } else {
      await wf.condition(() => version !== seen, Math.max(wake - Date.now(), 1));
    }
    await exclusively(handleDueTimers);
  }
  await autoCheck;
  await wf.condition(wf.allHandlersFinished);
  return state();
}
