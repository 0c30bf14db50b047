/**
 * Time inside a case: reminders at the working-time fractions of the SLA, deadlines that skip holidays,
 * a calendar change that re-times an open case (and moves its escalation), and the A/B hand-over of an
 * absent assignee (Art. 6, 7). Real activities against PGlite, on a calendar each test controls.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staff } from '../../db/schema.ts';
import {
  addCalendarDays,
  shanghaiDateOf,
  shanghaiInstant,
  workingDaysAfter,
} from '../../domain/working-time/index.ts';
import {
  calendarChangedSignal,
  closeEscalationUpdate,
  handOverSignal,
  registerUpdate,
  respondUpdate,
  type SlaTier,
  snapshotQuery,
  urgeUpdate,
} from '../../workflows/definitions.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import {
  admin,
  caseInput,
  caseRow,
  eventRows,
  eventually,
  expectedDeadline,
  finalResult,
  gap,
  HOUR,
  issuer,
  issuerLiaison,
  issuerPartner,
  MINUTE,
  openCase,
  realCaseActivities,
  recipientsOf,
  recordHistory,
  requester,
  sleepUntil,
  startOfTest,
  supervisor,
  TestCalendar,
  uniqueCaseId,
  withCaseWorker,
  workingDayAt,
} from './support.ts';

let env: TestWorkflowEnvironment;
let database: TestDatabase;
beforeAll(async () => {
  const pglite = databaseTargets()[0];
  if (!pglite) throw new Error('no PGlite target');
  [env, database] = await Promise.all([createTimeSkippingEnv(), pglite.open()]);
});
afterAll(async () => {
  await env?.teardown();
  await database?.dispose();
});

const realActivities = (calendar: TestCalendar) => realCaseActivities(database.db, calendar);

/** The issuing unit's staff, each by name (no unit-wide row besides: one notification per person). */
const ISSUING_UNIT_GA = ['stf-iss-a', 'stf-iss-a-lia', 'stf-iss-a2'];
const plus = (iso: string, ms: number) => new Date(new Date(iso).getTime() + ms);

async function eventOf(caseId: string, type: string, nth = 1) {
  return eventually(async () => {
    const found = (await eventRows(database.db, caseId)).filter((e) => e.type === type)[nth - 1];
    if (!found) throw new Error(`no ${type} #${nth} yet`);
    return found;
  });
}

describe('Reminders', () => {
  // Received at 10:00 on a working day D: 1 working day = the rest of D (6 h) + D+1 (7 h).
  const cases: { tier: SlaTier; at: [number, string][] }[] = [
    {
      tier: '1d',
      at: [
        [1, '09:30'],
        [1, '14:54'],
      ],
    },
    {
      tier: '2d',
      at: [
        [1, '14:30'],
        [2, '12:00'],
      ],
    },
  ];
  for (const { tier, at } of cases) {
    it(`for a ${tier} case go out at 50% and 80% of the working time: to the whole issuing unit before registration, then to the assignee and backup`, async () => {
      const calendar = new TestCalendar();
      await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
        const start = await startOfTest(env, calendar.data, '10:00');
        const caseId = uniqueCaseId(`reminders-${tier}`);
        const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start, { tier }));
        const { reminderAt } = opened.routing;
        expect(reminderAt).toEqual(expectedDeadline(calendar.data, start, tier).reminderAt);
        expect(reminderAt).toEqual(
          at.map(([n, hhmm]) => workingDayAt(calendar.data, start, n, hhmm).toISOString()),
        );
        const [first, second] = reminderAt as [string, string];

        await sleepUntil(env, plus(first, MINUTE));
        const r1 = await eventOf(caseId, 'reminder_sent', 1);
        expect(gap(r1.at, first)).toBeLessThan(MINUTE);
        expect(r1.data).toEqual({ n: 1, dueAt: opened.routing.dueAt });
        expect(await recipientsOf(database.db, caseId, r1.seq, 'reminder')).toEqual(ISSUING_UNIT_GA);

        await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
        await sleepUntil(env, plus(second, MINUTE));
        const r2 = await eventOf(caseId, 'reminder_sent', 2);
        expect(gap(r2.at, second)).toBeLessThan(MINUTE);
        expect(r2.data).toMatchObject({ n: 2 });
        expect(await recipientsOf(database.db, caseId, r2.seq, 'reminder')).toEqual([
          'stf-iss-a',
          'stf-iss-a2',
        ]);

        const answered = await handle.executeUpdate(respondUpdate, {
          args: [{ actor: issuer, result: 'consistent', fields: {} }],
        });
        expect(answered.answer?.late).toBe(false);
        expect(answered.routing.remindersSent).toBe(2);
        await finalResult(env, handle);
        expect((await eventRows(database.db, caseId)).map((e) => e.type)).toEqual([
          'created',
          'reminder_sent',
          'registered',
          'reminder_sent',
          'answered',
        ]);
        if (tier === '1d') await recordHistory(handle, 'reminders');
      });
    });
  }
});

