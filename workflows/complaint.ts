/**
 * One complaint (投诉, Zibo attachment 4, Art. 10) as a durable process: accepted by the joint-meeting office,
 * assigned to the unit that handles it, answered within 5 working days; extended once (≤ 5 working days) on a
 * reasoned request the office approves; escalated to the office when its deadline passes unanswered.
 *
 * A thin shell like the case workflow: working-time deadlines come from activities (recorded in history, so a
 * calendar change never breaks replay); decisions are the pure rules of complaint-definitions.ts; every step
 * is written to the read model by `projectComplaint` before the Update returns. Handlers run one at a time.
 */
import * as wf from '@temporalio/workflow';
import { CASE_ACTIVITY_OPTIONS } from './activity-options.ts';
import {
  COMPLAINT_ANSWER_DAYS,
  type ComplaintInput,
  type ComplaintNotice,
  type ComplaintSnapshot,
  type ComplaintStep,
  complaintAnswerUpdate,
  complaintAssignUpdate,
  complaintDecideExtensionUpdate,
  complaintExtensionUpdate,
  complaintMachine,
  complaintOpenedUpdate,
  complaintRules,
  complaintSnapshotQuery,
  pendingExtension,
} from './complaint-definitions.ts';
import { Mutex } from './mutex.ts';

/** What the complaint asks of the outside world (activities/complaint-activities.ts). */
export interface ComplaintActivities {
  /**
   * A deadline `days` working days on, at the close of office hours: from a receipt (`from` is deemed received
   * at the next opening, the day of receipt not counted) or from a deadline (`extend`: that many more days).
   */
  complaintDeadline(input: {
    at: string;
    days: number;
    mode: 'receipt' | 'extend';
  }): Promise<{ dueAt: string; flags: string[] }>;
  /** Writes the complaint row, its event and its notices; idempotent on (complaint, seq). */
  projectComplaint(input: {
    snapshot: ComplaintSnapshot;
    event: ComplaintStep['event'];
    notices: ComplaintNotice[];
  }): Promise<void>;
}

const acts = wf.proxyLocalActivities<ComplaintActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: CASE_ACTIVITY_OPTIONS.retry,
});

const nowIso = (): string => new Date(Date.now()).toISOString();
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export async function complaint(input: ComplaintInput): Promise<ComplaintSnapshot> {
  const lock = new Mutex();
  let c: ComplaintSnapshot | undefined;
  let version = 0;
  let opened = false;

  const state = (): ComplaintSnapshot => {
    if (!c)
      throw wf.ApplicationFailure.create({ type: 'CaseRefusal.invalid_state', message: '投诉仍在受理中' });
    return c;
  };

  async function record(s: ComplaintStep): Promise<ComplaintSnapshot> {
    c = s.state;
    version += 1;
    await acts.projectComplaint({ snapshot: copy(s.state), event: s.event, notices: s.notices });
    return copy(s.state);
  }

  wf.setHandler(complaintSnapshotQuery, () => state());
  wf.setHandler(complaintOpenedUpdate, async () => {
    await wf.condition(() => opened);
    return state();
  });

  wf.setHandler(
    complaintAssignUpdate,
    (i) =>
      lock.runExclusive(() => {
        complaintRules.assign(state(), i.actor);
        return record(complaintMachine.assign(state(), i, nowIso()));
      }),
    { validator: (i) => complaintRules.assign(state(), i.actor) },
  );

  wf.setHandler(
    complaintAnswerUpdate,
    (i) =>
      lock.runExclusive(() => {
        complaintRules.answer(state(), i.actor, i.text);
        return record(complaintMachine.answer(state(), i, nowIso()));
      }),
    { validator: (i) => complaintRules.answer(state(), i.actor, i.text) },
  );

  wf.setHandler(
    complaintExtensionUpdate,
    (i) =>
      lock.runExclusive(() => {
        complaintRules.requestExtension(state(), i.actor, i.days, i.reason, Date.now());
        return record(complaintMachine.requestExtension(state(), i, nowIso()));
      }),
    { validator: (i) => complaintRules.requestExtension(state(), i.actor, i.days, i.reason, Date.now()) },
  );

  wf.setHandler(
    complaintDecideExtensionUpdate,
    (i) =>
      lock.runExclusive(async () => {
        complaintRules.decideExtension(state(), i.actor);
        const pending = pendingExtension(state());
        // Extended from the deadline in force: the approved days come on top of the original 5.
        const extended =
          i.approve && pending
            ? await acts.complaintDeadline({ at: state().dueAt, days: pending.days, mode: 'extend' })
            : undefined;
        return record(complaintMachine.decideExtension(state(), i, extended, nowIso()));
      }),
    { validator: (i) => complaintRules.decideExtension(state(), i.actor) },
  );

  // ─── Opening ───────────────────────────────────────────────────────────────────────────────
  await lock.runExclusive(async () => {
    const due = await acts.complaintDeadline({
      at: input.acceptedAt,
      days: COMPLAINT_ANSWER_DAYS,
      mode: 'receipt',
    });
    await record(complaintMachine.open(input, due));
  });
  opened = true;

  // ─── Waiting: for an answer, a new deadline, or the deadline ───────────────────────────────
  while (state().status !== 'answered') {
    const seen = version;
    const s = state();
    if (s.escalatedAt) {
      // Escalated once; an approved extension later moves the deadline but escalates no more.
      await wf.condition(() => version !== seen);
      continue;
    }
    const wait = Math.max(Date.parse(s.dueAt) - Date.now(), 1);
    const changed = await wf.condition(() => version !== seen, wait);
    if (changed) continue;
    await lock.runExclusive(async () => {
      if (complaintMachine.overdue(state(), Date.now()))
        await record(complaintMachine.escalate(state(), nowIso()));
    });
  }
  await wf.condition(wf.allHandlersFinished);
  return state();
}
