/**
 * Issue 9 on the time-skipping server with real activities on PGlite: lateness cannot be erased by a
 * reclassification (Art. 7), every deadline stays in the record.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shanghaiDateOf } from '../../domain/working-time/index.ts';
import {
  calendarChangedSignal,
  reclassifyUpdate,
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
  eventually,
  expectRefusal,
  issuer,
  MINUTE,
  openCase,
  otherIssuer,
  realCaseActivities,
  recordHistory,
  requester,
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

const realActivities = (calendar: TestCalendar) => realCaseActivities(database.db, calendar);
const ANSWER = { result: 'consistent' as const, fields: { registeredAddress: '淄博市张店区人民西路 1 号' } };

describe('Item 11: lateness cannot be erased by a reclassification', () => {
  it('refuses to reclassify once the deadline in force has passed; the answer stays late', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('reclassify-late');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      // Past the 30-minute deadline: the first-level escalation opens.
      await sleepUntil(env, new Date(start.getTime() + 40 * MINUTE));
      await eventually(async () => expect((await caseRow(database.db, caseId)).escalationLevel).toBe(1));

      const refused = await expectRefusal(
        handle.executeUpdate(reclassifyUpdate, {
          args: [{ actor: issuer, tier: '1d', reason: '需调阅纸质档案' }],
        }),
        'CaseRefusal.invalid_state',
      );
      expect(refused.message).toContain('已超过办理时限');

      const answered = await handle.executeUpdate(respondUpdate, { args: [{ actor: issuer, ...ANSWER }] });
      expect(answered.tier).toBe('30m');
      expect(answered.answer).toMatchObject({ late: true });
      expect(answered.answer?.lateWorkingMinutes).toBeGreaterThanOrEqual(10);
      expect(answered.deadlines).toEqual([
        expect.objectContaining({
          routingNo: 1,
          tier: '30m',
          dueAt: opened.routing.dueAt,
          kind: 'received',
          from: start.toISOString(),
        }),
      ]);
      const row = await caseRow(database.db, caseId);
      expect(row).toMatchObject({ late: true });
      expect(row.lateMinutes).toBeGreaterThanOrEqual(10);
    });
  });

  it('a reclassification in time keeps the earlier deadline in the record, with its reason', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('reclassify-record');
      const { handle, opened } = await openCase(env, taskQueue, caseInput(caseId, start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await sleepUntil(env, new Date(start.getTime() + 10 * MINUTE));
      const re = await handle.executeUpdate(reclassifyUpdate, {
        args: [{ actor: issuer, tier: '1d', reason: '需调阅纸质户籍档案' }],
      });
      const dueAt1d = workingDayAt(calendar.data, start, 1, '17:30').toISOString();
      expect(re.deadlines).toEqual([
        expect.objectContaining({ tier: '30m', dueAt: opened.routing.dueAt, kind: 'received' }),
        expect.objectContaining({
          tier: '1d',
          dueAt: dueAt1d,
          kind: 'reclassified',
          reason: '需调阅纸质户籍档案',
        }),
      ]);
      // Answered after the first deadline but within the one in force: not late.
      await sleepUntil(env, new Date(start.getTime() + 60 * MINUTE));
      const answered = await handle.executeUpdate(respondUpdate, { args: [{ actor: issuer, ...ANSWER }] });
      expect(answered.answer).toMatchObject({ late: false, lateWorkingMinutes: 0 });
      const row = await caseRow(database.db, caseId);
      expect(row.deadlines).toHaveLength(2);
      await recordHistory(handle, 'reclassified-in-time');
    });
  });
});

describe("Item 12: the requester's clock pause (Art. 7) leaves out the time the case sat returned", () => {
  it('records the periods with the issuing side exactly and counts only those', async () => {
    const calendar = new TestCalendar();
    await withCaseWorker(env, realActivities(calendar), async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('clock-pause');
      const { handle, opened } = await openCase(
        env,
        taskQueue,
        caseInput(caseId, start, { applicationNumber: 'RS-2026-000123' }),
      );
      expect(opened.applicationNumber).toBe('RS-2026-000123');
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await sleepUntil(env, new Date(start.getTime() + 10 * MINUTE));
      const returned = await handle.executeUpdate(returnUpdate, {
        args: [{ actor: issuer, reason: '非本单位职责', suggestedUnit: 'ZB-MZ' }],
      });
      // Two hours with the requester: paused.
      await sleepUntil(env, new Date(start.getTime() + 130 * MINUTE));
      const rerouted = await handle.executeUpdate(rerouteUpdate, {
        args: [{ actor: requester, issuingUnit: 'ZB-MZ' }],
      });
      await handle.executeUpdate(registerUpdate, { args: [{ actor: otherIssuer }] });
      await sleepUntil(env, new Date(start.getTime() + 150 * MINUTE));
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: otherIssuer, ...ANSWER }],
      });
      const returnedAt = returned.returns[0]?.at;
      expect(answered.waitIntervals).toEqual([
        { from: start.toISOString(), to: returnedAt },
        { from: rerouted.routing.receivedAt, to: answered.completion?.at },
      ]);
      // 10:00–10:10, then 12:10–12:30 (the lunch break: 0 working minutes); not the two hours returned.
      const expected =
        Math.round((Date.parse(returnedAt ?? '') - start.getTime()) / MINUTE) +
        (await realActivities(calendar).workingMinutesBetween({
          from: rerouted.routing.receivedAt,
          to: answered.completion?.at ?? '',
        }));
      expect(answered.waitedWorkingMinutes).toBe(expected);
      expect(answered.waitedWorkingMinutes).toBeLessThan(60);
      const row = await caseRow(database.db, caseId);
      expect(row).toMatchObject({ applicationNumber: 'RS-2026-000123', waitedWorkingMinutes: expected });
      expect(row.waitIntervals).toEqual(answered.waitIntervals);
      await recordHistory(handle, 'clock-pause-rerouted');
    });
  });
});

describe('A calendar change racing a reclassification', () => {
  it('never leaves the case on a deadline of another tier', async () => {
    const calendar = new TestCalendar();
    const real = realActivities(calendar);
    let hold: Promise<void> | undefined;
    let release: () => void = () => {};
    // The calendar signal's 30-minute deadline is held until the reclassification to 1 day has finished.
    const activities = {
      ...real,
      computeDeadline: async (args: Parameters<typeof real.computeDeadline>[0]) => {
        if (args.tier === '30m' && hold) await hold;
        return real.computeDeadline(args);
      },
    };
    await withCaseWorker(env, activities, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const caseId = uniqueCaseId('retime-race');
      const { handle } = await openCase(env, taskQueue, caseInput(caseId, start));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });

      // Today's afternoon becomes a closure: the 30-minute deadline would move; the signal computes it…
      const today = shanghaiDateOf(start);
      calendar.setDays({ [today]: { kind: 'off', name: '临时闭馆' } });
      hold = new Promise((r) => {
        release = r;
      });
      await handle.signal(calendarChangedSignal, { dates: [today], changedBy: 'stf-admin' });
      // …while the issuer reclassifies to 1 working day, whose deadline is computed and applied first.
      const re = await handle.executeUpdate(reclassifyUpdate, {
        args: [{ actor: issuer, tier: '1d', reason: '需调阅纸质档案' }],
      });
      expect(re.tier).toBe('1d');
      release();
      hold = undefined;
      await eventually(async () => {
        const s = await handle.query(snapshotQuery);
        expect(s.tier).toBe('1d');
        expect(s.routing.dueAt).toBe(re.routing.dueAt);
      });
      // Nothing late overwrote it: no re-timing to the 30-minute deadline on the timeline.
      await env.sleep(MINUTE);
      const s = await handle.query(snapshotQuery);
      expect(s.routing.dueAt).toBe(re.routing.dueAt);
      expect(s.deadlines.map((d) => d.tier)).not.toContain(undefined);
      expect(s.deadlines.at(-1)).toMatchObject({ tier: '1d', dueAt: re.routing.dueAt });
    });
  });
});
