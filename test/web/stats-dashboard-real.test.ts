/**
 * The office's assessment dashboard (考核统计) on real figures, end to end: two cases received today are
 * written into the read model by the real projection activity (their snapshots from the pure case machine,
 * as the workflow would project them), so the summary trigger keeps the figures; the page reads them through
 * the real stats routes, and its Excel export is the real workbook, read back with exceljs.
 * (test/web/stats-dashboard.test.ts covers the page's filters and states against a stub of the contract.)
 */
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities } from '../../activities/case-activities.ts';
import type { App } from '../../api/app.ts';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import type { DeadlineResult, ProjectCaseInput } from '../../workflows/activity-contract.ts';
import { numbered, open, register, respond } from '../../workflows/case-machine.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { silentLog, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';
import { caseInput, issuer } from '../workflow/support.ts';
import { hasChromium, launchChromium, login, newUserContext, text, visible } from './browser.ts';

/** Received 20 minutes ago, due in 10: today's Beijing date, not overdue while the test runs. */
const T = Date.now() - 20 * 60_000;
const at = (minutes: number) => new Date(T + minutes * 60_000).toISOString();
const deadline: DeadlineResult = { effectiveReceivedAt: at(0), dueAt: at(30), flags: [], reminderAt: [] };

/** One case's projections: opened, and if `answered`, registered and answered on time. */
function steps(caseId: string, answered: boolean): ProjectCaseInput[] {
  const input = caseInput(caseId, new Date(T));
  const first = open(input, `DOC-${caseId}`, deadline, at(0));
  const out: ProjectCaseInput[] = [{ snapshot: first.state, event: first.event, input }];
  if (!answered) return out;
  let s = first.state;
  for (const [d, when] of [
    [(x: typeof s) => register(x, issuer, at(2)), at(2)],
    [
      (x: typeof s) =>
        respond(
          x,
          issuer,
          { result: 'consistent', fields: {} },
          { answeredAt: at(5), lateWorkingMinutes: 0, waitedWorkingMinutes: 5 },
          at(5),
        ),
      at(5),
    ],
  ] as const) {
    const decision = d(s);
    const effect = decision.effects.find((e) => e.kind === 'record');
    if (effect?.kind !== 'record') throw new Error('no record');
    const next = numbered(decision.state, effect.entry, when);
    out.push({ snapshot: next.state, event: next.event });
    s = next.state;
  }
  return out;
}

describe.skipIf(!hasChromium())('the assessment dashboard on real figures (Chromium)', () => {
  let database: TestDatabase;
  let app: App;
  let baseUrl: string;
  let browser: Browser;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    database = await (databaseTargets()[0] as ReturnType<typeof databaseTargets>[number]).open();
    const activities = createCaseActivities({
      db: database.db,
      calendar: createCalendarSource(database.db),
      subjectKey: TEST_SUBJECT_KEY,
      contentCipher: TEST_CONTENT_CIPHER,
      log: silentLog,
    });
    for (const step of [...steps('stats-real-answered', true), ...steps('stats-real-open', false)])
      await activities.projectCase(step);
    app = await buildAppWithoutTemporal(database);
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.close();
    await database?.dispose();
  }, 60_000);

  it('shows the read model’s figures and exports them', async () => {
    context = await newUserContext(browser, baseUrl);
    const page = await context.newPage();
    await login(page, 'office');
    // The landing page comes after a short timer: wait for it, or its redirect overrides the click.
    await page.waitForURL((u) => u.pathname === '/escalations');
    await page.getByRole('link', { name: '考核统计' }).click();
    await visible(page.getByRole('heading', { name: '考核统计' }));

    expect(await text(await visible(page.getByTestId('kpi-received')))).toMatch(/受理量\s*2\s*件/);
    expect(await text(page.getByTestId('kpi-ontime'))).toContain('按时 1 件，逾期 0 件');
    expect(await text(page.getByTestId('kpi-overdue'))).toMatch(/当前超期\s*0\s*件/);
    expect(await text(page.getByTestId('stats-ranking'))).toContain('淄博市公安局');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /导出 Excel/ }).click(),
    ]);
    const file = await download.path();
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(file);
    const sheet = book.getWorksheet('承办单位');
    if (!sheet) throw new Error('no sheet 承办单位');
    const rows: unknown[][] = [];
    sheet.eachRow((r) => {
      rows.push((r.values as unknown[]).slice(1));
    });
    const ga = rows.find((r) => r.includes('淄博市公安局'));
    // 单位代码, 单位名称, 收到, 按时反馈, 逾期反馈 …
    expect(ga?.slice(0, 5)).toEqual(['ZB-GA', '淄博市公安局', 2, 1, 0]);
  }, 180_000);
});
