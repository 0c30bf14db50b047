/**
 * The office's assessment dashboard (考核统计) in a real browser (Debian's Chromium through playwright-core)
 * against the API app and the built web application, on PGlite with the demo staff.
 *
 * The figures come from a stub of the stats API that this test registers in the browser (Playwright request
 * routing), in the shape of the contract the stats routes implement (GET /api/v1/stats/units, /trend,
 * /units.xlsx, /units.csv): the test is about the page — what it shows, what it asks for, what it downloads —
 * and the stub answers only a request that carries the person's bearer token. It checks: the menu entry for
 * the office and not for a clerk (whose first load carries no ECharts); the KPI cards, the ranking, the trend
 * and the heat map with the stub's figures; the period, tier and unit filters changing the request; both
 * exports downloading under the contract's file name with the filters on screen; the empty state.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page, Response, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../api/app.ts';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import {
  choose,
  eventually,
  hasChromium,
  launchChromium,
  login,
  newUserContext,
  screenshot,
  text,
  visible,
} from './browser.ts';

/** Today's date in Beijing. */
const today = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
}).format(new Date());

const zero = { '30m': 0, '1d': 0, '2d': 0 };
function issuingRow(unitId: string, unitName: string, f: Record<string, unknown>) {
  return {
    unitId,
    unitName,
    received: 0,
    answeredOnTime: 0,
    answeredLate: 0,
    returned: 0,
    reclassified: 0,
    withdrawn: 0,
    open: 0,
    overdueNow: 0,
    overdueByTier: zero,
    onTimeRate: null,
    registerMinutes: { median: null, p90: null },
    answerMinutes: { median: null, p90: null },
    escalations: { level1: 0, level2: 0, byOutcome: {} },
    staffingCompliant: true,
    ...f,
  };
}

/** GET /api/v1/stats/units as the contract shapes it; a unit that issues nothing has no figures. */
function unitsStats(from: string, to: string, unit: string | null) {
  if (unit === 'ZB-SJ')
    return {
      period: { from, to },
      issuing: [],
      requesting: [],
      city: {
        received: 0,
        answeredOnTime: 0,
        answeredLate: 0,
        onTimeRate: null,
        overdueNow: 0,
        answerMinutes: { median: null, p90: null },
      },
      ranking: [],
    };
  const ga = issuingRow('ZB-GA', '淄博市公安局', {
    received: 8,
    answeredOnTime: 6,
    answeredLate: 2,
    overdueNow: 1,
    overdueByTier: { '30m': 1, '1d': 0, '2d': 0 },
    onTimeRate: 0.75,
    answerMinutes: { median: 25, p90: 80 },
  });
  const mz = issuingRow('ZB-MZ', '淄博市民政局', {
    received: 4,
    answeredOnTime: 4,
    overdueNow: 2,
    overdueByTier: { '30m': 0, '1d': 2, '2d': 0 },
    onTimeRate: 1,
    answerMinutes: { median: 300, p90: 420 },
  });
  return {
    period: { from, to },
    issuing: [ga, mz],
    requesting: [
      {
        unitId: 'ZB-RS',
        unitName: '淄博市人力资源和社会保障局',
        sent: 12,
        verificationWaitMinutes: { total: 900, median: 40 },
        mismatchRate: 0.1,
        ledgerFollowUps: 1,
      },
    ],
    city: {
      received: 12,
      answeredOnTime: 10,
      answeredLate: 2,
      onTimeRate: 10 / 12,
      overdueNow: 3,
      answerMinutes: { median: 45, p90: 300 },
    },
    ranking: [
      { rank: 1, unitId: 'ZB-MZ', unitName: '淄博市民政局', onTimeRate: 1, received: 4 },
      { rank: 2, unitId: 'ZB-GA', unitName: '淄博市公安局', onTimeRate: 0.75, received: 8 },
    ],
  };
}

function trendStats(from: string, to: string) {
  const days: unknown[] = [];
  for (
    let d = new Date(`${from}T00:00:00Z`);
    d.toISOString().slice(0, 10) <= to;
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    const date = d.toISOString().slice(0, 10);
    const n = d.getUTCDate() % 3;
    days.push({ date, received: n + 1, answered: n, answeredOnTime: n, onTimeRate: n ? 1 : null });
  }
  return { period: { from, to }, days };
}

const run = hasChromium() ? describe : describe.skip;

