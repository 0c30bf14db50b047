/**
 * What a case refuses, and what it does only once: every validator refusal is an ApplicationFailure
 * of type CaseRefusal.* that never reaches the history; a repeated Update ID or a repeated start is
 * applied once; two closing actions racing each other cannot both close the case.
 * The activities here are in memory: the database is not the point.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaseSnapshot,
  closeAfterReturnUpdate,
  closeEscalationUpdate,
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
} from '../../workflows/definitions.ts';
import { verificationCase } from '../../workflows/verification-case.ts';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal.ts';
import {
  caseInput,
  expectRefusal,
  finalResult,
  issuer,
  issuerLiaison,
  issuerPartner,
  memoryActivities,
  openCase,
  otherIssuer,
  quietCaseWorker,
  type RefusalType,
  recordHistory,
  requester,
  serverNow,
  startOfTest,
  supervisor,
  TestCalendar,
  terminateOpenCases,
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

type Handle = WorkflowHandle<typeof verificationCase>;

/** Events of the history that record an accepted Update (a refused one leaves no trace). */
async function acceptedUpdates(handle: Handle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)
    .filter((name): name is string => typeof name === 'string');
}

describe('Refused actions: the validator rejects them and the case does not change', () => {
  const calendar = new TestCalendar();
  const activities = memoryActivities(calendar);
  let worker: Worker;
  let running: Promise<void>;
  const cases: Record<'awaiting' | 'registered', { handle: Handle; before: CaseSnapshot }> = {} as never;

  beforeAll(async () => {
    const taskQueue = uniqueTaskQueue('refusals');
    worker = await quietCaseWorker(env, activities, taskQueue);
    running = worker.run();
    const start = await startOfTest(env, calendar.data, '10:00');
    // A new case the requester has urged once, and a registered one.
    const a = await openCase(env, taskQueue, caseInput(uniqueCaseId('refused-new'), start));
    await a.handle.executeUpdate(urgeUpdate, { args: [{ actor: requester, reason: '申请人在窗口等候' }] });
    const b = await openCase(env, taskQueue, caseInput(uniqueCaseId('refused-reg'), start));
    await b.handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
    cases.awaiting = { handle: a.handle, before: await a.handle.query(snapshotQuery) };
    cases.registered = { handle: b.handle, before: await b.handle.query(snapshotQuery) };
  });
  afterAll(async () => {
    await terminateOpenCases();
    worker?.shutdown();
    await running;
  });

  /** A valid future deadline: these orders are refused for who sends them or for the case's state. */
  const future = () => '2099-12-31T04:00:00.000Z';
  const refusals: {
    what: string;
    on: 'awaiting' | 'registered';
    type: RefusalType;
    send: (h: Handle) => Promise<unknown>;
  }[] = [
    {
      what: 'registering by an agent of another unit',
      on: 'awaiting',
      type: 'CaseRefusal.wrong_party',
      send: (h) => h.executeUpdate(registerUpdate, { args: [{ actor: otherIssuer }] }),
    },
    {
      what: 'registering by the requesting unit',
      on: 'awaiting',
      type: 'CaseRefusal.wrong_party',
      send: (h) => h.executeUpdate(registerUpdate, { args: [{ actor: requester }] }),
    },
    {
      what: 'registering by an issuing-unit member who is neither agent nor liaison',
      on: 'awaiting',
      type: 'CaseRefusal.wrong_party',
      send: (h) =>
        h.executeUpdate(registerUpdate, { args: [{ actor: { ...issuerLiaison, role: 'admin' } }] }),
    },
    {
      what: 'withdrawing by the issuing unit',
      on: 'awaiting',
      type: 'CaseRefusal.wrong_party',
      send: (h) => h.executeUpdate(withdrawUpdate, { args: [{ actor: issuer, reason: '不需要了' }] }),
    },
    {
      what: 'an office order by a requesting-unit agent',
      on: 'awaiting',
      type: 'CaseRefusal.wrong_party',
      send: (h) =>
        h.executeUpdate(orderDeadlineUpdate, { args: [{ actor: requester, dueAt: future(), note: '限期' }] }),
    },
    {
      what: 'answering before registering',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_state',
      send: (h) =>
        h.executeUpdate(respondUpdate, { args: [{ actor: issuer, result: 'consistent', fields: {} }] }),
    },
    {
      what: 're-routing a case that was not returned',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_state',
      send: (h) => h.executeUpdate(rerouteUpdate, { args: [{ actor: requester, issuingUnit: 'ZB-MZ' }] }),
    },
    {
      what: 'closing after a return that did not happen',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_state',
      send: (h) =>
        h.executeUpdate(closeAfterReturnUpdate, { args: [{ actor: requester, reason: '改为线下' }] }),
    },
    {
      what: 'an office order when nothing is escalated',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_state',
      send: (h) =>
        h.executeUpdate(orderDeadlineUpdate, {
          args: [{ actor: supervisor, dueAt: future(), note: '限期' }],
        }),
    },
    {
      what: 'closing an escalation that does not exist',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_state',
      send: (h) =>
        h.executeUpdate(closeEscalationUpdate, {
          args: [{ actor: supervisor, level: 1, outcome: '已处理' }],
        }),
    },
    {
      what: 'urging again within 30 minutes',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_state',
      send: (h) => h.executeUpdate(urgeUpdate, { args: [{ actor: requester, reason: '再次催办' }] }),
    },
    {
      what: 'returning without a reason',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_input',
      send: (h) => h.executeUpdate(returnUpdate, { args: [{ actor: issuer, reason: '' }] }),
    },
    {
      what: 'withdrawing with a blank reason',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_input',
      send: (h) => h.executeUpdate(withdrawUpdate, { args: [{ actor: requester, reason: '   ' }] }),
    },
    {
      what: 'recording an offline exchange without a note',
      on: 'awaiting',
      type: 'CaseRefusal.invalid_input',
      send: (h) =>
        h.executeUpdate(recordOfflineUpdate, { args: [{ actor: requester, channel: 'fax', note: '' }] }),
    },
    {
      what: 'registering a case that is already registered',
      on: 'registered',
      type: 'CaseRefusal.invalid_state',
      send: (h) => h.executeUpdate(registerUpdate, { args: [{ actor: issuerPartner }] }),
    },
    {
      what: 'answering by the requesting unit',
      on: 'registered',
      type: 'CaseRefusal.wrong_party',
      send: (h) =>
        h.executeUpdate(respondUpdate, { args: [{ actor: requester, result: 'consistent', fields: {} }] }),
    },
    {
      what: 'a transfer by an agent (only the liaison transfers)',
      on: 'registered',
      type: 'CaseRefusal.wrong_party',
      send: (h) =>
        h.executeUpdate(reassignUpdate, {
          args: [{ actor: issuerPartner, toStaffId: issuerPartner.staffId }],
        }),
    },
    {
      what: 'reclassifying without a reason',
      on: 'registered',
      type: 'CaseRefusal.invalid_input',
      send: (h) => h.executeUpdate(reclassifyUpdate, { args: [{ actor: issuer, tier: '1d', reason: '' }] }),
    },
    {
      what: 'reclassifying to the same tier',
      on: 'registered',
      type: 'CaseRefusal.invalid_input',
      send: (h) =>
        h.executeUpdate(reclassifyUpdate, { args: [{ actor: issuer, tier: '30m', reason: '仍为电子数据' }] }),
    },
  ];

  for (const { what, on, type, send } of refusals) {
    it(`refuses ${what} as ${type}; state and sequence unchanged`, async () => {
      const { handle, before } = cases[on];
      const projectedBefore = activities.projected.length;
      await expectRefusal(send(handle), type);
      const after = await handle.query(snapshotQuery);
      expect(after).toEqual(before);
      expect(after.seq).toBe(before.seq);
      expect(activities.projected.length).toBe(projectedBefore);
    });
  }

  it('keeps every refused Update out of the history: only the accepted ones are recorded', async () => {
    expect(await acceptedUpdates(cases.awaiting.handle)).toEqual(['opened', 'urge']);
    expect(await acceptedUpdates(cases.registered.handle)).toEqual(['opened', 'register']);
    await recordHistory(cases.awaiting.handle, 'refusals');
  });
});

