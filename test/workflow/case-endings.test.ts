/**
 * The ways a case ends without escalation (Zibo measures Art. 3, 7, 9): answered on time; returned and
 * re-routed, or returned and closed; reclassified to a longer tier; withdrawn; settled offline or by
 * the applicant's own proof. Real activities against PGlite, on a calendar the test controls.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applicantProofUpdate,
  closeAfterReturnUpdate,
  reclassifyUpdate,
  recordOfflineUpdate,
  registerUpdate,
  rerouteUpdate,
  respondUpdate,
  returnUpdate,
  snapshotQuery,
  unclaimUpdate,
  withdrawUpdate,
} from '../../workflows/definitions.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import {
  caseInput,
  caseRow,
  escalationRows,
  eventRows,
  expectedDeadline,
  expectRefusal,
  finalResult,
  HOUR,
  issuer,
  issuerLiaison,
  issuerPartner,
  MINUTE,
  openCase,
  otherIssuer,
  realCaseActivities,
  recipientsOf,
  recordHistory,
  requester,
  requesterLiaison,
  serverNow,
  sleepUntil,
  startOfTest,
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

/** Real activities on PGlite, on a calendar of this test's own. */
const realActivities = (calendar: TestCalendar) => realCaseActivities(database.db, calendar);

/** The issuing unit's staff, each by name (no unit-wide row besides: one notification per person). */
const ISSUING_UNIT_GA = ['stf-iss-a', 'stf-iss-a-lia', 'stf-iss-a2'];
const ISSUING_UNIT_MZ = ['stf-iss-b', 'stf-iss-b-lia', 'stf-iss-b2'];

describe('A case answered on time', () => {
  it('registers, answers within 30 working minutes: not late, waiting time recorded, read model complete', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('on-time');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      expect(opened.status).toBe('awaiting_registration');
      expect(opened.docNumber).toMatch(/^淄人社协〔\d{4}〕\d+号$/);
      expect(opened.routing).toMatchObject(expectedDeadline(calendar.data, start, '30m'));
      expect(opened.routing.dueAt).toBe(new Date(start.getTime() + 30 * MINUTE).toISOString());

      const registered = await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      expect(registered).toMatchObject({ status: 'registered', assigneeId: issuer.staffId });
      expect((await caseRow(database.db, caseId)).status).toBe('registered');

      await env.sleep(10 * MINUTE);
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [
          { actor: issuer, result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } },
        ],
      });
      expect(answered.status).toBe('answered');
      expect(answered.answer).toMatchObject({ result: 'consistent', late: false, lateWorkingMinutes: 0 });
      expect(answered.waitedWorkingMinutes).toBe(10);
      const result = await finalResult(env, handle);
      expect(result.status).toBe('answered');
      expect(result.completion).toMatchObject({ status: 'answered', by: issuer.staffId });

      const row = await caseRow(database.db, caseId);
      expect(row).toMatchObject({
        status: 'answered',
        result: 'consistent',
        late: false,
        waitedWorkingMinutes: 10,
        escalationLevel: 0,
      });
      expect(row.completedAt?.toISOString()).toBe(result.completion?.at);
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual(['created', 'registered', 'answered']);
      expect(events[1]).toMatchObject({ actorId: issuer.staffId, actorUnit: 'ZB-GA' });
      expect(events[2]?.data).toMatchObject({ result: 'consistent', late: false });
      expect(await recipientsOf(database.db, caseId, 1, 'new_task')).toEqual(ISSUING_UNIT_GA);
      expect(await recipientsOf(database.db, caseId, 3, 'answered')).toEqual(['unit:ZB-RS']);
      expect(await escalationRows(database.db, caseId)).toEqual([]);
      await recordHistory(handle, 'answered-on-time');
    });
  });
});

