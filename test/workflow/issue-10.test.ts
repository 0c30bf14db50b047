/**
 * Issue 10 on the time-skipping server: handlers that cannot interleave badly. In cases started since the
 * patch `handlers-serialised`, a decision and its record run alone: a message that arrives while another
 * handler is recording waits for its turn and then decides on the case as that handler left it.
 */
import { WorkflowUpdateStage } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectCaseInput } from '../../workflows/activity-contract.ts';
import {
  handOverSignal,
  openedUpdate,
  reassignUpdate,
  registerUpdate,
  respondUpdate,
  snapshotQuery,
} from '../../workflows/definitions.ts';
import { verificationCase } from '../../workflows/verification-case.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import {
  caseInput,
  issuer,
  issuerLiaison,
  issuerPartner,
  localActivityTypes,
  MINUTE,
  memoryActivities,
  openCase,
  recordHistory,
  scheduledActivityTypes,
  sleepUntil,
  startOfTest,
  TestCalendar,
  uniqueCaseId,
  withCaseWorker,
} from './support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** Memory activities whose projection of one event type is held until `release()`. */
function holdingProjection(calendar: TestCalendar, eventType: string) {
  const activities = memoryActivities(calendar);
  /** `start:<type>` and `end:<type>` of every projection, in the order they ran on the worker. */
  const runs: string[] = [];
  let release: () => void = () => {};
  let reached: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const held = new Promise<void>((r) => {
    reached = r;
  });
  const project = activities.projectCase.bind(activities);
  activities.projectCase = async (args: ProjectCaseInput) => {
    runs.push(`start:${args.event.type}`);
    if (args.event.type === eventType) {
      reached();
      await gate;
    }
    await project(args);
    runs.push(`end:${args.event.type}`);
  };
  /**
   * Whether the projection of `later` started only after that of `earlier` had ended: the workflow decided
   * the later one in its own turn. (Read on the worker: the steps are local activities, which leave no
   * scheduled/completed events in history, only their results as markers.)
   */
  const projectedInTurn = (earlier: string, later: string) => {
    const ended = runs.indexOf(`end:${earlier}`);
    const started = runs.indexOf(`start:${later}`);
    expect(ended).toBeGreaterThanOrEqual(0);
    expect(started).toBeGreaterThanOrEqual(0);
    return started > ended;
  };
  return { activities, held, release, projectedInTurn };
}

describe('Issue 10: one decision at a time', () => {
  it('applies an Update that arrives while a signal handler awaits its activity after it, on the state the signal left', async () => {
    const calendar = new TestCalendar();
    const { activities, held, release, projectedInTurn } = holdingProjection(calendar, 'handed_over');
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const { handle } = await openCase(env, taskQueue, caseInput(uniqueCaseId('signal-then-update'), start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });

      // The agent is absent: the hand-over signal passes the case to the partner and records it (held)…
      await handle.signal(handOverSignal, {
        fromStaffId: issuer.staffId,
        toStaffId: issuerPartner.staffId,
        toName: issuerPartner.name,
        reason: '病假',
      });
      await held;
      // …while the liaison gives the case back to the agent: accepted, but it waits for its turn.
      const reassign = await handle
        .startUpdate(reassignUpdate, {
          args: [{ actor: issuerLiaison, toStaffId: issuer.staffId, reason: '提前返岗' }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        })
        .finally(release); // a failure must not leave the activity (and the worker's shutdown) hanging

      const after = await reassign.result();
      // The Update decided on the case as the signal left it, and was recorded after it.
      expect(after.assigneeId).toBe(issuer.staffId);
      const events = activities.eventsOf(handle.workflowId);
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'created'],
        [2, 'registered'],
        [3, 'handed_over'],
        [4, 'reassigned'],
      ]);
      expect(events[3]?.data).toEqual({ from: issuerPartner.staffId, to: issuer.staffId });
      expect(after.seq).toBe(4);
      expect((await handle.query(snapshotQuery)).assigneeId).toBe(issuer.staffId);
      // Not merely projected in that order: the Update's record was started only once the signal's was done.
      expect(projectedInTurn('handed_over', 'reassigned')).toBe(true);
      await recordHistory(handle, 'serialised-signal-then-update');
    });
  });

  it('lets an action wait until the new case is in the read model', async () => {
    const calendar = new TestCalendar();
    const { activities, held, release, projectedInTurn } = holdingProjection(calendar, 'created');
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const input = caseInput(uniqueCaseId('opening-first'), start);
      const handle = await env.client.workflow.start(verificationCase, {
        taskQueue,
        workflowId: input.caseId,
        args: [input],
      });
      try {
        await held;
        // The case exists (its deadline is known) but is not projected yet: the registration waits.
        const register = await handle.startUpdate(registerUpdate, {
          args: [{ actor: issuer }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        });
        expect(activities.eventsOf(input.caseId)).toEqual([]);
        release();
        const registered = await register.result();
        expect(registered).toMatchObject({ status: 'registered', seq: 2 });
        expect(activities.eventsOf(input.caseId).map((e) => e.type)).toEqual(['created', 'registered']);
        expect((await handle.executeUpdate(openedUpdate)).seq).toBe(2);
        expect(projectedInTurn('created', 'registered')).toBe(true);
        await recordHistory(handle, 'serialised-opening');
      } finally {
        release(); // also when an expectation failed: the held activity would block the worker's shutdown
        await handle.terminate('test finished').catch(() => {});
      }
    });
  });
});

