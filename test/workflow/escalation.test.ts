/**
 * Overdue cases and the joint-meeting office (Zibo measures Art. 11): the deadline passing opens a level-1
 * escalation in the office inbox; the office is reminded each working day until it orders a deadline; a
 * missed order opens level 2 (约谈); only the office closes escalations, and the case workflow ends only
 * when they are closed. The REAL activities and the REAL calendar source (library + database rows), on
 * PGlite and — when TEST_DATABASE_URL is set — on PostgreSQL, asserting the rows of `cases`,
 * `case_events`, `escalations` and `notifications`.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource, loadCalendar } from '../../activities/calendar-source.ts';
import type { CalendarData } from '../../domain/working-time/index.ts';
import { workingMinutesBetween } from '../../domain/working-time/index.ts';
import {
  closeEscalationUpdate,
  orderDeadlineUpdate,
  registerUpdate,
  rerouteUpdate,
  respondUpdate,
  returnUpdate,
  snapshotQuery,
} from '../../workflows/definitions.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import {
  caseInput,
  caseRow,
  escalationRows,
  eventRows,
  eventually,
  expectedDeadline,
  expectRefusal,
  expectStillRunning,
  finalResult,
  gap,
  HOUR,
  issuer,
  MINUTE,
  openCase,
  otherIssuer,
  realCaseActivities,
  recipientsOf,
  recordHistory,
  requester,
  serverNow,
  sleepUntil,
  startOfTest,
  supervisor,
  uniqueCaseId,
  withCaseWorker,
  workingDayAt,
} from './support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** The issuing unit's staff, each by name (no unit-wide row besides: one notification per person). */
const ISSUING_UNIT_GA = ['stf-iss-a', 'stf-iss-a-lia', 'stf-iss-a2'];
const plus = (iso: string | Date, ms: number) => new Date(new Date(iso).getTime() + ms);

