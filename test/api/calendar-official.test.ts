/**
 * A year without an official holiday schedule, through the API: from 60 days before it begins the coverage
 * route, /readyz and /metrics say so; its deadlines are provisional (from the law); the administrator imports the
 * official schedule (pasted table → checked → diff preview → applied), and every open case whose deadline moves
 * is re-timed. On the real dev server and database, with the API's clock fixed.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId, createCaseGateway } from '../../api/services/case-gateway.ts';
import { caseEvents, cases } from '../../db/schema.ts';
import { demoStaffId } from '../../db/seed.ts';
import type { CaseInput } from '../../workflows/definitions.ts';
import { type ApiHarness, createApiHarness, TEST_METRICS_TOKEN, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** A plausible 2027 schedule, with one day the law does not give (Mon 01-04 as a bridge day) to move a case. */
const TABLE_2027 = `# 2027 年部分节假日安排（测试用）
2027-01-01,休,元旦
2027-01-02,休,元旦
2027-01-03,休,元旦
2027-01-04,休,元旦
2027-02-05,休,春节
2027-02-06,休,春节
2027-02-07,休,春节
2027-02-08,休,春节
2027-02-09,休,春节
2027-02-10,休,春节
2027-02-11,休,春节
2027-02-12,休,春节
2027-02-20,班,春节调休上班
2027-04-05,休,清明节
2027-05-01,休,劳动节
2027-05-02,休,劳动节
2027-05-03,休,劳动节
2027-06-09,休,端午节
2027-09-15,休,中秋节
2027-10-01,休,国庆节
2027-10-02,休,国庆节
2027-10-03,休,国庆节
2027-10-04,休,国庆节
2027-10-05,休,国庆节
2027-10-09,班,国庆节调休上班
`;

