/**
 * Complaints (投诉, Zibo attachment 4, Art. 10) on the time-skipping server, with the REAL complaint activities
 * and calendar on PGlite (and PostgreSQL when TEST_DATABASE_URL is set): answered within 5 working days;
 * extended once (approved by the office) and answered within the extended deadline; a second extension, an
 * extension longer than 5 working days and a second answer refused; overdue → escalated to the office's
 * supervisors (notices and the flag on the read model).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { and, asc, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource, loadCalendar } from '../../activities/calendar-source.ts';
import { createComplaintActivities } from '../../activities/complaint-activities.ts';
import { createCaseWorker } from '../../app/temporal.ts';
import { complaintEvents, complaints, notifications } from '../../db/schema.ts';
import type { CalendarData } from '../../domain/working-time/index.ts';
import {
  type ComplaintInput,
  complaintAnswerUpdate,
  complaintAssignUpdate,
  complaintDecideExtensionUpdate,
  complaintExtensionUpdate,
  complaintOpenedUpdate,
} from '../../workflows/complaint-definitions.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createTimeSkippingEnv, TEST_PAYLOAD_KEY, uniqueTaskQueue } from '../support/temporal.ts';
import {
  eventually,
  expectRefusal,
  HOUR,
  issuer,
  MINUTE,
  otherIssuer,
  realCaseActivities,
  recordHistory,
  sleepUntil,
  startOfTest,
  supervisor,
  workingDayAt,
} from './support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

let counter = 0;
const plus = (iso: string | Date, ms: number) => new Date(new Date(iso).getTime() + ms);

describe.each(databaseTargets())('Complaints (attachment 4, Art. 10) on $name', (target) => {
  let database: TestDatabase;
  let calendar: CalendarData;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('complaint');

  beforeAll(async () => {
    database = await target.open();
    calendar = (await loadCalendar(database.db)).data;
    worker = await createCaseWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      // As in the system: one worker runs the cases and the complaints.
      activities: {
        ...realCaseActivities(database.db, createCalendarSource(database.db)),
        ...createComplaintActivities({ db: database.db, calendar: createCalendarSource(database.db) }),
      },
      payloadKey: TEST_PAYLOAD_KEY,
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await database?.dispose();
  });

  async function accept(acceptedAt: Date) {
    const input: ComplaintInput = {
      complaintId: `complaint-test-${process.pid}-${++counter}`,
      acceptedBy: supervisor,
      acceptedAt: acceptedAt.toISOString(),
      unitCode: 'ZB-GA',
      channel: 'hotline_12345',
      ticketNo: `12345-2026-${counter}`,
      complainant: { name: '李四', phone: '13800138000' },
      content: '办理户籍业务时仍被要求提供无犯罪记录证明',
    };
    const handle = await env.client.workflow.start('complaint', {
      workflowId: input.complaintId,
      taskQueue,
      args: [input],
    });
    const opened = await handle.executeUpdate(complaintOpenedUpdate);
    return { handle, input, opened };
  }
  const assign = (handle: Awaited<ReturnType<typeof accept>>['handle']) =>
    handle.executeUpdate(complaintAssignUpdate, {
      args: [
        { actor: supervisor, unitCode: 'ZB-GA', assignee: { staffId: issuer.staffId, name: issuer.name } },
      ],
    });
  const row = async (id: string) =>
    (await database.db.select().from(complaints).where(eq(complaints.id, id)))[0];
  const events = (id: string) =>
    database.db
      .select()
      .from(complaintEvents)
      .where(eq(complaintEvents.complaintId, id))
      .orderBy(asc(complaintEvents.seq));
  const noticesOf = (id: string, kind: string) =>
    database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.kind, kind), like(notifications.eventKey, `complaint:${id}:%`)));

  it('answered on time: the deadline is 5 working days from acceptance at the close of office hours', async () => {
    const t0 = await startOfTest(env, calendar, '10:00');
    const { handle, input, opened } = await accept(t0);
    const due = workingDayAt(calendar, t0, 5, '17:30');
    expect(opened.status).toBe('accepted');
    expect(opened.dueAt).toBe(due.toISOString());

    const assigned = await assign(handle);
    expect(assigned.status).toBe('assigned');
    expect(assigned.handlingUnit).toBe('ZB-GA');
    // Another unit cannot answer it.
    await expectRefusal(
      handle.executeUpdate(complaintAnswerUpdate, { args: [{ actor: otherIssuer, text: '已处理' }] }),
      'CaseRefusal.wrong_party',
    );

    await sleepUntil(env, plus(due, -2 * HOUR));
    const answered = await handle.executeUpdate(complaintAnswerUpdate, {
      args: [{ actor: issuer, text: '已向窗口工作人员重申免提交要求，并电话告知投诉人' }],
    });
    expect(answered.status).toBe('answered');
    expect(answered.answer?.onTime).toBe(true);
    const result = await handle.result();
    expect(result.status).toBe('answered');

    const r = await row(input.complaintId);
    expect(r).toMatchObject({
      status: 'answered',
      handlingUnit: 'ZB-GA',
      assigneeId: issuer.staffId,
      answeredBy: issuer.staffId,
      answeredOnTime: true,
      escalatedAt: null,
      channel: 'hotline_12345',
      ticketNo: input.ticketNo,
      acceptedBy: supervisor.staffId,
    });
    expect(r?.dueAt.toISOString()).toBe(due.toISOString());
    // Every step attributable to a person.
    const ev = await events(input.complaintId);
    expect(ev.map((e) => [e.type, e.actorId])).toEqual([
      ['accepted', supervisor.staffId],
      ['assigned', supervisor.staffId],
      ['answered', issuer.staffId],
    ]);
    // The handling unit was told of the assignment (the assignee and the unit's liaison).
    const told = await database.db
      .select({ to: notifications.recipientStaffId, message: notifications.message })
      .from(notifications)
      .where(eq(notifications.eventKey, `complaint:${input.complaintId}:2:assigned`));
    expect(told.map((t) => t.to).sort()).toEqual(['stf-iss-a', 'stf-iss-a-lia']);
    expect(told[0]?.message).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 17:30 前办结答复/);
    expect(await noticesOf(input.complaintId, 'complaint_overdue')).toEqual([]);
  });

  it('extended once (approved by the office), then answered after the original deadline, in time', async () => {
    const t0 = await startOfTest(env, calendar, '10:00');
    const { handle, input } = await accept(t0);
    await assign(handle);
    const original = workingDayAt(calendar, t0, 5, '17:30');

    await sleepUntil(env, plus(t0, 2 * HOUR));
    const requested = await handle.executeUpdate(complaintExtensionUpdate, {
      args: [{ actor: issuer, days: 3, reason: '涉及多个科室，需调取窗口录像核实' }],
    });
    expect(requested.extensions).toMatchObject([{ status: 'pending', days: 3 }]);
    // Only the office approves.
    await expectRefusal(
      handle.executeUpdate(complaintDecideExtensionUpdate, { args: [{ actor: issuer, approve: true }] }),
      'CaseRefusal.wrong_party',
    );
    const approved = await handle.executeUpdate(complaintDecideExtensionUpdate, {
      args: [{ actor: supervisor, approve: true, note: '同意延期' }],
    });
    const extended = workingDayAt(calendar, original, 3, '17:30');
    expect(approved.dueAt).toBe(extended.toISOString());
    expect(approved.originalDueAt).toBe(original.toISOString());
    expect(approved.extensions).toMatchObject([
      {
        status: 'approved',
        days: 3,
        decidedBy: { staffId: supervisor.staffId },
        dueAt: extended.toISOString(),
      },
    ]);

    // The original deadline passes: no escalation.
    await sleepUntil(env, plus(original, 30 * MINUTE));
    await new Promise((r) => setTimeout(r, 300));
    expect((await row(input.complaintId))?.escalatedAt).toBeNull();

    const answered = await handle.executeUpdate(complaintAnswerUpdate, {
      args: [{ actor: issuer, text: '经核实已整改，已告知投诉人' }],
    });
    expect(answered.answer?.onTime).toBe(true);
    const r = await eventually(async () => {
      const found = await row(input.complaintId);
      expect(found?.status).toBe('answered');
      return found;
    });
    expect(r?.answeredOnTime).toBe(true);
    expect(r?.dueAt.toISOString()).toBe(extended.toISOString());
    expect((await events(input.complaintId)).map((e) => e.type)).toEqual([
      'accepted',
      'assigned',
      'extension_requested',
      'extension_approved',
      'answered',
    ]);
    await handle.result();
    if (target.name === 'pglite') await recordHistory(handle, 'complaint-extended');
  });

  it('a second extension and one longer than 5 working days are refused; an answered complaint ends', async () => {
    const t0 = await startOfTest(env, calendar, '10:00');
    const { handle } = await accept(t0);
    await assign(handle);
    const tooLong = await expectRefusal(
      handle.executeUpdate(complaintExtensionUpdate, {
        args: [{ actor: issuer, days: 6, reason: '情况复杂' }],
      }),
      'CaseRefusal.invalid_input',
    );
    expect(tooLong.message).toContain('延期最长不得超过 5 个工作日');
    await handle.executeUpdate(complaintExtensionUpdate, {
      args: [{ actor: issuer, days: 5, reason: '情况复杂，需多部门核实' }],
    });
    // A second request while the first waits.
    await expectRefusal(
      handle.executeUpdate(complaintExtensionUpdate, {
        args: [{ actor: issuer, days: 1, reason: '再延一天' }],
      }),
      'CaseRefusal.invalid_input',
    );
    await handle.executeUpdate(complaintDecideExtensionUpdate, {
      args: [{ actor: supervisor, approve: true }],
    });
    const second = await expectRefusal(
      handle.executeUpdate(complaintExtensionUpdate, {
        args: [{ actor: issuer, days: 2, reason: '仍需核实' }],
      }),
      'CaseRefusal.invalid_input',
    );
    expect(second.message).toContain('不能再次延期');
    await handle.executeUpdate(complaintAnswerUpdate, { args: [{ actor: issuer, text: '已办结' }] });
    // The answered complaint's workflow has ended: nothing more reaches it (the API answers 422 from the read model).
    expect((await handle.result()).extensions).toHaveLength(1);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    await expect(
      handle.executeUpdate(complaintAnswerUpdate, { args: [{ actor: issuer, text: '再次答复' }] }),
    ).rejects.toThrow();
  });

  it('overdue: escalated to the office (supervisors notified, flag on the read model), then answered late', async () => {
    const t0 = await startOfTest(env, calendar, '10:00');
    const { handle, input } = await accept(t0);
    await assign(handle);
    const due = workingDayAt(calendar, t0, 5, '17:30');
    await sleepUntil(env, plus(due, MINUTE));
    const r = await eventually(async () => {
      const found = await row(input.complaintId);
      expect(found?.escalatedAt).not.toBeNull();
      return found;
    });
    expect(r?.escalatedAt?.getTime()).toBeGreaterThanOrEqual(due.getTime());
    expect(r?.status).toBe('assigned');
    const overdue = await database.db
      .select()
      .from(notifications)
      .where(eq(notifications.eventKey, `complaint:${input.complaintId}:3:escalated`));
    // The office's supervisor, and the handling unit (the assignee and its liaison).
    expect(overdue.map((n) => n.recipientStaffId).sort()).toEqual([
      'stf-iss-a',
      'stf-iss-a-lia',
      'stf-office',
    ]);
    expect(overdue.every((n) => n.kind === 'complaint_overdue' && n.caseId === null)).toBe(true);
    // An extension can no longer be asked for.
    await expectRefusal(
      handle.executeUpdate(complaintExtensionUpdate, {
        args: [{ actor: issuer, days: 2, reason: '来不及了' }],
      }),
      'CaseRefusal.invalid_input',
    );
    const answered = await handle.executeUpdate(complaintAnswerUpdate, {
      args: [{ actor: issuer, text: '逾期办结，已告知投诉人' }],
    });
    expect(answered.answer?.onTime).toBe(false);
    expect(answered.escalatedAt).toBeDefined();
    const ev = await events(input.complaintId);
    expect(ev.map((e) => [e.type, e.actorId])).toEqual([
      ['accepted', supervisor.staffId],
      ['assigned', supervisor.staffId],
      ['escalated', null],
      ['answered', issuer.staffId],
    ]);
    await handle.result();
    if (target.name === 'pglite') await recordHistory(handle, 'complaint-escalated');
  });
});