describe('Holidays', () => {
  it('a 1-working-day case received before two extra holidays is due after them, and nothing fires on them', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const plainDue = workingDayAt(calendar.data, start, 1, '17:30');
      // The next two working days become holidays (as an administrator would enter them).
      const holiday1 = workingDaysAfter(start, 1, calendar.data).date;
      const holiday2 = workingDaysAfter(start, 2, calendar.data).date;
      const dueDay = workingDaysAfter(start, 3, calendar.data).date;
      calendar.setDays({
        [holiday1]: { kind: 'off', name: '临时假日' },
        [holiday2]: { kind: 'off', name: '临时假日' },
      });

      const caseId = uniqueCaseId('holiday');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start, { tier: '1d' }));
      expect(opened.routing.dueAt).not.toBe(plainDue.toISOString());
      expect(shanghaiDateOf(new Date(opened.routing.dueAt))).toBe(dueDay);
      expect(opened.routing.dueAt).toBe(workingDayAt(calendar.data, start, 1, '17:30').toISOString());
      expect(opened.routing.reminderAt[0]).toBe(workingDayAt(calendar.data, start, 1, '09:30').toISOString());

      // Through both holidays (to the evening of the second): no reminder, no escalation.
      await sleepUntil(env, shanghaiInstant(addCalendarDays(holiday2, 1), 0));
      expect((await handle.query(snapshotQuery)).seq).toBe(1);
      await sleepUntil(env, plus(opened.routing.reminderAt[0] as string, MINUTE));
      const reminder = await eventOf(caseId, 'reminder_sent');
      expect(shanghaiDateOf(reminder.at)).toBe(dueDay);

      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'consistent', fields: {} }],
      });
      expect(answered.answer?.late).toBe(false);
      await finalResult(env, handle);
      expect((await caseRow(database.db, caseId)).dueAt.toISOString()).toBe(opened.routing.dueAt);
      await recordHistory(handle, 'holiday');
    });
  });
});

describe('A calendar change on an open case', () => {
  it('re-times the case when an emergency closure falls in its window, and escalates at the new deadline, not the old one', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('retimed');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start, { tier: '1d' }));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await env.sleep(HOUR);

      // A change before the receipt cannot move the deadline: ignored (the Update after it is seq 3).
      const before = addCalendarDays(shanghaiDateOf(start), -1);
      await handle.signal(calendarChangedSignal, { dates: [before], changedBy: admin.staffId });
      const urged = await handle.executeUpdate(urgeUpdate, {
        args: [{ actor: requester, reason: '申请人等候中' }],
      });
      expect(urged.seq).toBe(3);
      expect(urged.routing.dueAt).toBe(opened.routing.dueAt);

      // The due day itself becomes an emergency closure.
      const closure = shanghaiDateOf(new Date(opened.routing.dueAt));
      calendar.setDays({ [closure]: { kind: 'off', name: '极端天气停止办公' } });
      await handle.signal(calendarChangedSignal, { dates: [closure], changedBy: admin.staffId });
      const retimed = await eventOf(caseId, 'retimed');
      const newDue = workingDayAt(calendar.data, start, 1, '17:30').toISOString();
      expect(newDue).not.toBe(opened.routing.dueAt);
      expect(retimed).toMatchObject({
        seq: 4,
        reason: '工作日历调整',
        data: {
          from: opened.routing.dueAt,
          to: newDue,
          dates: [closure],
          changedBy: admin.staffId,
          flags: [],
        },
      });
      const snapshot = await handle.query(snapshotQuery);
      expect(snapshot.routing).toMatchObject(expectedDeadline(calendar.data, start, '1d'));
      expect(snapshot.routing.receivedAt).toBe(opened.routing.receivedAt);
      expect(await recipientsOf(database.db, caseId, 4, 'retimed')).toEqual(ISSUING_UNIT_GA);
      expect((await caseRow(database.db, caseId)).dueAt.toISOString()).toBe(newDue);

      // The old deadline passes quietly…
      await sleepUntil(env, plus(opened.routing.dueAt, HOUR));
      expect((await handle.query(snapshotQuery)).escalations).toEqual([]);
      // …and the case escalates at the new one.
      await sleepUntil(env, plus(newDue, MINUTE));
      const escalated = await eventOf(caseId, 'escalated');
      expect(gap(escalated.at, newDue)).toBeLessThan(MINUTE);
      expect(escalated.data).toMatchObject({ level: 1, missedDueAt: newDue });
      const types = (await eventRows(database.db, caseId)).map((e) => e.type);
      expect(types).toEqual([
        'created',
        'registered',
        'urged',
        'retimed',
        'reminder_sent',
        'reminder_sent',
        'escalated',
      ]);

      await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'consistent', fields: {} }],
      });
      await handle.executeUpdate(closeEscalationUpdate, {
        args: [{ actor: supervisor, level: 1, outcome: '因停工顺延后仍逾期，已提醒' }],
      });
      const final = await finalResult(env, handle);
      expect(final.escalations[0]).toMatchObject({ missedDueAt: newDue, status: 'closed' });
      await recordHistory(handle, 'retimed');
    });
  });
});