describe.each(databaseTargets())('a year without an official schedule, on $name', (target) => {
  let h: ApiHarness;
  let admin: string;
  let now = new Date('2026-11-30T02:00:00Z'); // 10:00 Beijing, 32 days before 2027
  beforeAll(async () => {
    h = await createApiHarness(env, target, { clock: () => now });
    admin = await h.login('admin');
  });
  afterAll(async () => {
    await h?.close();
  });
  const as = (auth: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    h.app.inject({ method, url, headers: { authorization: auth }, ...(payload ? { payload } : {}) });

  it('is announced from 60 days before it begins: coverage route, /readyz warnings and /metrics', async () => {
    now = new Date('2026-10-31T02:00:00Z'); // 62 days before: nothing yet
    expect((await h.app.inject({ url: '/api/v1/calendar/coverage' })).json().gap).toBeNull();
    expect((await h.app.inject({ url: '/readyz' })).json().warnings).toBeUndefined();

    now = new Date('2026-11-30T02:00:00Z');
    const coverage = (await h.app.inject({ url: '/api/v1/calendar/coverage' })).json();
    expect(coverage.gap).toMatchObject({ year: 2027, daysUntil: 32 });
    expect(coverage.gap.message).toContain('2027 年度官方放假安排尚未导入');
    const ready = await h.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200); // a warning, not a failure
    expect(ready.json().warnings.calendar).toContain('2027');
    const metrics = await h.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('xiecha_calendar_uncovered_year_days_until{year="2027"} 32');
    expect(metrics.body).toMatch(/xiecha_calendar_last_covered_year 2026\n/);
  });

  it('counts 2027 provisionally from the law: 1d received Thu 2026-12-31 is due Mon 2027-01-04, flagged', async () => {
    const res = await h.app.inject({
      url: `/api/v1/deadline-preview?tier=1d&receivedAt=${encodeURIComponent('2026-12-31T10:00:00+08:00')}`,
    });
    expect(res.json()).toMatchObject({ dueAt: '2027-01-04T09:30:00.000Z', flags: ['calendar_provisional'] });
  });

  it('refuses a bad table, naming the lines', async () => {
    const res = await as(admin, 'POST', '/api/v1/admin/calendar/official/2027/preview', {
      table:
        '2027-01-01,休,元旦\n2027-02-30,休,春节\n2026-12-31,休,元旦\n2027-01-01,休,元旦\n2027-03-01,上午,x',
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const details = res
      .json()
      .errors.map((e: { pointer: string; detail: string }) => `${e.pointer} ${e.detail}`);
    expect(details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/body\/table 第 5 行.*“休”或“班”/),
        expect.stringMatching(/^\/body\/table 第 2 行.*2027-02-30/),
        expect.stringMatching(/^\/body\/table 第 3 行.*不在 2027 年度/),
        expect.stringMatching(/^\/body\/table 第 4 行.*重复/),
      ]),
    );
    const forbidden = await as(
      await h.login('office'),
      'POST',
      '/api/v1/admin/calendar/official/2027/preview',
      {
        table: TABLE_2027,
      },
    );
    expect(forbidden.statusCode).toBe(403);
  });

  it('previews the import as a diff, then applies it and re-times an open case whose deadline moves', async () => {
    // An open case received on 2026-12-31 (before the import): provisionally due Mon 2027-01-04 17:30.
    const caseId = caseWorkflowId('ZB-RS', `official-${randomUUID()}`);
    const input: CaseInput = {
      caseId,
      requestingUnit: 'ZB-RS',
      issuingUnit: 'ZB-GA',
      catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
      subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
      tier: '1d',
      createdBy: { staffId: demoStaffId('req-a'), name: '王芳', unitCode: 'ZB-RS', role: 'agent' },
      requestedAt: '2026-12-31T02:00:00.000Z',
    };
    const opened = await createCaseGateway(env.client, h.worker.options.taskQueue).start(input, caseId);
    expect(opened.routing.dueAt).toBe('2027-01-04T09:30:00.000Z');
    expect(opened.routing.flags).toContain('calendar_provisional');

    const preview = await as(admin, 'POST', '/api/v1/admin/calendar/official/2027/preview', {
      table: TABLE_2027,
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const p = preview.json();
    expect(p.warnings).toEqual([]);
    // Bridge days off, make-up Saturdays on; the law's own days are unchanged except for their status.
    expect(p.changes).toContainEqual({
      date: '2027-01-04',
      before: { working: true, name: null, provisional: true },
      after: { working: false, name: '元旦' },
    });
    expect(p.changes).toContainEqual({
      date: '2027-02-20',
      before: { working: false, name: null, provisional: true },
      after: { working: true, name: '春节调休上班' },
    });
    expect(p.changes.map((c: { date: string }) => c.date)).not.toContain('2027-02-05');
    expect(p.openCasesAffected).toBeGreaterThanOrEqual(1);

    // Preview changed nothing.
    expect((await h.app.inject({ url: '/api/v1/calendar/coverage' })).json().gap?.year).toBe(2027);

    const applied = await as(admin, 'PUT', '/api/v1/admin/calendar/official/2027', { table: TABLE_2027 });
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json().retime.signalled).toBeGreaterThanOrEqual(1);

    // 2027 is covered: no warning, deadlines no longer provisional.
    expect((await h.app.inject({ url: '/api/v1/calendar/coverage' })).json().gap).toBeNull();
    const previewAfter = await h.app.inject({
      url: `/api/v1/deadline-preview?tier=1d&receivedAt=${encodeURIComponent('2026-12-31T10:00:00+08:00')}`,
    });
    expect(previewAfter.json()).toMatchObject({ dueAt: '2027-01-05T09:30:00.000Z', flags: [] });

    // The open case is re-timed to Tue 01-05 17:30, once.
    let row: { dueAt: Date } | undefined;
    for (let i = 0; i < 150; i++) {
      [row] = await h.database.db.select({ dueAt: cases.dueAt }).from(cases).where(eq(cases.id, caseId));
      if (row?.dueAt.toISOString() === '2027-01-05T09:30:00.000Z') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row?.dueAt.toISOString()).toBe('2027-01-05T09:30:00.000Z');
    const retimed = (
      await h.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, caseId))
    ).filter((e) => e.type === 'retimed');
    expect(retimed).toHaveLength(1);

    const list = await as(admin, 'GET', '/api/v1/admin/calendar/official');
    expect(list.json().items).toEqual([
      expect.objectContaining({ year: 2027, days: 25, importedBy: demoStaffId('admin') }),
    ]);
  });
});
