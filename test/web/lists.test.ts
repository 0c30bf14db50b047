/**
 * Issue 14 item 6 (and item 12's "a returned case leaves the issuer's open list") in a real browser (Debian's
 * Chromium through playwright-core) against the embedded system: the lists as clerks expect them.
 *
 *   - the issuer's inbox at 1440 px: tabs with their counts (待办, 待认领, 我承办的, 已办), the case the unit
 *     returned only under 已办, the assignee column (经办人), 文号 and headers on one line, a row's buttons in
 *     one row;
 *   - the search bar narrows the rows, the total and the tab counts (文号 in part, 核验对象, 事项);
 *   - column settings hide a column and are remembered after a reload;
 *   - 导出 Excel downloads the current list with its filters, read back with exceljs;
 *   - a liaison selects rows and registers them at once (the bulk register of the API);
 *   - the requester's list at 390 px (cards, pager, nothing wider than the screen).
 *
 * Screenshots: test-results/issue14/item6-*.png, at 1440 and 390 px.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { type EmbeddedProcess, spawnEmbedded, stopEmbedded, waitReady } from '../support/embedded-process.ts';
import {
  choose,
  eventually,
  hasChromium,
  launchChromium,
  login,
  newUserContext,
  PHONE,
  residentId,
  systemApi,
  text,
  visible,
} from './browser.ts';

const WIDE = { width: 1440, height: 900 };
const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue14');

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({
    path: path.join(SHOTS, `item6-${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}

/** The lines an element's text takes (distinct tops of its text boxes). */
async function lineCounts(locator: Locator): Promise<{ text: string; lines: number }[]> {
  return locator.evaluateAll((els) =>
    els.map((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set(
        [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)),
      );
      return { text: el.textContent ?? '', lines: tops.size };
    }),
  );
}

const run = hasChromium() ? describe : describe.skip;