describe('A returned case', () => {
  it('is returned with a reason and a suggested unit, re-routed to it with a new deadline from the re-route, and answered there', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('rerouted');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start, { tier: '1d' }));

      await env.sleep(20 * MINUTE);
      const returned = await handle.executeUpdate(returnUpdate, {
        args: [{ actor: issuerLiaison, reason: '婚姻登记信息不属本单位职责', suggestedUnit: 'ZB-MZ' }],
      });
      expect(returned.status).toBe('returned');
      expect(returned.returns).toEqual([
        expect.objectContaining({
          issuingUnit: 'ZB-GA',
          reason: '婚姻登记信息不属本单位职责',
          suggestedUnit: 'ZB-MZ',
          by: issuerLiaison.staffId,
        }),
      ]);
      expect(await recipientsOf(database.db, caseId, 2, 'returned')).toEqual(['unit:ZB-RS']);

      // The first deadline passes while the case is back with the requester: nothing escalates.
      const rerouteAt = workingDayAt(calendar.data, opened.routing.dueAt, 1, '10:00');
      await sleepUntil(env, rerouteAt);
      expect((await handle.query(snapshotQuery)).escalations).toEqual([]);

      const rerouted = await handle.executeUpdate(rerouteUpdate, {
        args: [{ actor: requester, issuingUnit: 'ZB-MZ', note: '按退回建议改派民政局' }],
      });
      const receivedAt = rerouted.routing.receivedAt;
      expect(new Date(receivedAt).getTime() - rerouteAt.getTime()).toBeLessThan(MINUTE);
      expect(rerouted.routing).toMatchObject({
        routingNo: 2,
        issuingUnit: 'ZB-MZ',
        ...expectedDeadline(calendar.data, receivedAt, '1d'),
      });
      expect(rerouted.routing.dueAt).toBe(workingDayAt(calendar.data, rerouteAt, 1, '17:30').toISOString());
      expect(rerouted.routing.registeredAt).toBeUndefined();
      expect(rerouted.status).toBe('awaiting_registration');
      expect(await recipientsOf(database.db, caseId, 3, 'new_task')).toEqual(ISSUING_UNIT_MZ);

      // The unit that returned it has no say any more; the new one registers and answers.
      await expectRefusal(
        handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] }),
        'CaseRefusal.wrong_party',
      );
      await handle.executeUpdate(registerUpdate, { args: [{ actor: otherIssuer }] });
      await env.sleep(HOUR);
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: otherIssuer, result: 'consistent', fields: { registeredStatus: '已婚' } }],
      });
      expect(answered.answer).toMatchObject({ late: false, answeredBy: otherIssuer.staffId });
      expect((await finalResult(env, handle)).status).toBe('answered');

      const row = await caseRow(database.db, caseId);
      expect(row).toMatchObject({ status: 'answered', issuingUnit: 'ZB-MZ', routingNo: 2, late: false });
      expect(row.dueAt.toISOString()).toBe(rerouted.routing.dueAt);
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual([
        'created',
        'returned',
        'rerouted',
        'registered',
        'answered',
      ]);
      expect(events[1]).toMatchObject({
        reason: '婚姻登记信息不属本单位职责',
        data: { suggestedUnit: 'ZB-MZ' },
      });
      expect(events[2]?.data).toMatchObject({ from: 'ZB-GA', to: 'ZB-MZ', dueAt: rerouted.routing.dueAt });
      await recordHistory(handle, 'returned-rerouted');
    });
  });

  it('is returned and then closed by the requesting unit with a reason', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00', 0);
      const caseId = uniqueCaseId('closed-after-return');
      const { handle } = await openCase(env, taskQueue, caseInput(caseId, start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await handle.executeUpdate(returnUpdate, {
        args: [{ actor: issuer, reason: '查无此人户籍信息，非本辖区' }],
      });
      await env.sleep(15 * MINUTE);
      await expectRefusal(
        handle.executeUpdate(closeAfterReturnUpdate, { args: [{ actor: requester, reason: '' }] }),
        'CaseRefusal.invalid_input',
      );
      const closed = await handle.executeUpdate(closeAfterReturnUpdate, {
        args: [{ actor: requesterLiaison, reason: '申请人改为提交纸质证明' }],
      });
      expect(closed.status).toBe('closed_after_return');
      expect(closed.completion).toMatchObject({
        by: requesterLiaison.staffId,
        note: '申请人改为提交纸质证明',
      });
      // Art. 7 clock pause: the 15 minutes the case sat returned to the requester are not waiting time.
      expect(closed.waitedWorkingMinutes).toBe(0);
      expect(closed.waitIntervals).toHaveLength(1);
      expect((await finalResult(env, handle)).status).toBe('closed_after_return');
      expect((await eventRows(database.db, caseId)).map((e) => e.type)).toEqual([
        'created',
        'registered',
        'returned',
        'closed_after_return',
      ]);
      expect(await caseRow(database.db, caseId)).toMatchObject({
        status: 'closed_after_return',
        waitedWorkingMinutes: 0,
        assigneeId: null,
      });
      await recordHistory(handle, 'returned-closed');
    });
  });
});