describe('A/B hand-over of an absent assignee', () => {
  it('passes a registered case to the partner, records who acted for whom, and later reminders reach the new assignee and their backup', async () => {
    const calendar = new TestCalendar();
    // While 郑伟 (stf-iss-a) is away, the liaison backs up his partner 冯雪 (stf-iss-a2).
    await database.db
      .update(staff)
      .set({ partnerId: issuerLiaison.staffId })
      .where(eq(staff.id, issuerPartner.staffId));
    try {
      await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
        const start = await startOfTest(env, calendar.data, '10:00');
        const caseId = uniqueCaseId('handed-over');
        const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start, { tier: '1d' }));
        await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
        await env.sleep(HOUR);

        // Someone who does not hold the case cannot hand it over: ignored.
        await handle.signal(handOverSignal, {
          fromStaffId: issuerPartner.staffId,
          toStaffId: issuerLiaison.staffId,
          toName: issuerLiaison.name,
          reason: '误操作',
        });
        await handle.signal(handOverSignal, {
          fromStaffId: issuer.staffId,
          toStaffId: issuerPartner.staffId,
          toName: issuerPartner.name,
          reason: '郑伟病假',
        });
        const handedOver = await eventOf(caseId, 'handed_over');
        expect(handedOver).toMatchObject({
          seq: 3,
          actorId: issuerPartner.staffId,
          actorUnit: 'ZB-GA',
          onBehalfOf: issuer.staffId,
          reason: '郑伟病假',
          data: { from: issuer.staffId, to: issuerPartner.staffId },
        });
        expect(await recipientsOf(database.db, caseId, 3, 'handed_over')).toEqual([issuerPartner.staffId]);
        const snapshot = await handle.query(snapshotQuery);
        expect(snapshot).toMatchObject({ assigneeId: issuerPartner.staffId, seq: 3 });
        expect((await caseRow(database.db, caseId)).assigneeId).toBe(issuerPartner.staffId);

        await sleepUntil(env, plus(opened.routing.reminderAt[0] as string, MINUTE));
        const reminder = await eventOf(caseId, 'reminder_sent');
        expect(await recipientsOf(database.db, caseId, reminder.seq, 'reminder')).toEqual([
          issuerLiaison.staffId,
          issuerPartner.staffId,
        ]);

        const answered = await handle.executeUpdate(respondUpdate, {
          args: [{ actor: issuerPartner, result: 'consistent', fields: {} }],
        });
        expect(answered.answer).toMatchObject({ answeredBy: issuerPartner.staffId, late: false });
        await finalResult(env, handle);
        await recordHistory(handle, 'handed-over');
      });
    } finally {
      await database.db
        .update(staff)
        .set({ partnerId: issuer.staffId })
        .where(eq(staff.id, issuerPartner.staffId));
    }
  });
});