run('issue 14 item 6 in a real browser: lists as clerks expect them', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-lists-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const tokens: Record<string, string> = {};
  const errors: string[] = [];
  const docs: Record<string, string> = {};

  const api = systemApi(() => system.baseUrl, tokens, 'lists');

  const startCase = async (key: string, catalogCode: string, name: string, idFirst17: string) => {
    const res = await api('req-a', 'POST', '/api/v1/verifications', {
      catalogCode,
      subject: { kind: 'person', name, idNumber: residentId(idFirst17) },
      fields:
        catalogCode === 'HJ-001'
          ? { declaredAddress: '淄博市张店区人民西路 1 号' }
          : { period: '2016年至今' },
      purpose: '社会保险参保登记',
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    docs[key] = res.json.docNumber as string;
    return res.json.id as string;
  };

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, {});
    await waitReady(system, 180_000);
    browser = await launchChromium();
    for (const u of ['req-a', 'iss-a', 'iss-a-lia']) {
      const res = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u, password: 'demo1234' }),
      });
      expect(res.status).toBe(200);
      tokens[u] = ((await res.json()) as { token: string }).token;
    }
    // Six cases to 淄博市公安局: two about 张 (one of them a 无犯罪记录证明), one registered by 郑伟, one returned.
    await startCase('zhang1', 'HJ-001', '张三', '37030319900101001');
    await startCase('zhang2', 'WF-002', '张伟', '37030319900101002');
    await startCase('li', 'HJ-001', '李四', '37030319900101003');
    await startCase('wang', 'HJ-001', '王五', '37030319900101004');
    const registered = await startCase('zhao', 'HJ-001', '赵六', '37030319900101005');
    const returned = await startCase('sun', 'HJ-001', '孙七', '37030319900101006');
    expect((await api('iss-a', 'POST', `/api/v1/verifications/${registered}/register`, {})).status).toBe(200);
    const ret = await api('iss-a', 'POST', `/api/v1/verifications/${returned}/return`, {
      reason: '该事项不属于本单位职责',
    });
    expect(ret.status, JSON.stringify(ret.json)).toBe(200);
  }, 300_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  const open = async (viewport = WIDE): Promise<Page> => {
    const context = await newUserContext(browser, system.baseUrl, viewport);
    // Six sessions share two cores here: give a loaded machine time to draw the page.
    context.setDefaultTimeout(60_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    return page;
  };

  const rows = (page: Page) => page.locator('[data-testid="inbox"] tbody tr.ant-table-row');
  const rowDocs = async (page: Page) =>
    (await page.locator('[data-testid="inbox"] tbody tr.ant-table-row .doc-link').allTextContents()).map(
      (s) => s.trim(),
    );
  const tabCount = async (page: Page, key: string) => text(page.locator(`[data-tab="${key}"] .tab-count`));
  const total = (page: Page) => text(page.getByTestId('list-total'));

  it('the inbox at 1440 px: tab counts, the returned case under 已办 only, 经办人, 文号 and buttons on one line', async () => {
    const page = await open();
    await login(page, 'iss-a');
    await page.goto('/inbox');
    await visible(page.getByTestId('inbox'));
    // 待办: the five still to register or answer; the returned case is no longer the unit's to do.
    await eventually(async () => {
      expect(await tabCount(page, 'open')).toBe('5');
      expect(await tabCount(page, 'unclaimed')).toBe('4');
      expect(await tabCount(page, 'mine')).toBe('1');
      expect(await tabCount(page, 'done')).toBe('1');
      expect(await rows(page).count()).toBe(5);
    });
    expect(await rowDocs(page)).not.toContain(docs.sun);
    expect(await total(page)).toBe('共 5 条');

    // 经办人: the assignee's name, or 未认领.
    await visible(page.locator('[data-testid="inbox"] th', { hasText: '经办人' }));
    const zhaoRow = rows(page).filter({ hasText: docs.zhao as string });
    expect(await text(zhaoRow)).toContain('郑伟');
    expect(await text(rows(page).filter({ hasText: docs.li as string }))).toContain('未认领');

    // One line for each 文号 and each header; a row's buttons side by side.
    const docLines = await lineCounts(page.locator('[data-testid="inbox"] tbody .doc-link'));
    expect(docLines).toHaveLength(5);
    for (const d of docLines) expect(d.lines, `${d.text} wraps`).toBe(1);
    const headLines = await lineCounts(page.locator('[data-testid="inbox"] thead th .col-title'));
    expect(headLines.length).toBeGreaterThanOrEqual(8);
    for (const h of headLines) expect(h.lines, `header ${h.text} wraps`).toBe(1);
    const heights = await page
      .locator('[data-testid="inbox"] thead th.ant-table-cell')
      .evaluateAll((ths) => ths.map((th) => th.getBoundingClientRect().height));
    expect(Math.max(...heights)).toBeLessThan(60);
    for (const r of await rows(page).all()) {
      const tops = await r
        .locator('.row-actions button')
        .evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
      expect(tops.length).toBeGreaterThan(0);
      expect(new Set(tops).size, 'buttons stacked').toBe(1);
    }
    await shot(page, 'inbox-1440');

    // 已办: the returned case is there.
    await page.locator('[data-tab="done"]').click();
    await eventually(async () => expect(await rowDocs(page)).toEqual([docs.sun]));
    expect(await text(rows(page).first())).toContain('已退回');
  }, 180_000);

  it('the search bar narrows the rows, the total and the tab counts; 重置 brings them back', async () => {
    const page = await open();
    await login(page, 'iss-a');
    await page.goto('/inbox');
    await eventually(async () => expect(await rows(page).count()).toBe(5));

    await page.getByLabel('核验对象').fill('张');
    await page.getByRole('button', { name: /查\s*询/ }).click();
    await eventually(async () => {
      expect((await rowDocs(page)).sort()).toEqual([docs.zhang1, docs.zhang2].sort());
      expect(await total(page)).toBe('共 2 条');
      expect(await tabCount(page, 'open')).toBe('2');
      expect(await tabCount(page, 'done')).toBe('0');
    });

    await choose(
      page,
      page.locator('.list-search .ant-form-item', { hasText: '事项' }).locator('.ant-select'),
      '无犯罪记录证明',
    );
    await page.getByRole('button', { name: /查\s*询/ }).click();
    await eventually(async () => expect(await rowDocs(page)).toEqual([docs.zhang2]));
    await shot(page, 'inbox-filtered-1440');

    await page.getByRole('button', { name: /重\s*置/ }).click();
    await eventually(async () => expect(await rows(page).count()).toBe(5));
    // 文号 in part: the number of one case.
    const number = /〔\d{4}〕(\d+)号/.exec(docs.li as string)?.[1] as string;
    await page.getByLabel('文号').fill(number);
    await page.getByRole('button', { name: /查\s*询/ }).click();
    // Until the filtered list is on screen (the unfiltered one also holds the case).
    await eventually(async () => {
      const shown = await rowDocs(page);
      expect(shown).toContain(docs.li);
      expect(shown.every((d) => d.includes(number))).toBe(true);
    });
  }, 180_000);

  it('column settings hide a column, and the choice is remembered after a reload', async () => {
    const page = await open();
    await login(page, 'iss-a');
    await page.goto('/inbox');
    const header = page.locator('[data-testid="inbox"] thead th', { hasText: '核验对象' });
    await visible(header);
    await page.getByRole('button', { name: '列设置' }).click();
    const settings = await visible(page.getByTestId('column-settings'));
    await settings.locator('.ant-checkbox-wrapper', { hasText: '核验对象' }).click();
    await eventually(async () => expect(await header.count()).toBe(0));
    await shot(page, 'column-settings-1440');
    await page.reload();
    await visible(page.locator('[data-testid="inbox"] thead th', { hasText: '文号' }));
    await eventually(async () => expect(await rows(page).count()).toBe(5));
    expect(await header.count()).toBe(0);
    expect(await page.evaluate(() => localStorage.getItem('xiecha.columns.inbox'))).toContain('subject');
  }, 180_000);

  it('导出 Excel downloads the current list with its filters: Chinese headers, its rows', async () => {
    const page = await open();
    await login(page, 'iss-a');
    await page.goto('/inbox');
    await eventually(async () => expect(await rows(page).count()).toBe(5));
    await page.getByLabel('核验对象').fill('张');
    await page.getByRole('button', { name: /查\s*询/ }).click();
    await eventually(async () => expect(await rows(page).count()).toBe(2));
    const shown = await rowDocs(page);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /导出 Excel/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^协查列表-待办任务-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const file = path.join(dataDir, 'export.xlsx');
    await download.saveAs(file);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.getWorksheet('待办任务');
    if (!ws) throw new Error('no sheet 待办任务');
    const cells = (n: number) => (ws.getRow(n).values as unknown[]).slice(1);
    expect(cells(1).slice(0, 6)).toEqual(['文号', '事项', '核验对象', '需求单位', '出具单位', '状态']);
    expect(cells(1)).toContain('经办人');
    expect(ws.actualRowCount).toBe(3);
    expect([cells(2)[0], cells(3)[0]]).toEqual(shown);
    expect(String(cells(2)[2])).toMatch(/^张/);
    expect(cells(2)[4]).toBe('淄博市公安局');
    expect(cells(2)[5]).toBe('待登记');
    expect(String(cells(2)[7])).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
  }, 180_000);

  it('a liaison selects rows and registers them at once (bulk register); 经办人 shows who', async () => {
    const page = await open();
    await login(page, 'iss-a-lia');
    await page.goto('/inbox');
    await page.locator('[data-tab="unclaimed"]').click();
    await eventually(async () => expect(await rows(page).count()).toBe(4));
    for (const key of ['li', 'wang'])
      await rows(page)
        .filter({ hasText: docs[key] as string })
        .locator('.ant-checkbox')
        .first()
        .click();
    const bar = await visible(page.getByTestId('bulk-bar'));
    expect(await text(bar)).toContain('已选 2 项');
    await shot(page, 'bulk-selected-1440');
    await bar.getByRole('button', { name: '批量登记受理' }).click();
    await visible(page.getByText('已登记受理 2 件'), 40_000);
    await eventually(async () => {
      expect(await tabCount(page, 'unclaimed')).toBe('2');
      expect(await rowDocs(page)).not.toContain(docs.li);
    });
    await page.locator('[data-tab="mine"]').click();
    await eventually(async () => expect((await rowDocs(page)).sort()).toEqual([docs.li, docs.wang].sort()));
    for (const r of await rows(page).all()) {
      expect(await text(r)).toContain('陈静');
      expect(await text(r)).toContain('办理中');
    }
    await shot(page, 'bulk-registered-1440');
  }, 180_000);

  it("the requester's list at 390 px: cards, tabs with counts, pager, nothing wider than the screen", async () => {
    const page = await open(PHONE);
    await login(page, 'req-a');
    await page.goto('/outbox');
    const list = await visible(page.getByTestId('outbox'));
    await eventually(async () => {
      expect(await list.locator('.case-card').count()).toBe(6);
      // The returned case is still the requester's to do (re-route or close).
      expect(await tabCount(page, 'open')).toBe('6');
    });
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    expect(await fits()).toBe(true);
    // The search bar folds away behind 筛选 on a phone, and filters the cards when opened.
    expect(await page.getByLabel('核验对象').isVisible()).toBe(false);
    await shot(page, 'outbox-390');
    await page.getByRole('button', { name: /筛选/ }).click();
    await page.getByLabel('核验对象').fill('张');
    await page.getByRole('button', { name: /查\s*询/ }).click();
    await eventually(async () => expect(await list.locator('.case-card').count()).toBe(2));
    expect(await text(page.getByRole('button', { name: /收起筛选/ }))).toContain('（1）');
    expect(await fits()).toBe(true);
    await shot(page, 'outbox-filtered-390');
    const wide = await open();
    await login(wide, 'req-a');
    await wide.goto('/outbox');
    await eventually(async () =>
      expect(await wide.locator('[data-testid="outbox"] tbody tr.ant-table-row').count()).toBe(6),
    );
    await shot(wide, 'outbox-1440');
    expect(errors).toEqual([]);
  }, 180_000);

  it('取消认领: the assignee gives a case back with a reason; it returns to 待认领 with no 经办人', async () => {
    const id = await startCase('zhou', 'HJ-001', '周八', '37030319900101007');
    expect((await api('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {})).status).toBe(200);
    const page = await open();
    await login(page, 'iss-a');
    await page.goto('/inbox');
    await visible(page.getByTestId('inbox'));
    await eventually(async () => expect(await rowDocs(page)).toContain(docs.zhou));
    const unclaimedBefore = Number(await tabCount(page, 'unclaimed'));
    await page.goto(`/cases/${encodeURIComponent(id)}`);
    await page.getByRole('button', { name: '取消认领' }).click();
    const dialog = await visible(page.getByRole('dialog'));
    // The reason is required: an empty submit says so and sends nothing.
    await dialog.getByRole('button', { name: '取消认领' }).click();
    await visible(dialog.getByText('必填'));
    await dialog.getByLabel('取消认领理由').fill('本人外出学习，交回单位另行安排');
    await shot(page, 'unclaim-1440');
    await dialog.getByRole('button', { name: '取消认领' }).click();
    await visible(page.locator('[data-event="unclaimed"]'));
    expect(await text(page.locator('[data-event="unclaimed"]'))).toContain('本人外出学习，交回单位另行安排');
    await page.goto('/inbox');
    await eventually(async () => expect(Number(await tabCount(page, 'unclaimed'))).toBe(unclaimedBefore + 1));
    await page.locator('[data-tab="unclaimed"]').click();
    await eventually(async () => expect(await rowDocs(page)).toContain(docs.zhou));
    expect(await text(rows(page).filter({ hasText: docs.zhou as string }))).toContain('未认领');
    expect(errors).toEqual([]);
  }, 180_000);
});