describe('A reclassified case', () => {
  it('moves from 30 minutes up to 1 working day with a reason, counted from the original receipt; never down', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('reclassified');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await env.sleep(10 * MINUTE);

      await expectRefusal(
        handle.executeUpdate(reclassifyUpdate, { args: [{ actor: issuer, tier: '1d', reason: ' ' }] }),
        'CaseRefusal.invalid_input',
      );
      const reclassified = await handle.executeUpdate(reclassifyUpdate, {
        args: [{ actor: issuer, tier: '1d', reason: '需调阅纸质户籍档案' }],
      });
      const expected = expectedDeadline(calendar.data, opened.routing.receivedAt, '1d');
      expect(reclassified.tier).toBe('1d');
      expect(reclassified.routing).toMatchObject({ ...expected, receivedAt: opened.routing.receivedAt });
      expect(reclassified.routing.dueAt).toBe(workingDayAt(calendar.data, start, 1, '17:30').toISOString());
      expect(reclassified.reclassifications).toEqual([
        expect.objectContaining({ from: '30m', to: '1d', reason: '需调阅纸质户籍档案', by: issuer.staffId }),
      ]);
      await expectRefusal(
        handle.executeUpdate(reclassifyUpdate, {
          args: [{ actor: issuer, tier: '30m', reason: '已查到电子数据' }],
        }),
        'CaseRefusal.invalid_input',
      );
      expect(await recipientsOf(database.db, caseId, 3, 'reclassified')).toEqual([
        'unit:ZB-LXB',
        'unit:ZB-RS',
      ]);

      // The old 30-minute deadline passes without escalation: only the new one counts.
      await sleepUntil(env, new Date(new Date(opened.routing.dueAt).getTime() + HOUR));
      const later = await handle.query(snapshotQuery);
      expect(later.escalations).toEqual([]);
      expect(later.seq).toBe(3);
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'consistent', fields: {} }],
      });
      expect(answered.answer?.late).toBe(false);
      await finalResult(env, handle);

      const row = await caseRow(database.db, caseId);
      expect(row).toMatchObject({ tier: '1d', status: 'answered', late: false });
      expect(row.dueAt.toISOString()).toBe(expected.dueAt);
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual(['created', 'registered', 'reclassified', 'answered']);
      expect(events[2]).toMatchObject({ reason: '需调阅纸质户籍档案', data: { from: '30m', to: '1d' } });
      await recordHistory(handle, 'reclassified');
    });
  });
});

describe('A withdrawn case', () => {
  it('is withdrawn by the requesting unit with a reason and the issuing unit is told', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00', 0);
      const caseId = uniqueCaseId('withdrawn');
      const { handle } = await openCase(env, taskQueue, caseInput(caseId, start));
      await env.sleep(5 * MINUTE);
      const withdrawn = await handle.executeUpdate(withdrawUpdate, {
        args: [{ actor: requester, reason: '申请人撤回办事申请' }],
      });
      expect(withdrawn.status).toBe('withdrawn');
      expect(withdrawn.completion).toMatchObject({ by: requester.staffId, note: '申请人撤回办事申请' });
      expect(withdrawn.waitedWorkingMinutes).toBe(5);
      expect((await finalResult(env, handle)).status).toBe('withdrawn');
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual(['created', 'withdrawn']);
      expect(events[1]).toMatchObject({ actorId: requester.staffId, reason: '申请人撤回办事申请' });
      expect(await recipientsOf(database.db, caseId, 2, 'withdrawn')).toEqual(ISSUING_UNIT_GA);
      expect((await caseRow(database.db, caseId)).status).toBe('withdrawn');
      await recordHistory(handle, 'withdrawn');
    });
  });
});

