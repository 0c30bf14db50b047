/**
 * Assessment figures (Art. 13) through the real system with time skipping: a known set of cases driven
 * through the API and the real workflow (on time, late, returned and re-routed, reclassified, escalated
 * twice, across a holiday, withdrawn, still open and overdue), then every figure asserted exactly in the
 * JSON, the XLSX (read back with exceljs) and the CSV; the month's rows and the days' rows agree; the
 * summaries the trigger kept equal a rebuild from the rows, also after projections are repeated; only
 * supervisors and administrators see them.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALENDAR_VERSION_KEY,
  createCalendarSource,
  loadCalendar,
} from '../../activities/calendar-source.ts';
import { createCaseActivities, reprojectCase } from '../../activities/case-activities.ts';
import { deadlineWithReminders } from '../../activities/opening.ts';
import { addCalendarDays, shanghaiDateOf, workingDaysAfter } from '../../domain/working-time/index.ts';
import {
  type CaseSnapshot,
  DEFAULT_REMINDER_FRACTIONS,
  openedUpdate,
  snapshotQuery,
} from '../../workflows/definitions.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import {
  createTimeSkippingEnv,
  silentLog,
  TEST_CONTENT_CIPHER,
  TEST_SUBJECT_KEY,
  uniqueTaskQueue,
} from '../support/temporal.ts';
import { eventually, MINUTE, sleepUntil, startOfTest } from '../workflow/support.ts';

/**
 * One time-skipping server per database target: the scenario starts on a working day after the server's
 * clock, so a server an earlier target's run has moved on by weeks would make the second run wait on it.
 */
let env: TestWorkflowEnvironment;

const ANSWER = { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } };
const OUTCOME_1 = '已督促出具单位办结';
const OUTCOME_2 = '已建议约谈相关责任人';
/** The 督办办结结果 cell: outcomes in code-point order with their counts. */
const OUTCOMES_TEXT = (
  [
    [OUTCOME_1, 1],
    [OUTCOME_2, 2],
  ] as const
)
  .slice()
  .sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([o, count]) => `${o}：${count}`)
  .join('；');

type Json = Record<string, unknown>;

