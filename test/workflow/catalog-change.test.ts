/**
 * List adjustment (Zibo attachment 3, Art. 9) on the time-skipping server, with the real activities on a
 * real database and calendar: the request is due within 7 working days of the cause; the unit is reminded
 * 2 working days before; an unfiled cause is flagged at the deadline and a late filing marked 逾期申报; the
 * office decides within its deadline (flagged and told when it does not); an approval publishes the change.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource, loadCalendar } from '../../activities/calendar-source.ts';
import { toCaseProblem } from '../../api/services/case-gateway.ts';
import { createCatalogChangeGateway } from '../../api/services/catalog-change-gateway.ts';
import { createCatalogChangeActivities } from '../../api/services/catalog-changes.ts';
import { catalogChanges, catalogItems, notifications } from '../../db/schema.ts';
import { type CalendarData, shanghaiDateOf, workingDaysAfter } from '../../domain/working-time/index.ts';
import {
  type CatalogChangeInput,
  catalogChangeWorkflowId,
  type ItemProposal,
} from '../../workflows/catalog-change.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { caseWorker, createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal.ts';
import {
  admin,
  eventually,
  HOUR,
  issuerLiaison,
  realCaseActivities,
  sleepUntil,
  startOfTest,
  supervisor,
} from './support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

let counter = 0;

describe.each(databaseTargets())('List adjustment (清单调整) on $name', (target) => {
  let database: TestDatabase;
  let calendar: CalendarData;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  beforeAll(async () => {
    database = await target.open();
    calendar = (await loadCalendar(database.db)).data;
    taskQueue = uniqueTaskQueue('catalog-change');
    const source = createCalendarSource(database.db);
    worker = await caseWorker(
      env,
      { ...realCaseActivities(database.db, source), ...createCatalogChangeActivities(database.db, source) },
      taskQueue,
    );
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await database?.dispose();
  });

  const gateway = () => createCatalogChangeGateway(env.client, taskQueue, toCaseProblem);
  const input = (causeDate: string): CatalogChangeInput => ({
    changeId: `cc-test-${process.pid}-${++counter}`,
    unitCode: issuerLiaison.unitCode,
    cause: { kind: 'law', date: causeDate, description: '《户口登记条例》修订', itemCode: 'HJ-001' },
    recordedBy: issuerLiaison,
    recordedAt: new Date(Date.now()).toISOString(),
    filingDays: 7,
    decisionDays: 5,
  });
  const row = (id: string) =>
    database.db
      .select()
      .from(catalogChanges)
      .where(eq(catalogChanges.id, id))
      .then((r) => r[0]);
  const noticesOf = (id: string, kind: string) =>
    database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.kind, kind)))
      .then((rows) => rows.filter((n) => n.eventKey?.startsWith(`${catalogChangeWorkflowId(id)}:`)));
  const hj001 = async () => {
    const [latest] = await database.db
      .select()
      .from(catalogItems)
      .where(eq(catalogItems.code, 'HJ-001'))
      .orderBy(desc(catalogItems.version))
      .limit(1);
    if (!latest) throw new Error('HJ-001 missing');
    return latest;
  };
  const proposal = async (name: string): Promise<ItemProposal> => {
    const i = await hj001();
    return {
      name,
      serviceItemName: i.serviceItemName,
      serviceItemCode: i.serviceItemCode,
      legalBasis: '《户口登记条例》（修订）',
      issuingUnitCodes: i.issuingUnitCodes,
      defaultTier: i.defaultTier,
      exemptionMethod: '部门核验',
      requestSchema: i.requestSchema,
      responseSchema: i.responseSchema,
    };
  };

  it('filed on time and approved: the 7-working-day deadline from the cause date, a new catalog version published', async () => {
    const start = await startOfTest(env, calendar, '10:00');
    const today = shanghaiDateOf(start);
    const i = input(today);
    const recorded = await gateway().recordCause(i);
    expect(recorded.status).toBe('awaiting_filing');
    // The close of the 7th working day after the cause date (the day itself not counted).
    expect(recorded.filingDueAt).toBe(workingDaysAfter(start, 7, calendar).closeAt.toISOString());
    expect(recorded.filingRemindAt).toBe(workingDaysAfter(start, 5, calendar).closeAt.toISOString());
    expect((await row(i.changeId))?.status).toBe('awaiting_filing');

    const before = await hj001();
    const filed = await gateway().fileRequest(i.changeId, {
      actor: issuerLiaison,
      request: {
        changeType: 'change',
        itemCode: 'HJ-001',
        item: await proposal('户籍信息证明（修订）'),
        basis: '条例修订',
      },
    });
    expect(filed.status).toBe('filed');
    expect(filed.filedLate).toBe(false);
    expect(filed.decisionDueAt).toBe(workingDaysAfter(start, 5, calendar).closeAt.toISOString());

    const decided = await gateway().decide(i.changeId, { actor: supervisor, approve: true });
    expect(decided.status).toBe('approved');
    expect(decided.publishedVersion).toBe(before.version + 1);
    const after = await hj001();
    expect(after.version).toBe(before.version + 1);
    expect(after.name).toBe('户籍信息证明（修订）');
    expect(after.active).toBe(true);
    const r = await row(i.changeId);
    expect(r?.publishedVersion).toBe(after.version);
    expect(r?.decidedBy).toBe(supervisor.staffId);
    expect(r?.filingOverdueAt).toBeNull();
    expect(await noticesOf(i.changeId, 'catalog_change_reminder')).toHaveLength(0);
    await env.client.workflow.getHandle(catalogChangeWorkflowId(i.changeId)).result();
  });

  it('not filed: reminded 2 working days before the deadline, flagged 逾期未申报 when it passes (unit and office told); filed later it is 逾期申报', async () => {
    const start = await startOfTest(env, calendar, '10:00');
    const i = input(shanghaiDateOf(start));
    const recorded = await gateway().recordCause(i);

    await sleepUntil(env, new Date(Date.parse(recorded.filingRemindAt) + 60_000));
    const reminders = await eventually(async () => {
      const n = await noticesOf(i.changeId, 'catalog_change_reminder');
      if (!n.length) throw new Error('no reminder yet');
      return n;
    });
    expect(reminders.map((n) => n.recipientUnit)).toEqual([i.unitCode]);
    expect(reminders[0]?.message).toContain('7 个工作日');
    expect(reminders[0]?.message).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/); // Beijing time, not ISO
    expect((await row(i.changeId))?.filingOverdueAt).toBeNull();

    await sleepUntil(env, new Date(Date.parse(recorded.filingDueAt) + HOUR));
    const flagged = await eventually(async () => {
      const r = await row(i.changeId);
      if (!r?.filingOverdueAt) throw new Error('not flagged yet');
      return r;
    });
    expect(flagged.status).toBe('awaiting_filing');
    const overdue = await noticesOf(i.changeId, 'catalog_change_filing_overdue');
    expect(overdue.map((n) => n.recipientUnit).sort()).toEqual(['ZB-LXB', i.unitCode].sort());

    const filed = await gateway().fileRequest(i.changeId, {
      actor: issuerLiaison,
      request: { changeType: 'remove', itemCode: 'HJ-001', item: null, basis: '事项取消' },
    });
    expect(filed.filedLate).toBe(true);
    expect((await row(i.changeId))?.filedLate).toBe(true);
    // Rejected with its reason: the catalog stays as it was.
    const before = await hj001();
    await expect(gateway().decide(i.changeId, { actor: supervisor, approve: false })).rejects.toMatchObject({
      status: 422,
      detail: '请填写不予通过的理由',
    });
    const rejected = await gateway().decide(i.changeId, {
      actor: supervisor,
      approve: false,
      reason: '依据不足',
    });
    expect(rejected.status).toBe('rejected');
    expect((await row(i.changeId))?.decisionReason).toBe('依据不足');
    expect(await hj001()).toEqual(before);
  });

  it('a cause recorded after its deadline already passed is flagged at once; a filing then is late', async () => {
    const start = await startOfTest(env, calendar, '10:00');
    // Twenty calendar days back: well over 7 working days.
    const causeDate = shanghaiDateOf(new Date(start.getTime() - 20 * 24 * HOUR));
    const i = input(causeDate);
    await gateway().recordCause(i);
    const r = await eventually(async () => {
      const x = await row(i.changeId);
      if (!x?.filingOverdueAt) throw new Error('not flagged yet');
      return x;
    });
    expect(r.reminderSentAt).not.toBeNull();
    const filed = await gateway().fileRequest(i.changeId, {
      actor: issuerLiaison,
      request: {
        changeType: 'change',
        itemCode: 'HJ-001',
        item: await proposal('户籍信息证明'),
        basis: '条例修订',
      },
    });
    expect(filed.filedLate).toBe(true);
  });

  it('decision overdue: past the office deadline the request is flagged and the office told; an admin may still decide, and removal deactivates without deleting', async () => {
    const start = await startOfTest(env, calendar, '10:00');
    const i = input(shanghaiDateOf(start));
    await gateway().recordCause(i);
    const filed = await gateway().fileRequest(i.changeId, {
      actor: issuerLiaison,
      request: { changeType: 'remove', itemCode: 'HJ-001', item: null, basis: '事项取消' },
    });
    expect(filed.decisionDueAt).not.toBeNull();
    await sleepUntil(env, new Date(Date.parse(filed.decisionDueAt ?? '') + HOUR));
    const flagged = await eventually(async () => {
      const r = await row(i.changeId);
      if (!r?.decisionOverdueAt) throw new Error('not flagged yet');
      return r;
    });
    expect(flagged.status).toBe('filed');
    const told = await noticesOf(i.changeId, 'catalog_change_decision_overdue');
    expect(told.map((n) => n.recipientUnit)).toEqual(['ZB-LXB']);
    expect(told[0]?.message).toContain('审核时限');

    const before = await hj001();
    const decided = await gateway().decide(i.changeId, { actor: admin, approve: true });
    expect(decided.status).toBe('approved');
    const versions = await database.db.select().from(catalogItems).where(eq(catalogItems.code, 'HJ-001'));
    expect(versions.length).toBeGreaterThanOrEqual(before.version);
    expect(versions.every((v) => !v.active)).toBe(true);
    expect(decided.publishedVersion).toBe(before.version);
  });
});