describe('A case given back (取消认领)', () => {
  it('goes back to the unit unclaimed with its deadline and first registration, is claimed by a colleague and answered', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00', 0);
      const caseId = uniqueCaseId('unclaimed');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      await env.sleep(2 * MINUTE);
      const registered = await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const firstRegistration = registered.routing.registeredAt;
      expect(firstRegistration).toBeDefined();

      // Neither a colleague (not as B partner) nor another unit may give it back; a reason is required.
      await expectRefusal(
        handle.executeUpdate(unclaimUpdate, { args: [{ actor: issuerPartner, reason: '我来交回' }] }),
        'CaseRefusal.wrong_party',
      );
      await expectRefusal(
        handle.executeUpdate(unclaimUpdate, { args: [{ actor: otherIssuer, reason: '不是我的' }] }),
        'CaseRefusal.wrong_party',
      );
      await expectRefusal(
        handle.executeUpdate(unclaimUpdate, { args: [{ actor: issuer, reason: ' ' }] }),
        'CaseRefusal.invalid_input',
      );

      await env.sleep(3 * MINUTE);
      const given = await handle.executeUpdate(unclaimUpdate, {
        args: [{ actor: issuer, reason: '本人外出，交回单位另行安排' }],
      });
      expect(given.status).toBe('awaiting_registration');
      expect(given.assigneeId).toBeUndefined();
      expect(given.routing.dueAt).toBe(opened.routing.dueAt);
      expect(given.routing.registeredAt).toBe(firstRegistration);
      const row = await caseRow(database.db, caseId);
      expect(row).toMatchObject({ status: 'awaiting_registration', assigneeId: null });
      expect(row.registeredAt?.toISOString()).toBe(firstRegistration);
      expect(await recipientsOf(database.db, caseId, 3, 'unclaimed')).toEqual(ISSUING_UNIT_GA);
      // Not registered any more: it cannot be given back twice, nor answered before a claim.
      await expectRefusal(
        handle.executeUpdate(unclaimUpdate, { args: [{ actor: issuer, reason: '再次交回' }] }),
        'CaseRefusal.invalid_state',
      );

      const claimed = await handle.executeUpdate(registerUpdate, { args: [{ actor: issuerPartner }] });
      expect(claimed).toMatchObject({ status: 'registered', assigneeId: issuerPartner.staffId });
      expect(claimed.routing.registeredAt).toBe(firstRegistration);
      expect(claimed.routing.registeredBy).toBe(issuer.staffId);
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuerPartner, result: 'consistent', fields: { registeredAddress: '淄博市张店区' } }],
      });
      expect(answered.status).toBe('answered');
      expect(answered.completion).toMatchObject({ by: issuerPartner.staffId });
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual([
        'created',
        'registered',
        'unclaimed',
        'registered',
        'answered',
      ]);
      expect(events[2]).toMatchObject({ actorId: issuer.staffId, reason: '本人外出，交回单位另行安排' });
      expect(events[2]?.data).toMatchObject({ from: issuer.staffId });
      await recordHistory(handle, 'unclaimed');
    });
  });
});

describe('A case settled outside the system', () => {
  it('records an offline exchange by fax (Art. 3) as the end of the case, with its channel and result', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00', 0);
      const caseId = uniqueCaseId('offline');
      const { handle } = await openCase(env, taskQueue, caseInput(caseId, start, { tier: '1d' }));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await env.sleep(2 * HOUR);
      const done = await handle.executeUpdate(recordOfflineUpdate, {
        args: [
          { actor: requester, channel: 'fax', note: '系统故障，已通过传真完成核验', result: 'consistent' },
        ],
      });
      expect(done.status).toBe('offline');
      expect(done.completion).toMatchObject({ channel: 'fax', note: '系统故障，已通过传真完成核验' });
      expect(done.waitedWorkingMinutes).toBeGreaterThan(0);
      expect((await finalResult(env, handle)).status).toBe('offline');
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual(['created', 'registered', 'ended_offline']);
      expect(events[2]?.data).toEqual({ channel: 'fax', result: 'consistent' });
      expect(await caseRow(database.db, caseId)).toMatchObject({
        status: 'offline',
        waitedWorkingMinutes: done.waitedWorkingMinutes,
      });
      await recordHistory(handle, 'offline');
    });
  });

  it("records the applicant's own proof (Art. 9) as the end of the case", async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await serverNow(env);
      const caseId = uniqueCaseId('applicant-proof');
      const { handle } = await openCase(env, taskQueue, caseInput(caseId, start));
      const done = await handle.executeUpdate(applicantProofUpdate, {
        args: [{ actor: requesterLiaison, note: '申请人自行提交了户籍证明原件' }],
      });
      expect(done.status).toBe('applicant_supplied');
      expect(done.completion).toMatchObject({
        by: requesterLiaison.staffId,
        note: '申请人自行提交了户籍证明原件',
      });
      expect((await finalResult(env, handle)).status).toBe('applicant_supplied');
      const events = await eventRows(database.db, caseId);
      expect(events.map((e) => e.type)).toEqual(['created', 'applicant_supplied']);
      expect(events[1]?.reason).toBe('申请人自行提交了户籍证明原件');
      expect((await caseRow(database.db, caseId)).status).toBe('applicant_supplied');
      await recordHistory(handle, 'applicant-proof');
    });
  });
});
