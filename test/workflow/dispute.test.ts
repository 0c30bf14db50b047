/**
 * Responsibility disputes (职责争议, Art. 7/11) on the time-skipping server: the real `dispute` and
 * `verificationCase` workflows, the case's activities in memory, the dispute's projection recorded in memory and
 * its re-route sent to the case by the real activity (through the worker's client).
 *
 * Paths: decided in time with a re-route (the case goes to the unit the office named, with a new deadline, and its
 * history is recorded for the replay test); decided in time with "answer it yourself" (the case stays); not decided
 * within 2 working days (overdue: the office's supervisors are told, the dispute is flagged, a late decision is
 * still taken and marked late). Refusals: a non-supervisor, a second decision, a re-route without a target.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDisputeActivities } from '../../activities/dispute-activities.ts';
import type { Db } from '../../db/client.ts';
import { registerUpdate, respondUpdate, snapshotQuery } from '../../workflows/definitions.ts';
import {
  type DisputeActivities,
  type DisputeInput,
  type DisputeState,
  type DisputeStep,
  decideDisputeUpdate,
  dispute,
  disputeStateQuery,
  disputeWorkflowId,
} from '../../workflows/dispute.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import {
  caseInput,
  eventually,
  expectedDeadline,
  expectRefusal,
  finalResult,
  issuer,
  memoryActivities,
  openCase,
  otherIssuer,
  quietCaseWorker,
  recordHistory,
  serverNow,
  sleepUntil,
  startOfTest,
  supervisor,
  TestCalendar,
  terminateOpenCases,
  uniqueCaseId,
} from './support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('Responsibility disputes (dispute workflow)', () => {
  const calendar = new TestCalendar();
  const caseActs = memoryActivities(calendar);
  const projected: { step: DisputeStep; state: DisputeState }[] = [];
  const real = createDisputeActivities({ db: undefined as unknown as Db });
  const disputeActs: DisputeActivities = {
    computeDeadline: caseActs.computeDeadline,
    async projectDispute(input) {
      projected.push(structuredClone(input));
    },
    rerouteCaseForDispute: real.rerouteCaseForDispute,
  };
  const taskQueue = `dispute-${process.pid}`;
  let worker: Worker;
  let running: Promise<void>;
  const disputes: string[] = [];

  beforeAll(async () => {
    worker = await quietCaseWorker(env, { ...caseActs, ...disputeActs } as never, taskQueue);
    running = worker.run();
  });
  afterAll(async () => {
    await terminateOpenCases();
    await Promise.all(
      disputes.map((id) =>
        env.client.workflow
          .getHandle(id)
          .terminate('test finished')
          .catch(() => {}),
      ),
    );
    worker?.shutdown();
    await running;
  });

  /** A registered case with ZB-GA, and a dispute its agent filed at `at`. */
  async function disputedCase(name: string) {
    const at = await startOfTest(env, calendar.data, '10:00');
    const caseId = uniqueCaseId(name);
    const { handle } = await openCase(env, taskQueue, caseInput(caseId, at));
    await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
    const input: DisputeInput = {
      disputeId: `${caseId}-d`,
      caseId,
      unitCode: 'ZB-GA',
      routingNo: 1,
      filedBy: issuer,
      reason: '该事项属于民政部门职责',
      suggestedUnit: 'ZB-MZ',
      filedAt: (await serverNow(env)).toISOString(),
      decisionDays: 2,
    };
    const d = await env.client.workflow.start(dispute, {
      taskQueue,
      workflowId: disputeWorkflowId(input.disputeId),
      args: [input],
    });
    disputes.push(d.workflowId);
    await eventually(async () =>
      expect(projected.some((p) => p.state.disputeId === input.disputeId && p.step === 'filed')).toBe(true),
    );
    return { handle, d, input };
  }
  const stepsOf = (id: string) => projected.filter((p) => p.state.disputeId === id).map((p) => p.step);

  it('decided in time with a re-route: the case goes to the unit the office named, with a new deadline', async () => {
    const { handle, d, input } = await disputedCase('dispute-reroute');
    const filed = await d.query(disputeStateQuery);
    expect(filed.status).toBe('open');
    // 2 working days from a filing at 10:00 on a working day: the close of the second working day after.
    expect(filed.dueAt).toBe(expectedDeadline(calendar.data, input.filedAt, '2d', []).dueAt);

    await expectRefusal(
      d.executeUpdate(decideDisputeUpdate, {
        args: [{ actor: issuer, outcome: 'must_answer', reason: '自行裁定' }],
      }),
      'CaseRefusal.wrong_party',
    );
    await expectRefusal(
      d.executeUpdate(decideDisputeUpdate, {
        args: [{ actor: supervisor, outcome: 'reroute', reason: '改派' }],
      }),
      'CaseRefusal.invalid_input',
    );

    const decided = await d.executeUpdate(decideDisputeUpdate, {
      args: [
        { actor: supervisor, outcome: 'reroute', targetUnit: 'ZB-MZ', reason: '经核，该事项由民政局出具' },
      ],
    });
    expect(decided.status).toBe('rerouted');
    expect(decided.decision).toMatchObject({
      outcome: 'reroute',
      targetUnit: 'ZB-MZ',
      by: supervisor.staffId,
      late: false,
    });
    expect(stepsOf(input.disputeId)).toEqual(['filed', 'decided']);

    const snap = await handle.query(snapshotQuery);
    expect(snap.routing.issuingUnit).toBe('ZB-MZ');
    expect(snap.routing.routingNo).toBe(2);
    expect(snap.status).toBe('awaiting_registration');
    expect(snap.returns).toEqual([expect.objectContaining({ issuingUnit: 'ZB-GA', suggestedUnit: 'ZB-MZ' })]);
    const rerouteDeadline = snap.deadlines.at(-1);
    expect(rerouteDeadline).toMatchObject({ kind: 'rerouted', issuingUnit: 'ZB-MZ', routingNo: 2 });
    expect(Date.parse(rerouteDeadline?.from ?? '')).toBeGreaterThanOrEqual(Date.parse(input.filedAt));
    const types = caseActs.eventsOf(input.caseId).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['returned', 'rerouted']);
    expect(caseActs.eventsOf(input.caseId).at(-1)?.actorId).toBe(supervisor.staffId);

    // Decided: the dispute workflow has ended (a second decision is refused by the API from the read model).
    await eventually(async () => expect((await d.describe()).status.name).toBe('COMPLETED'));

    // The new unit answers; the whole case history replays (test/workflow/replay.test.ts).
    await handle.executeUpdate(registerUpdate, { args: [{ actor: otherIssuer }] });
    await handle.executeUpdate(respondUpdate, {
      args: [{ actor: otherIssuer, result: 'consistent', fields: { registeredAddress: '淄博市' } }],
    });
    const final = await finalResult(env, handle);
    expect(final.status).toBe('answered');
    await recordHistory(handle, 'dispute-office-reroute');
  });

  it('decided in time with "answer it": the case stays with the disputing unit, its deadline unchanged', async () => {
    const { handle, d, input } = await disputedCase('dispute-must-answer');
    const before = await handle.query(snapshotQuery);
    const decided = await d.executeUpdate(decideDisputeUpdate, {
      args: [{ actor: supervisor, outcome: 'must_answer', reason: '户籍信息由公安机关掌握，应予出具' }],
    });
    expect(decided.status).toBe('must_answer');
    expect(decided.decision).toMatchObject({ outcome: 'must_answer', late: false });
    expect(decided.decision?.targetUnit).toBeUndefined();
    expect(stepsOf(input.disputeId)).toEqual(['filed', 'decided']);
    const after = await handle.query(snapshotQuery);
    expect(after.routing).toEqual(before.routing);
    expect(after.status).toBe('registered');
    expect(after.returns).toEqual([]);
  });

  it('not decided within 2 working days: overdue, the office is told, a late decision is marked late', async () => {
    const { handle, d, input } = await disputedCase('dispute-overdue');
    const { dueAt } = await d.query(disputeStateQuery);
    expect(dueAt).toBeDefined();
    // Just before the deadline: still open.
    await sleepUntil(env, new Date(Date.parse(dueAt as string) - 60_000));
    expect((await d.query(disputeStateQuery)).status).toBe('open');
    await sleepUntil(env, new Date(Date.parse(dueAt as string) + 60_000));
    await eventually(async () => expect(stepsOf(input.disputeId)).toEqual(['filed', 'overdue']));
    const overdue = await d.query(disputeStateQuery);
    expect(overdue.status).toBe('overdue');
    expect(Date.parse(overdue.overdueAt as string)).toBeGreaterThanOrEqual(Date.parse(dueAt as string));

    // The case's own SLA ran meanwhile (30 working minutes): it escalated as usual.
    const snap = await handle.query(snapshotQuery);
    expect(snap.escalations.length).toBeGreaterThan(0);

    const decided = await d.executeUpdate(decideDisputeUpdate, {
      args: [{ actor: supervisor, outcome: 'reroute', targetUnit: 'ZB-MZ', reason: '逾期后裁定改派' }],
    });
    expect(decided.status).toBe('rerouted');
    expect(decided.decision?.late).toBe(true);
    expect(stepsOf(input.disputeId)).toEqual(['filed', 'overdue', 'decided']);
    expect((await handle.query(snapshotQuery)).routing.issuingUnit).toBe('ZB-MZ');
  });
});