describe.each(databaseTargets())('assessment figures on $name', (target) => {
  let h: ApiHarness;
  let reqA: string;
  let reqB: string;
  let issA: string;
  let issB: string;
  let office: string;
  let admin: string;
  /** The receipt of every case (D0 10:00 Beijing), the holiday after it and the working day after that. */
  let t0: Date;
  let d0: string;
  let d2: string;
  /** The test server's time as last moved to, and when (real time): the API's clock follows it. */
  let serverAt = new Date();
  let realAt = Date.now();
  const ids: Record<string, string> = {};
  let n = 0;
  const taskQueue = uniqueTaskQueue('stats');

  const at = async (minutes: number) => {
    const when = new Date(t0.getTime() + minutes * MINUTE);
    await sleepUntil(env, when);
    serverAt = when;
    realAt = Date.now();
  };
  const inject = (method: 'GET' | 'POST' | 'PUT', auth: string, url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: {
        authorization: auth,
        ...(method === 'POST' ? { 'idempotency-key': `stats-${++n}-${Date.now()}` } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
  const ok = async (res: { statusCode: number; body: string; json: () => unknown }, status = 200) => {
    expect(res.statusCode, res.body).toBe(status);
    return res.json() as Json;
  };
  const act = (auth: string, name: string, action: string, body: unknown = {}) =>
    inject('POST', auth, `/api/v1/verifications/${ids[name]}/${action}`, body).then((r) => ok(r));
  const escalationRows = async (name: string) =>
    (
      (await h.database.db.execute(
        sql`select id, level, status from escalations where case_id = ${ids[name]} order by id`,
      )) as unknown as { rows: { id: string; level: number; status: string }[] }
    ).rows;
  const summaries = async () =>
    (
      (await h.database.db.execute(sql`
        select 'c' as t, side || '|' || span || '|' || start || '|' || unit || '|' || tier as k,
          concat_ws(',', received, answered_on_time, answered_late, returned, reclassified, withdrawn, open,
            mismatched, wait_minutes) as v
        from stat_counts
        where received <> 0 or answered_on_time <> 0 or answered_late <> 0 or returned <> 0 or reclassified <> 0
          or withdrawn <> 0 or open <> 0 or mismatched <> 0 or wait_minutes <> 0
        union all
        select 'm', measure || '|' || span || '|' || start || '|' || unit || '|' || tier || '|' || bucket, n::text
        from stat_minutes where n <> 0
        union all
        select 'e', span || '|' || start || '|' || unit || '|' || tier || '|' || level || '|' || outcome, n::text
        from stat_escalations where n <> 0
        order by 1, 2`)) as unknown as { rows: { t: string; k: string; v: string }[] }
    ).rows;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    h = await createApiHarness(env, target, {
      taskQueue,
      clock: () => new Date(serverAt.getTime() + (Date.now() - realAt)),
      // Every case is received at t0 (the API would stamp the real time, which the test server left
      // behind), with the deadline the API works out for it; started and opened as the gateway does.
      wrapGateway: (g) => ({
        ...g,
        start: async (input) => {
          const calendar = createCalendarSource(h.database.db);
          const requestedAt = t0.toISOString();
          const fixed = {
            ...input,
            requestedAt,
            opening: {
              docNumber: input.opening?.docNumber ?? `DOC-${input.caseId}`,
              deadline: await deadlineWithReminders(calendar, {
                receivedAt: requestedAt,
                tier: input.tier,
                reminderFractions: [...DEFAULT_REMINDER_FRACTIONS],
              }),
            },
          };
          await env.client.workflow.start('verificationCase', {
            workflowId: input.caseId,
            taskQueue,
            args: [fixed],
          });
          return env.client.workflow.getHandle(input.caseId).executeUpdate(openedUpdate);
        },
      }),
    });
    [reqA, reqB, issA, issB, office, admin] = await Promise.all([
      h.login('req-a'),
      h.login('req-b'),
      h.login('iss-a'),
      h.login('iss-b'),
      h.login('office'),
      h.login('admin'),
    ]);
    const { data } = await loadCalendar(h.database.db);
    t0 = await startOfTest(env, data, '10:00');
    serverAt = t0;
    realAt = Date.now();
    d0 = shanghaiDateOf(t0);
    // The next working day becomes a holiday: the 1-day cases run across it. Written as the administrators'
    // route writes it (a day row and a new calendar version), without its re-timing workflow: there is no
    // case to re-time yet, and waiting on a workflow would let the time-skipping server jump ahead.
    const d1 = workingDaysAfter(t0, 1, data).date;
    await h.database.db.execute(
      sql`insert into calendar_days (date, kind, name, updated_by) values (${d1}, 'off', '测试假日', 'stf-admin')`,
    );
    await h.database.db.execute(sql`
      insert into system_meta (key, value) values (${CALENDAR_VERSION_KEY}, ${JSON.stringify(`stats-${d1}`)}::jsonb)
      on conflict (key) do update set value = excluded.value, updated_at = now()`);
    d2 = workingDaysAfter(t0, 1, (await loadCalendar(h.database.db)).data).date;
    expect(d2 > d1).toBe(true);

    const start = async (name: string, auth: string, overrides: Json = {}) => {
      const c = await ok(await inject('POST', auth, '/api/v1/verifications', startBody(overrides)), 201);
      ids[name] = c.id as string;
    };
    // A, B on time; C late (escalated once); D returned by 公安 and answered by 民政; E reclassified to
    // 1 working day; F escalated twice; G still open and overdue; H (1 working day) across the holiday;
    // I withdrawn; J from another requesting unit, answered 不一致.
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'I']) await start(name, reqA);
    await start('H', reqA, { tier: '1d', tierReason: '需调阅历史户籍档案' });
    await start('J', reqB);

    await at(5);
    await act(issA, 'D', 'return', { reason: '该信息由民政部门掌握', suggestedUnit: 'ZB-MZ' });
    await act(reqA, 'I', 'withdraw', { reason: '申请人撤回办件' });
    await act(issA, 'E', 'register');
    await at(10);
    for (const name of ['A', 'B', 'C', 'F', 'G', 'J']) await act(issA, name, 'register');
    await act(issA, 'E', 'reclassify', { tier: '1d', reason: '需人工调档核查' });
    await at(15);
    await act(reqA, 'D', 'reroute', { issuingUnit: 'ZB-MZ', note: '改派民政局' });
    await act(issA, 'J', 'respond', { ...ANSWER, result: 'inconsistent' });
    await at(20);
    await act(issA, 'A', 'respond', ANSWER);
    await act(issB, 'D', 'register');
    await at(25);
    await act(issA, 'B', 'respond', ANSWER);
    await at(30);
    await act(issA, 'H', 'register');
    await at(35);
    // The deadlines of C, F and G passed at +30: level 1.
    await eventually(async () => expect(await escalationRows('F')).toHaveLength(1));
    await ok(
      await inject('POST', office, `/api/v1/escalations/${ids.F}:1/order`, {
        dueAt: new Date(t0.getTime() + 70 * MINUTE).toISOString(),
        note: '责成今日11:10前办结',
      }),
    );
    await at(40);
    await act(issB, 'D', 'respond', ANSWER);
    await at(50);
    await act(issA, 'C', 'respond', ANSWER);
    await at(60);
    await act(issA, 'E', 'respond', ANSWER);
    await at(90);
    // F's order passed at +70: level 2.
    await eventually(async () => expect(await escalationRows('F')).toHaveLength(2));
    await act(issA, 'F', 'respond', ANSWER);
    await at(95);
    // Closing the ladder is one act with one outcome: F's close ends both of its levels.
    for (const [id, outcome] of [
      [`${ids.C}:1`, OUTCOME_1],
      [`${ids.F}:2`, OUTCOME_2],
    ] as const)
      await ok(await inject('POST', office, `/api/v1/escalations/${id}/close`, { outcome }));
    await ok(
      await inject('POST', reqA, `/api/v1/verifications/${ids.A}/ledger`, {
        kind: 'note',
        note: '核验一致，归档',
      }),
      201,
    );
    await ok(
      await inject('POST', reqB, `/api/v1/verifications/${ids.J}/ledger`, {
        kind: 'supplement_requested',
        note: '请申请人补正户籍地址',
      }),
      201,
    );
    // D2 10:00: H is answered, 420 working minutes after its receipt (360 on D0, none on the holiday).
    const d2At10 = new Date(`${d2}T02:00:00Z`);
    await at((d2At10.getTime() - t0.getTime()) / MINUTE);
    await act(issA, 'H', 'respond', ANSWER);
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    await env?.teardown();
  });

  const units = (auth: string, query = '') => inject('GET', auth, `/api/v1/stats/units${query}`);

  const GA = {
    unitId: 'ZB-GA',
    unitName: '淄博市公安局',
    received: 10,
    answeredOnTime: 5,
    answeredLate: 2,
    returned: 1,
    reclassified: 1,
    withdrawn: 1,
    open: 1,
    overdueNow: 1,
    overdueByTier: { '30m': 1, '1d': 0, '2d': 0 },
    onTimeRate: 5 / 7,
    // Registered after 5 (E), 10 (A, B, C, F, G, J) and 30 (H) minutes.
    registerMinutes: { median: 10, p90: 30 },
    // Answered after 15 (J), 20, 25, 50, 60, 90 and 420 (H, across the holiday) minutes.
    answerMinutes: { median: 50, p90: 420 },
    escalations: { level1: 3, level2: 1, byOutcome: { [OUTCOME_1]: 1, [OUTCOME_2]: 2 } },
    staffingCompliant: true,
  };
  const MZ = {
    unitId: 'ZB-MZ',
    unitName: '淄博市民政局',
    received: 1,
    answeredOnTime: 1,
    answeredLate: 0,
    returned: 0,
    reclassified: 0,
    withdrawn: 0,
    open: 0,
    overdueNow: 0,
    overdueByTier: { '30m': 0, '1d': 0, '2d': 0 },
    onTimeRate: 1,
    // Re-routed at +15, registered at +20, answered at +40.
    registerMinutes: { median: 5, p90: 5 },
    answerMinutes: { median: 25, p90: 25 },
    escalations: { level1: 0, level2: 0, byOutcome: {} },
    staffingCompliant: true,
  };
  const requestingRow = (unitId: string, unitName: string, extra: Json = {}) => ({
    unitId,
    unitName,
    sent: 0,
    verificationWaitMinutes: { total: 0, median: null },
    mismatchRate: null,
    ledgerFollowUps: 0,
    ...extra,
  });
  const REQUESTING = [
    requestingRow('ZB-GA', '淄博市公安局'),
    requestingRow('ZB-MZ', '淄博市民政局'),
    // Waits: A 20, B 25, C 50, D 5 + 25 (not the 10 minutes it sat returned), E 60, F 90, H 420, I 5.
    requestingRow('ZB-RS', '淄博市人力资源和社会保障局', {
      sent: 9,
      verificationWaitMinutes: { total: 700, median: 30 },
      mismatchRate: 0,
      ledgerFollowUps: 1,
    }),
    requestingRow('ZB-SJ', '淄博市市场监督管理局', {
      sent: 1,
      verificationWaitMinutes: { total: 15, median: 15 },
      mismatchRate: 1,
      ledgerFollowUps: 1,
    }),
  ];
  const CITY = {
    received: 10,
    answeredOnTime: 6,
    answeredLate: 2,
    onTimeRate: 0.75,
    overdueNow: 1,
    // Every issuing unit's answers merged: GA's 15, 20, 25, 50, 60, 90, 420 and MZ's 25 minutes.
    answerMinutes: { median: 25, p90: 420 },
  };
  const RANKING = [
    { rank: 1, unitId: 'ZB-MZ', unitName: '淄博市民政局', onTimeRate: 1, received: 1 },
    { rank: 2, unitId: 'ZB-GA', unitName: '淄博市公安局', onTimeRate: 5 / 7, received: 10 },
  ];

  it('every figure of the period, exactly', async () => {
    await eventually(async () => {
      const body = await ok(await units(office, `?from=${d0}&to=${d0}`));
      expect(body).toEqual({
        period: { from: d0, to: d0 },
        issuing: [GA, MZ],
        requesting: REQUESTING,
        city: CITY,
        ranking: RANKING,
        complaints: [],
      });
    });
  });

  it('the month (whole-month rows) and a ragged period (day rows) say the same', async () => {
    const monthStart = `${d0.slice(0, 8)}01`;
    const nextMonth = addCalendarDays(`${d0.slice(0, 8)}28`, 7).slice(0, 8);
    const monthEnd = addCalendarDays(`${nextMonth}01`, -1);
    const month = await ok(await units(admin, `?from=${monthStart}&to=${monthEnd}`));
    expect(month.issuing).toEqual([GA, MZ]);
    expect(month.city).toEqual(CITY);
    const ragged = await ok(
      await units(office, `?from=${addCalendarDays(d0, -40)}&to=${addCalendarDays(d0, 40)}`),
    );
    expect(ragged.issuing).toEqual([GA, MZ]);
    expect(ragged.requesting).toEqual(REQUESTING);
    // The day before has nothing.
    const before = await ok(
      await units(office, `?from=${addCalendarDays(d0, -1)}&to=${addCalendarDays(d0, -1)}`),
    );
    expect(before.city).toEqual({
      received: 0,
      answeredOnTime: 0,
      answeredLate: 0,
      onTimeRate: null,
      overdueNow: 0,
      answerMinutes: { median: null, p90: null },
    });
    expect(before.ranking).toEqual([]);
  });

  it('filters by tier and by unit', async () => {
    const slow = await ok(await units(office, `?from=${d0}&to=${d0}&tier=1d`));
    // E (reclassified to 1 working day) and H.
    expect((slow.issuing as Json[]).find((r) => r.unitId === 'ZB-GA')).toMatchObject({
      received: 2,
      answeredOnTime: 2,
      answeredLate: 0,
      reclassified: 1,
      overdueNow: 0,
      registerMinutes: { median: 5, p90: 30 },
      answerMinutes: { median: 60, p90: 420 },
      escalations: { level1: 0, level2: 0, byOutcome: {} },
    });
    expect(slow.city).toEqual({
      received: 2,
      answeredOnTime: 2,
      answeredLate: 0,
      onTimeRate: 1,
      overdueNow: 0,
      answerMinutes: { median: 60, p90: 420 },
    });
    const mz = await ok(await units(office, `?from=${d0}&to=${d0}&unit=ZB-MZ`));
    expect(mz.issuing).toEqual([MZ]);
    expect(mz.requesting).toEqual([requestingRow('ZB-MZ', '淄博市民政局')]);
    expect(mz.city).toEqual(CITY);
  });

  it('the trend has one entry per day', async () => {
    const from = addCalendarDays(d0, -1);
    const to = addCalendarDays(d0, 1);
    const trend = await ok(await inject('GET', office, `/api/v1/stats/trend?from=${from}&to=${to}`));
    const empty = { received: 0, answered: 0, answeredOnTime: 0, onTimeRate: null };
    expect(trend).toEqual({
      period: { from, to },
      days: [
        { date: from, ...empty },
        { date: d0, received: 10, answered: 8, answeredOnTime: 6, onTimeRate: 0.75 },
        { date: to, ...empty },
      ],
    });
    const ga = await ok(await inject('GET', office, `/api/v1/stats/trend?from=${d0}&to=${d0}&unit=ZB-GA`));
    expect(ga.days).toEqual([{ date: d0, received: 10, answered: 7, answeredOnTime: 5, onTimeRate: 5 / 7 }]);
  });

  it('the default period is the current Beijing month up to today', async () => {
    const today = shanghaiDateOf(new Date(serverAt.getTime() + (Date.now() - realAt)));
    const body = await ok(await units(office));
    expect(body.period).toEqual({ from: `${today.slice(0, 8)}01`, to: today });
  });

  it('the XLSX has the four views with the same figures', async () => {
    const res = await inject('GET', office, `/api/v1/stats/units.xlsx?from=${d0}&to=${d0}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="stats-${d0}-${d0}.xlsx"; filename*=UTF-8''${encodeURIComponent(`考核统计-${d0}-${d0}.xlsx`)}`,
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as Parameters<typeof wb.xlsx.load>[0]);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['承办单位', '申请单位', '全市', '排名']);
    const rows = (name: string) => {
      const out: unknown[][] = [];
      wb.getWorksheet(name)?.eachRow((row) => {
        out.push(Array.from({ length: row.cellCount }, (_, i) => row.getCell(i + 1).value ?? null));
      });
      return out;
    };
    const issuing = rows('承办单位');
    expect(issuing[0]?.slice(0, 6)).toEqual([
      '单位代码',
      '单位名称',
      '收件数',
      '按时反馈',
      '超时反馈',
      '按时反馈率',
    ]);
    expect(issuing.slice(1)).toEqual([
      [
        'ZB-GA',
        '淄博市公安局',
        10,
        5,
        2,
        5 / 7,
        1,
        1,
        1,
        1,
        1,
        1,
        0,
        0,
        10,
        30,
        50,
        420,
        3,
        1,
        OUTCOMES_TEXT,
        '达标',
      ],
      ['ZB-MZ', '淄博市民政局', 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 25, 25, 0, 0, null, '达标'],
    ]);
    expect(wb.getWorksheet('承办单位')?.getRow(2).getCell(6).numFmt).toBe('0.0%');
    expect(rows('申请单位').slice(1)).toEqual([
      ['ZB-GA', '淄博市公安局', 0, 0, null, null, 0],
      ['ZB-MZ', '淄博市民政局', 0, 0, null, null, 0],
      ['ZB-RS', '淄博市人力资源和社会保障局', 9, 700, 30, 0, 1],
      ['ZB-SJ', '淄博市市场监督管理局', 1, 15, 15, 1, 1],
    ]);
    const city = rows('全市');
    const value = (label: string) => city.find((r) => r[0] === label)?.[1];
    expect(value('统计期间')).toBe(`${d0} 至 ${d0}（北京时间，按收件日期）`);
    expect([
      value('收件数'),
      value('按时反馈'),
      value('超时反馈'),
      value('按时反馈率'),
      value('当前超时'),
    ]).toEqual([10, 6, 2, 0.75, 1]);
    expect(city.find((r) => r[0] === d0)).toEqual([d0, 10, 8, 6, 0.75]);
    expect(rows('排名')).toEqual([
      ['名次', '单位代码', '单位名称', '按时反馈率', '收件数'],
      [1, 'ZB-MZ', '淄博市民政局', 1, 1],
      [2, 'ZB-GA', '淄博市公安局', 5 / 7, 10],
    ]);
  });

  it('the CSV is the 承办单位 view with a BOM', async () => {
    const res = await inject('GET', admin, `/api/v1/stats/units.csv?from=${d0}&to=${d0}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain(encodeURIComponent(`考核统计-${d0}-${d0}.csv`));
    const text = res.rawPayload.toString('utf8');
    expect(text.startsWith('\uFEFF单位代码,单位名称,收件数,按时反馈,超时反馈,按时反馈率,')).toBe(true);
    expect(text.split('\r\n').slice(1)).toEqual([
      `ZB-GA,淄博市公安局,10,5,2,71.4%,1,1,1,1,1,1,0,0,10,30,50,420,3,1,${OUTCOMES_TEXT},达标`,
      'ZB-MZ,淄博市民政局,1,1,0,100.0%,0,0,0,0,0,0,0,0,5,5,25,25,0,0,,达标',
      '',
    ]);
  });

  it('the summaries equal a rebuild from the rows, also after projections are repeated', async () => {
    const kept = await summaries();
    expect(kept.length).toBeGreaterThan(0);
    // A repeated projection of each case's latest step (at-least-once) and a repair from its snapshot.
    const activities = createCaseActivities({
      db: h.database.db,
      calendar: createCalendarSource(h.database.db),
      subjectKey: TEST_SUBJECT_KEY,
      contentCipher: TEST_CONTENT_CIPHER,
      log: silentLog,
    });
    for (const name of Object.keys(ids)) {
      const handle = env.client.workflow.getHandle(ids[name] as string);
      const snapshot: CaseSnapshot = await handle.query(snapshotQuery);
      await activities.projectCase({
        snapshot,
        event: { seq: snapshot.seq, type: 'repeated', at: new Date(serverAt).toISOString() },
      });
      const { runId } = await handle.describe();
      await reprojectCase(
        h.database.db,
        { subjectKey: TEST_SUBJECT_KEY, contentCipher: TEST_CONTENT_CIPHER },
        { snapshot, runId },
      );
    }
    expect(await summaries()).toEqual(kept);
    await h.database.db.execute(sql`select stats_rebuild()`);
    expect(await summaries()).toEqual(kept);
  });

  it('only supervisors and administrators; refusals are audited', async () => {
    for (const auth of [reqA, issA]) {
      for (const path of ['units', 'units.xlsx', 'units.csv', 'trend']) {
        const res = await inject('GET', auth, `/api/v1/stats/${path}`);
        expect(res.statusCode, path).toBe(403);
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
    }
    const denied = (
      (await h.database.db.execute(
        sql`select count(*)::int as n from audit_log where action = 'stats.read' and outcome = 'denied'`,
      )) as unknown as { rows: { n: number }[] }
    ).rows[0]?.n;
    expect(denied).toBe(8);
  });

  it('bad dates are a 400 naming the field; a reversed period a 422 in Chinese', async () => {
    const bad = await units(office, '?from=2026-02-30');
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json().errors)).toContain('/querystring/from');
    const word = await units(office, '?to=tomorrow');
    expect(word.statusCode).toBe(400);
    expect(JSON.stringify(word.json().errors)).toContain('/querystring/to');
    const reversed = await units(office, `?from=${d0}&to=${addCalendarDays(d0, -1)}`);
    expect(reversed.statusCode).toBe(422);
    expect(reversed.json().detail).toBe('起始日期不能晚于截止日期');
    const tooLong = await inject('GET', office, `/api/v1/stats/trend?from=2020-01-01&to=2026-01-01`);
    expect(tooLong.statusCode).toBe(422);
  });
});
