/**
 * Issue 15, batches from Excel, in a real browser (Debian's Chromium through playwright-core) against the
 * embedded system: the requesting unit's 批量发起 page — download the template, upload a filled list with the
 * 选择文件并上传 button (antd Upload), read the validation report (counts and the row with an error), submit
 * with a confirmation, follow the progress to 已完成, and download the result with the cases' 文号.
 *
 * Screenshots: test-results/issue15/batches-*.png.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { batchWorkbook, HJ_HEADERS, idFor, withWrongCheck } from '../support/batch-files.ts';
import { type EmbeddedProcess, spawnEmbedded, stopEmbedded, waitReady } from '../support/embedded-process.ts';
import {
  choose,
  eventually,
  hasChromium,
  launchChromium,
  login,
  newUserContext,
  text,
  visible,
} from './browser.ts';

const WIDE = { width: 1440, height: 900 };
const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue15');

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({
    path: path.join(SHOTS, `batches-${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}

async function sheetRows(file: string): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const out: unknown[][] = [];
  wb.worksheets[0]?.eachRow((row) => {
    out.push((row.values as unknown[]).slice(1));
  });
  return out;
}

const run = hasChromium() ? describe : describe.skip;

run('issue 15 in a real browser: 批量发起', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-batches-'));
  const downloads = mkdtempSync(path.join(os.tmpdir(), 'xiecha-batches-dl-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  let context: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, {});
    await waitReady(system, 180_000);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  it('downloads the template, uploads a list, reads the report, submits, follows the progress, downloads the result', async () => {
    context = await newUserContext(browser, system.baseUrl, WIDE);
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    await login(page, 'req-a');
    await visible(page.getByRole('menuitem', { name: '批量发起' }));
    await page.goto('/batches');
    await visible(page.getByText('还没有批次：选择证明事项，下载模板填写后上传'), 60_000);
    await shot(page, '1-empty');

    // The template of 户籍信息证明, with its Chinese headers.
    await choose(page, page.locator('#batch-item'), '户籍信息证明');
    const [template] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '下载模板' }).click(),
    ]);
    expect(template.suggestedFilename()).toBe('批量发起模板-户籍信息证明.xlsx');
    const templateFile = path.join(downloads, 'template.xlsx');
    await template.saveAs(templateFile);
    expect((await sheetRows(templateFile))[0]).toEqual(HJ_HEADERS);

    // A list of three: two valid, one ID number with a wrong check character.
    const file = await batchWorkbook([
      ['张三', '居民身份证', idFor(101), '2026年度低保复核', '淄博市张店区人民西路 1 号'],
      ['李四', '居民身份证', withWrongCheck(idFor(102)), '2026年度低保复核', '淄博市张店区共青团路 8 号'],
      ['王五', '居民身份证', idFor(103), '2026年度低保复核', '淄博市周村区正阳路 3 号'],
    ]);
    await page.locator('input[type=file]').setInputFiles({
      name: '2026年低保复核名单.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: file,
    });
    await eventually(async () => {
      expect(await text(page.locator('[data-count="valid"]'))).toBe('2');
      expect(await text(page.locator('[data-count="invalid"]'))).toBe('1');
    }, 60_000);
    expect(await text(page.locator('[data-batch-status]'))).toBe('已校验，待提交');
    const errorRow = page.locator('.ant-table-row', { hasText: '李*' });
    expect(await text(errorRow)).toContain('「证件号码」不是有效的公民身份号码');
    expect(await text(errorRow)).toContain('3'); // its Excel row
    await shot(page, '2-report');

    // Submit, confirmed; the progress reaches 已完成 with both cases started.
    await page.getByRole('button', { name: /提交发起（2 件）/ }).click();
    await visible(page.getByText('确认为 2 个核验对象各发起一件「户籍信息证明」协查？'));
    await shot(page, '3-confirm');
    await page.getByRole('button', { name: '确认发起' }).click();
    await eventually(async () => {
      expect(await page.locator('[data-batch-status]').getAttribute('data-batch-status')).toBe('completed');
      expect(await text(page.locator('[data-count="started"]'))).toBe('2');
    }, 90_000);
    expect(await text(page.locator('[data-count="failed"]'))).toBe('0');
    await shot(page, '4-completed');

    // The result: 文号 for the two started rows, the error for the other.
    const [result] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: '下载发起结果' }).click(),
    ]);
    const resultFile = path.join(downloads, 'result.xlsx');
    await result.saveAs(resultFile);
    const rows = await sheetRows(resultFile);
    expect(rows[0]).toEqual(['行号', '核验对象', '文号', '发起状态', '协查状态', '错误说明']);
    expect(rows.slice(1).map((r) => [r[0], r[3]])).toEqual([
      [2, '已发起'],
      [3, '校验未通过，未发起'],
      [4, '已发起'],
    ]);
    expect(String(rows[1]?.[2])).toMatch(/^淄人社协〔\d{4}〕\d+号$/);

    // The started cases are in 我的协查.
    await page.getByRole('menuitem', { name: '我的协查' }).click();
    await visible(page.getByText(String(rows[1]?.[2])));
    expect(errors).toEqual([]);
  }, 240_000);
});