run('the office assessment dashboard in a real browser', () => {
  let database: TestDatabase;
  let app: App;
  let baseUrl: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Every request that reached the stub, in order, and those it refused for want of a token. */
  const requests: URL[] = [];
  let refused = 0;

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    database = await (databaseTargets()[0] as ReturnType<typeof databaseTargets>[number]).open();
    app = await buildAppWithoutTemporal(database);
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await app?.close();
    await database?.dispose();
  }, 60_000);

  async function stub(route: Route) {
    const req = route.request();
    const url = new URL(req.url());
    requests.push(url);
    if (!/^Bearer \S+\.\S+\.\S+$/.test(req.headers().authorization ?? '')) {
      refused++;
      return route.fulfill({ status: 401, contentType: 'application/problem+json', body: '{}' });
    }
    const from = url.searchParams.get('from') ?? '';
    const to = url.searchParams.get('to') ?? '';
    const file = /\/units\.(xlsx|csv)$/.exec(url.pathname)?.[1];
    if (file) {
      const name = encodeURIComponent(`考核统计-${from}-${to}.${file}`);
      return route.fulfill({
        status: 200,
        headers: {
          'content-type':
            file === 'csv'
              ? 'text/csv; charset=utf-8'
              : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          'content-disposition': `attachment; filename="stats.${file}"; filename*=UTF-8''${name}`,
        },
        body: file === 'csv' ? '\uFEFF承办单位,收到\n淄博市公安局,8\n' : Buffer.from('PK\u0003\u0004 stub'),
      });
    }
    if (url.pathname === '/api/v1/stats/units')
      return route.fulfill({ json: unitsStats(from, to, url.searchParams.get('unit')) });
    if (url.pathname === '/api/v1/stats/trend') return route.fulfill({ json: trendStats(from, to) });
    return route.fulfill({ status: 404, contentType: 'application/problem+json', body: '{}' });
  }

  /** A page whose JavaScript responses are kept (to look for ECharts in them). */
  const open = async (): Promise<{ page: Page; scripts: Response[] }> => {
    const context = await newUserContext(browser, baseUrl);
    contexts.push(context);
    await context.route((u) => u.pathname.startsWith('/api/v1/stats/'), stub);
    const page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`[browser error] ${err.message}\n`));
    const scripts: Response[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('.js')) scripts.push(r);
    });
    return { page, scripts };
  };
  /** Whether any of these scripts holds ECharts (its heat map series registers this type name). */
  const carriesECharts = async (scripts: Response[]) =>
    (await Promise.all(scripts.map((s) => s.text()))).some((js) => js.includes('series.heatmap'));
  const statsRequest = (page: Page, check: (q: URLSearchParams) => boolean) =>
    page.waitForRequest((r) => {
      const u = new URL(r.url());
      return u.pathname === '/api/v1/stats/units' && check(u.searchParams);
    });

  it('is for the office only; a clerk’s pages carry no ECharts', async () => {
    const { page, scripts } = await open();
    await login(page, 'req-a');
    await page.waitForURL((u) => u.pathname === '/outbox');
    await visible(page.getByRole('heading', { name: '我的协查' }));
    // The live stream stays open, so "network idle" may never come: a short settle is enough.
    await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
    expect(await page.getByRole('link', { name: '考核统计' }).count()).toBe(0);
    expect(scripts.length).toBeGreaterThan(0);
    expect(await carriesECharts(scripts)).toBe(false);
  }, 120_000);

  it('shows the figures, changes the request with the filters, exports with them, and says what to do when empty', async () => {
    const { page, scripts } = await open();
    await login(page, 'office');
    // The landing page comes after a short timer: wait for it, or its redirect overrides the click.
    await page.waitForURL((u) => u.pathname === '/escalations');
    await visible(page.getByRole('heading', { name: '督办事项' }));
    expect(await carriesECharts(scripts)).toBe(false);
    const loadedBefore = scripts.length;

    const first = statsRequest(page, () => true);
    await page.getByRole('link', { name: '考核统计' }).click();
    await visible(page.getByRole('heading', { name: '考核统计' }));
    // The current Beijing month up to today, no tier, no unit.
    const q = new URL((await first).url()).searchParams;
    expect([q.get('from'), q.get('to'), q.get('tier'), q.get('unit')]).toEqual([
      `${today.slice(0, 8)}01`,
      today,
      null,
      null,
    ]);
    expect(await text(page.getByTestId('stats-period'))).toContain(`${today.slice(0, 8)}01 至 ${today}`);

    // KPI cards, percentages formatted; the median is the city's, as the API gives it.
    await eventually(async () => {
      expect(await text(page.getByTestId('kpi-ontime'))).toContain('83.3%');
      expect(await text(page.getByTestId('kpi-ontime'))).toContain('按时 10 件，逾期 2 件');
      expect(await text(page.getByTestId('kpi-overdue'))).toMatch(/当前超期\s*3\s*件/);
      expect(await text(page.getByTestId('kpi-median'))).toContain('45 分钟');
      expect(await text(page.getByTestId('kpi-received'))).toMatch(/受理量\s*12\s*件/);
    });
    // The ranking for 通报, in the API's order.
    const rows = page.getByTestId('stats-ranking').locator('tbody tr.ant-table-row');
    await eventually(async () => {
      expect(await rows.count()).toBe(2);
      const cells = async (i: number) =>
        (await rows.nth(i).locator('td').allTextContents()).map((c) => c.trim());
      // rank, unit, on-time rate, received, on time, late, overdue now, median time to answer
      expect(await cells(0)).toEqual(['1', '淄博市民政局', '100.0%', '4', '4', '0', '2', '5 小时']);
      expect(await cells(1)).toEqual(['2', '淄博市公安局', '75.0%', '8', '6', '2', '1', '25 分钟']);
    });
    // The charts: one entry per day of the period; overdue per unit and tier.
    await eventually(async () => {
      const trend = (await page.getByTestId('stats-trend').getAttribute('aria-label')) ?? '';
      expect(trend.split('；')).toHaveLength(Number(today.slice(8, 10)));
      expect(trend).toContain(`${today}：受理量 `);
      expect(await page.getByTestId('stats-trend').locator('canvas').count()).toBeGreaterThan(0);
      const heat = (await page.getByTestId('stats-heatmap').getAttribute('aria-label')) ?? '';
      expect(heat).toContain('淄博市民政局：30分钟 0，1个工作日 2，2个工作日 0');
      expect(heat).toContain('淄博市公安局：30分钟 1，1个工作日 0，2个工作日 0');
      expect(await page.getByTestId('stats-heatmap').locator('canvas').count()).toBeGreaterThan(0);
    });
    // ECharts came with the dashboard, in scripts loaded for it.
    expect(await carriesECharts(scripts.slice(loadedBefore))).toBe(true);
    await screenshot(page, 'stats-dashboard', true);

    // Filters: each changes the request (the trend's too).
    const byTier = statsRequest(page, (s) => s.get('tier') === '1d');
    await choose(page, page.locator('#stats-tier'), '1个工作日');
    await byTier;
    const byUnit = statsRequest(page, (s) => s.get('tier') === '1d' && s.get('unit') === 'ZB-GA');
    const trendByUnit = page.waitForRequest((r) => {
      const u = new URL(r.url());
      return u.pathname === '/api/v1/stats/trend' && u.searchParams.get('unit') === 'ZB-GA';
    });
    await choose(page, page.locator('#stats-unit'), '淄博市公安局');
    await byUnit;
    await trendByUnit;
    const year = `${today.slice(0, 4)}-01-01`;
    const byYear = statsRequest(page, (s) => s.get('from') === year && s.get('to') === today);
    await page.locator('.ant-segmented-item-label', { hasText: /^年$/ }).click();
    await byYear;
    await eventually(async () =>
      expect(await text(page.getByTestId('stats-period'))).toContain(`${year} 至 ${today}`),
    );

    // Exports: the contract's file name, asked with the filters on screen.
    for (const [button, ext] of [
      [/导出 Excel/, 'xlsx'],
      [/导出 CSV/, 'csv'],
    ] as const) {
      const asked = page.waitForRequest((r) => new URL(r.url()).pathname === `/api/v1/stats/units.${ext}`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: button }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`考核统计-${year}-${today}.${ext}`);
      const s = new URL((await asked).url()).searchParams;
      expect(Object.fromEntries(s)).toEqual({ from: year, to: today, tier: '1d', unit: 'ZB-GA' });
    }

    // A unit with nothing in the period: the empty state says what to do, and its button does it.
    await choose(page, page.locator('#stats-unit'), '淄博市市场监督管理局');
    const empty = await visible(page.getByTestId('stats-empty'));
    expect(await text(empty)).toContain('没有符合条件的协查');
    expect(await text(empty)).toContain('请扩大统计期间');
    await screenshot(page, 'stats-dashboard-empty');
    const cleared = statsRequest(page, (s) => !s.has('tier') && !s.has('unit') && s.get('from') === year);
    await page.getByRole('button', { name: '查看本年全部单位' }).click();
    await cleared;
    await visible(page.getByTestId('kpi-ontime'));
    // Every request carried the person's token (the stub refuses others).
    expect(requests.length).toBeGreaterThan(8);
    expect(refused).toBe(0);
  }, 180_000);
});