describe.each(databaseTargets())('Escalation to the joint-meeting office on $name', (target) => {
  let database: TestDatabase;
  let calendar: CalendarData;
  beforeAll(async () => {
    database = await target.open();
    calendar = (await loadCalendar(database.db)).data;
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const activities = () => realCaseActivities(database.db, createCalendarSource(database.db));
  const eventOf = (caseId: string, type: string, nth = 1) =>
    eventually(async () => {
      const found = (await eventRows(database.db, caseId)).filter((e) => e.type === type)[nth - 1];
      if (!found) throw new Error(`no ${type} #${nth} yet`);
      return found;
    });
  const record = async (handle: Parameters<typeof recordHistory>[0], name: string) => {
    if (target.name === 'pglite') await recordHistory(handle, name);
  };

  it('answered late: the level-1 escalation opened at the deadline stays in the office inbox until a supervisor closes it with an outcome', async () => {
    await withCaseWorker(env, activities(), async (taskQueue) => {
      const start = await startOfTest(env, calendar, '10:00');
      const caseId = uniqueCaseId(`late-${target.name}`);
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      const { dueAt } = opened.routing;
      expect(opened.routing).toMatchObject(expectedDeadline(calendar, start, '30m'));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });

      await sleepUntil(env, plus(dueAt, MINUTE));
      const escalated = await eventOf(caseId, 'escalated');
      expect(gap(escalated.at, dueAt)).toBeLessThan(MINUTE);
      expect(escalated.data).toEqual({ level: 1, missedDueAt: dueAt, issuingUnit: 'ZB-GA' });
      expect(await recipientsOf(database.db, caseId, escalated.seq, 'escalated')).toEqual(
        [...ISSUING_UNIT_GA, 'unit:ZB-LXB', 'unit:ZB-RS'].sort(),
      );
      const [opening] = await escalationRows(database.db, caseId);
      expect(opening).toMatchObject({
        id: `${caseId}:1`,
        level: 1,
        status: 'open',
        routingNo: 1,
        issuingUnit: 'ZB-GA',
        requestingUnit: 'ZB-RS',
        orderedDueAt: null,
        closedAt: null,
      });
      expect(opening?.missedDueAt.toISOString()).toBe(dueAt);
      expect(await caseRow(database.db, caseId)).toMatchObject({ status: 'registered', escalationLevel: 1 });

      // Answered 30 working minutes after the deadline.
      await sleepUntil(env, plus(dueAt, 30 * MINUTE));
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'consistent', fields: { registeredAddress: '淄博市张店区' } }],
      });
      expect(answered.answer).toMatchObject({ late: true, lateWorkingMinutes: 30 });
      expect(answered.escalations[0]).toMatchObject({
        status: 'open',
        caseCompletedAt: answered.completion?.at,
      });
      expect(await caseRow(database.db, caseId)).toMatchObject({
        status: 'answered',
        late: true,
        lateMinutes: 30,
        escalationLevel: 1,
      });

      // Days later the escalation is still open and the case workflow still waits for the office.
      await env.sleep('2 days');
      await expectStillRunning(handle);
      const [stillOpen] = await escalationRows(database.db, caseId);
      expect(stillOpen).toMatchObject({ status: 'open', closedAt: null });
      expect(stillOpen?.caseCompletedAt?.toISOString()).toBe(answered.completion?.at);

      const close = (actor: typeof supervisor, level: 1 | 2, outcome: string) =>
        handle.executeUpdate(closeEscalationUpdate, { args: [{ actor, level, outcome }] });
      await expectRefusal(close(issuer, 1, '已反馈'), 'CaseRefusal.wrong_party');
      await expectRefusal(close(supervisor, 1, ''), 'CaseRefusal.invalid_input');
      await expectRefusal(close(supervisor, 2, '已反馈'), 'CaseRefusal.invalid_state');
      const closed = await close(supervisor, 1, '出具单位已超时反馈，予以通报');
      expect(closed.escalations[0]).toMatchObject({
        status: 'closed',
        closedBy: supervisor.staffId,
        outcome: '出具单位已超时反馈，予以通报',
      });
      const final = await finalResult(env, handle);
      expect(final.status).toBe('answered');

      const [closedRow] = await escalationRows(database.db, caseId);
      expect(closedRow).toMatchObject({
        status: 'closed',
        closedBy: supervisor.staffId,
        outcome: '出具单位已超时反馈，予以通报',
      });
      expect(await caseRow(database.db, caseId)).toMatchObject({ status: 'answered', escalationLevel: 0 });
      expect((await eventRows(database.db, caseId)).map((e) => e.type)).toEqual([
        'created',
        'registered',
        'reminder_sent',
        'reminder_sent',
        'escalated',
        'answered',
        'escalation_closed',
      ]);
      await record(handle, 'answered-late');
    });
  });

  it('two levels: the office is reminded each working day until it orders a deadline; the missed order opens level 2 (约谈); both levels are closed', async () => {
    await withCaseWorker(env, activities(), async (taskQueue) => {
      const start = await startOfTest(env, calendar, '10:00');
      const caseId = uniqueCaseId(`two-levels-${target.name}`);
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start, { tier: '1d' }));
      const { dueAt } = opened.routing;
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });

      // Level 1 at the deadline, then an office reminder at the opening of each of the next working days.
      const firstReminder = workingDayAt(calendar, dueAt, 1, '09:00');
      const secondReminder = workingDayAt(calendar, dueAt, 2, '09:00');
      await sleepUntil(env, plus(secondReminder, HOUR));
      const level1 = await eventOf(caseId, 'escalated');
      expect(gap(level1.at, dueAt)).toBeLessThan(MINUTE);
      const reminded1 = await eventOf(caseId, 'office_reminded', 1);
      const reminded2 = await eventOf(caseId, 'office_reminded', 2);
      expect(gap(reminded1.at, firstReminder)).toBeLessThan(MINUTE);
      expect(gap(reminded2.at, secondReminder)).toBeLessThan(MINUTE);
      expect(reminded2.data).toEqual({ level: 1 });
      expect(await recipientsOf(database.db, caseId, reminded2.seq, 'escalation_pending')).toEqual([
        'unit:ZB-LXB',
      ]);

      // Only a supervisor orders, and only a deadline in the future.
      const now = await serverNow(env);
      const order = (actor: typeof supervisor, due: string) =>
        handle.executeUpdate(orderDeadlineUpdate, {
          args: [{ actor, dueAt: due, note: '责成次一工作日12时前办结' }],
        });
      await expectRefusal(order(requester, plus(now, 2 * HOUR).toISOString()), 'CaseRefusal.wrong_party');
      await expectRefusal(order(supervisor, plus(now, -HOUR).toISOString()), 'CaseRefusal.invalid_input');
      await expectRefusal(order(supervisor, 'tomorrow noon'), 'CaseRefusal.invalid_input');
      // Ordered to finish by noon of the next working day: no reminder at that day's opening, as ordered.
      const orderedDueAt = workingDayAt(calendar, now, 1, '12:00').toISOString();
      const ordered = await order(supervisor, orderedDueAt);
      expect(ordered.escalations[0]).toMatchObject({
        status: 'ordered',
        orderedDueAt,
        orderedBy: supervisor.staffId,
      });
      const orderedEvent = await eventOf(caseId, 'deadline_ordered');
      expect(orderedEvent).toMatchObject({ actorId: supervisor.staffId, data: { level: 1, orderedDueAt } });
      expect(await recipientsOf(database.db, caseId, orderedEvent.seq, 'deadline_ordered')).toEqual(
        [...ISSUING_UNIT_GA, 'unit:ZB-RS'].sort(),
      );
      const [orderedRow] = await escalationRows(database.db, caseId);
      expect(orderedRow).toMatchObject({
        status: 'ordered',
        orderedBy: supervisor.staffId,
        orderNote: '责成次一工作日12时前办结',
      });
      expect(orderedRow?.orderedDueAt?.toISOString()).toBe(orderedDueAt);

      // The ordered deadline passes: level 2, and the office is reminded again the next working day.
      // (The opening between the order and its deadline brought no reminder: see the event list below.)
      const thirdReminder = workingDayAt(calendar, orderedDueAt, 1, '09:00');
      await sleepUntil(env, plus(thirdReminder, MINUTE));
      const level2 = await eventOf(caseId, 'escalated_level2');
      expect(gap(level2.at, orderedDueAt)).toBeLessThan(MINUTE);
      expect(level2.data).toEqual({ level: 2, missedDueAt: orderedDueAt, issuingUnit: 'ZB-GA' });
      expect(await recipientsOf(database.db, caseId, level2.seq, 'escalated')).toEqual(
        [...ISSUING_UNIT_GA, 'unit:ZB-LXB', 'unit:ZB-RS'].sort(),
      );
      const reminded3 = await eventOf(caseId, 'office_reminded', 3);
      expect(gap(reminded3.at, thirdReminder)).toBeLessThan(MINUTE);
      expect(reminded3.data).toEqual({ level: 2 });
      const rows = await escalationRows(database.db, caseId);
      expect(rows.map((r) => [r.level, r.status])).toEqual([
        [1, 'open'],
        [2, 'open'],
      ]);
      expect(rows[1]?.missedDueAt.toISOString()).toBe(orderedDueAt);
      expect(await caseRow(database.db, caseId)).toMatchObject({ status: 'registered', escalationLevel: 2 });

      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'inconsistent', fields: { registeredAddress: '淄博市周村区' } }],
      });
      const answeredAt = answered.answer?.answeredAt as string;
      expect(answered.answer).toMatchObject({
        late: true,
        lateWorkingMinutes: Math.round(
          workingMinutesBetween(new Date(dueAt), new Date(answeredAt), calendar).minutes,
        ),
      });
      const close = (level: 1 | 2, outcome: string) =>
        handle.executeUpdate(closeEscalationUpdate, { args: [{ actor: supervisor, level, outcome }] });
      await close(2, '已约谈出具单位分管负责人');
      await expectStillRunning(handle);
      await close(1, '已责成整改并通报');
      const final = await finalResult(env, handle);
      expect(final.escalations.map((e) => [e.level, e.status])).toEqual([
        [1, 'closed'],
        [2, 'closed'],
      ]);

      const closedRows = await escalationRows(database.db, caseId);
      expect(closedRows.map((r) => [r.level, r.status, r.closedBy, r.outcome])).toEqual([
        [1, 'closed', supervisor.staffId, '已责成整改并通报'],
        [2, 'closed', supervisor.staffId, '已约谈出具单位分管负责人'],
      ]);
      expect(await caseRow(database.db, caseId)).toMatchObject({
        status: 'answered',
        late: true,
        escalationLevel: 0,
      });
      expect((await eventRows(database.db, caseId)).map((e) => e.type)).toEqual([
        'created',
        'registered',
        'reminder_sent',
        'reminder_sent',
        'escalated',
        'office_reminded',
        'office_reminded',
        'deadline_ordered',
        'escalated_level2',
        'office_reminded',
        'answered',
        'escalation_closed',
        'escalation_closed',
      ]);
      await record(handle, 'escalated-two-levels');
    });
  });

  it('an escalation stays with the unit that missed the deadline when the case is then returned and re-routed', async () => {
    await withCaseWorker(env, activities(), async (taskQueue) => {
      const start = await startOfTest(env, calendar, '10:00');
      const caseId = uniqueCaseId(`escalated-rerouted-${target.name}`);
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      await sleepUntil(env, plus(opened.routing.dueAt, MINUTE));
      await eventOf(caseId, 'escalated');
      await handle.executeUpdate(returnUpdate, {
        args: [{ actor: issuer, reason: '不属本单位职责', suggestedUnit: 'ZB-MZ' }],
      });
      const rerouted = await handle.executeUpdate(rerouteUpdate, {
        args: [{ actor: requester, issuingUnit: 'ZB-MZ' }],
      });
      expect(rerouted.routing).toMatchObject({ routingNo: 2, issuingUnit: 'ZB-MZ' });
      // The office inbox and the assessment keep blaming ZB-GA, not the unit that just received it.
      const [row] = await escalationRows(database.db, caseId);
      expect(row).toMatchObject({ routingNo: 1, issuingUnit: 'ZB-GA', status: 'open' });

      await handle.executeUpdate(registerUpdate, { args: [{ actor: otherIssuer }] });
      await handle.executeUpdate(respondUpdate, {
        args: [{ actor: otherIssuer, result: 'consistent', fields: {} }],
      });
      await handle.executeUpdate(closeEscalationUpdate, {
        args: [{ actor: supervisor, level: 1, outcome: '原出具单位超时后退回，已通报' }],
      });
      expect((await finalResult(env, handle)).status).toBe('answered');
      const [closedRow] = await escalationRows(database.db, caseId);
      expect(closedRow).toMatchObject({ issuingUnit: 'ZB-GA', status: 'closed' });
      expect((await handle.query(snapshotQuery)).escalations).toHaveLength(1);
    });
  });
});