describe('Idempotency: a retried action or start is applied once', () => {
  it('applies an Update sent twice with the same Update ID once, and answers the retry with the first result', async () => {
    const calendar = new TestCalendar();
    const activities = memoryActivities(calendar);
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00', 0);
      const { handle } = await openCase(env, taskQueue, caseInput(uniqueCaseId('same-update-id'), start));
      const first = await handle.executeUpdate(registerUpdate, {
        args: [{ actor: issuer }],
        updateId: 'register-1',
      });
      const retry = await handle.executeUpdate(registerUpdate, {
        args: [{ actor: issuer }],
        updateId: 'register-1',
      });
      expect(retry).toEqual(first);
      expect(first.seq).toBe(2);
      // A genuinely new registration is refused: the retry above was deduplicated, not re-validated.
      await expectRefusal(
        handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }], updateId: 'register-2' }),
        'CaseRefusal.invalid_state',
      );
      expect(activities.eventsOf(handle.workflowId).map((e) => e.type)).toEqual(['created', 'registered']);
      expect(await acceptedUpdates(handle)).toEqual(['opened', 'register']);
      await recordHistory(handle, 'idempotent-update');
    });
  });

  it('makes one case of two starts with the same workflow ID (plain start and update-with-start)', async () => {
    const calendar = new TestCalendar();
    const activities = memoryActivities(calendar);
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await serverNow(env);
      const caseId = uniqueCaseId('same-start');
      const input = caseInput(caseId, start);
      const { handle, opened } = await openCase(env, taskQueue, input);
      // A plain second start is refused by the server…
      await expect(
        env.client.workflow.start(verificationCase, { taskQueue, workflowId: caseId, args: [input] }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      // …and the API's retried update-with-start (USE_EXISTING) finds the running case.
      const again = await env.client.workflow.executeUpdateWithStart(openedUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation(verificationCase, {
          workflowId: caseId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
      expect(again.docNumber).toBe(opened.docNumber);
      expect(again.seq).toBe(1);
      const { runId } = await handle.describe();
      expect(runId).toBe(handle.firstExecutionRunId);
      expect(activities.eventsOf(caseId).map((e) => e.type)).toEqual(['created']);
      await recordHistory(handle, 'idempotent-start');
    });
  });
});

describe('Two closing actions racing each other', () => {
  it('lets only one of them close the case (an answer arriving while a withdrawal completes is refused)', async () => {
    const calendar = new TestCalendar();
    // The answer's "time waited" activity is held until the withdrawal has gone through.
    let releaseAnswer: () => void = () => {};
    let answerWaiting: () => void = () => {};
    const answerReachedActivity = new Promise<void>((r) => {
      answerWaiting = r;
    });
    const gate = new Promise<void>((r) => {
      releaseAnswer = r;
    });
    let calls = 0;
    const activities = memoryActivities(calendar, {
      async beforeWorkingMinutes() {
        if (++calls === 1) {
          answerWaiting();
          await gate;
        }
      },
    });
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00', 0);
      const { handle } = await openCase(env, taskQueue, caseInput(uniqueCaseId('race'), start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const answer = handle
        .executeUpdate(respondUpdate, { args: [{ actor: issuer, result: 'consistent', fields: {} }] })
        .then(
          (s) => ({ ok: true as const, s }),
          (err: unknown) => ({ ok: false as const, err }),
        );
      await answerReachedActivity;
      const withdrawn = await handle.executeUpdate(withdrawUpdate, {
        args: [{ actor: requester, reason: '申请人已撤回申请' }],
      });
      expect(withdrawn.status).toBe('withdrawn');
      releaseAnswer();
      const outcome = await answer;
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) await expectRefusal(Promise.reject(outcome.err), 'CaseRefusal.invalid_state');
      const final = await finalResult(env, handle);
      expect(final.status).toBe('withdrawn');
      expect(final.answer).toBeUndefined();
      expect(activities.eventsOf(handle.workflowId).map((e) => e.type)).toEqual([
        'created',
        'registered',
        'withdrawn',
      ]);
      await recordHistory(handle, 'racing-closers');
    });
  });
});