describe('Issue 11: a case the API prepared opens without activity tasks', () => {
  it('opens from the prepared number and deadline: no activity task, the projection a local activity, then answered as usual', async () => {
    const calendar = new TestCalendar();
    const activities = memoryActivities(calendar);
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('prepared');
      const deadline = await activities.computeDeadline({
        receivedAt: start.toISOString(),
        tier: '30m',
        reminderFractions: [0.5, 0.8],
      });
      const input = caseInput(caseId, start, { opening: { docNumber: '淄人社协〔2026〕900号', deadline } });
      const { handle, opened } = await openCase(env, taskQueue, input);
      expect(opened.docNumber).toBe('淄人社协〔2026〕900号');
      expect(opened.routing.dueAt).toBe(deadline.dueAt);
      expect(activities.eventsOf(caseId).map((e) => e.type)).toEqual(['created']);

      const events = (await handle.fetchHistory()).events ?? [];
      // Nothing was scheduled on the activity task queue to open the case: the projection ran locally.
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
      const markers = events.map((e) => e.markerRecordedEventAttributes?.markerName).filter(Boolean);
      expect(markers).toEqual(expect.arrayContaining(['core_patch', 'core_local_activity']));

      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [
          { actor: issuer, result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } },
        ],
      });
      expect(answered.status).toBe('answered');
      await recordHistory(handle, 'opening-prepared');
    });
  });

  it('opens with an activity for the number when nothing was prepared (the deadline a local step)', async () => {
    const calendar = new TestCalendar();
    const activities = memoryActivities(calendar);
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const { handle } = await openCase(env, taskQueue, caseInput(uniqueCaseId('unprepared'), start));
      const events = (await handle.fetchHistory()).events ?? [];
      expect(scheduledActivityTypes(events)).toEqual(['allocateDocNumber', 'projectCase']);
      expect(localActivityTypes(events)).toEqual(['computeDeadline']);
    });
  });

  it('runs every later step as a local activity too (patch local-steps): reminders, escalation, a late answer', async () => {
    const calendar = new TestCalendar();
    const activities = memoryActivities(calendar);
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('local-steps');
      const deadline = await activities.computeDeadline({
        receivedAt: start.toISOString(),
        tier: '30m',
        reminderFractions: [0.5, 0.8],
      });
      const input = caseInput(caseId, start, { opening: { docNumber: '淄人社协〔2026〕901号', deadline } });
      const { handle } = await openCase(env, taskQueue, input);
      // Both reminders and the deadline pass: the case escalates to the office on its own.
      await sleepUntil(env, new Date(Date.parse(deadline.dueAt) + MINUTE));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [
          { actor: issuer, result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } },
        ],
      });
      expect(answered.status).toBe('answered');
      expect(answered.answer).toMatchObject({ late: true, replyNumber: expect.stringContaining('复') });
      expect(activities.eventsOf(caseId).map((e) => e.type)).toEqual([
        'created',
        'reminder_sent',
        'reminder_sent',
        'escalated',
        'registered',
        'answered',
      ]);

      const events = (await handle.fetchHistory()).events ?? [];
      // Not one task on the activity queue in the whole case: every step ran in its workflow task.
      expect(scheduledActivityTypes(events)).toEqual([]);
      expect(new Set(localActivityTypes(events))).toEqual(
        new Set(['projectCase', 'workingMinutesBetween', 'allocateReplyNumber', 'nextWorkingOpening']),
      );
      await recordHistory(handle, 'local-steps');
    });
  });
});
