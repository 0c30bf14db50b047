/**
 * 告知承诺 (seed 004) in a real browser against the embedded system, with COMMITMENT_CHECK_WORKING_DAYS=0 (the check
 * starts at once, as an online check would): the requesting unit records a commitment on the 告知承诺 page, the
 * check's verification case reaches the issuing unit, which answers 不一致; the page shows the written answer and
 * the unit confirms the commitment false with its reason; the 信用记录 page lists the record and exports it (Chinese
 * headers, Beijing time); a new commitment of the barred subject is refused with the date it may be offered again.
 *
 * Screenshots: test-results/issue16/commitments-*.png.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
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
  residentId,
  systemApi,
  visible,
} from './browser.ts';

const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue16');
const WIDE = { width: 1440, height: 900 };

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({
    path: path.join(SHOTS, `commitments-${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}

const run = hasChromium() ? describe : describe.skip;

run('告知承诺 in a real browser: record, check, confirm false, credit record and export', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-commitments-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  const api = systemApi(() => system.baseUrl, tokens, 'commitments');
  const subjectId = residentId('37030319850505123');

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, { COMMITMENT_CHECK_WORKING_DAYS: '0' });
    await waitReady(system, 180_000);
    browser = await launchChromium();
    for (const u of ['req-a', 'iss-a']) {
      const res = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u, password: 'demo1234' }),
      });
      expect(res.status).toBe(200);
      tokens[u] = ((await res.json()) as { token: string }).token;
    }
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  const fillCommitment = async (page: Page, applicationNumber: string) => {
    await page.getByTestId('record-commitment').click();
    const form = await visible(page.getByTestId('commitment-form'));
    await form.getByLabel('姓名或名称').fill('钱八');
    await form.getByLabel('公民身份号码').fill(subjectId);
    await choose(page, form.getByLabel('承诺替代的证明事项'), '无犯罪记录证明');
    await form.getByLabel('承诺内容').fill('本人承诺无犯罪记录，如有不实愿承担法律责任');
    await form.getByLabel('办件号').fill(applicationNumber);
    await form.getByLabel('申请办理的事项').fill('教师资格认定');
    await form.getByLabel(/核查协查函：核查期间/).fill('2016年至今');
    await page.getByRole('button', { name: '登记并安排核查' }).click();
  };

  it('records, checks, confirms false, lists and exports the credit record, and refuses the barred subject', async () => {
    const context = await newUserContext(browser, system.baseUrl, WIDE);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, 'req-a');
    // The menu offers both pages to a requesting unit.
    await visible(page.getByRole('link', { name: '告知承诺' }));
    await visible(page.getByRole('link', { name: '信用记录' }));
    await page.goto('/commitments');
    await fillCommitment(page, 'JS-2026-0001');
    const row = page.getByTestId('commitments').locator('tbody tr', { hasText: 'JS-2026-0001' });
    await visible(row);
    // Masked subject, never the full number.
    await eventually(async () => expect(await row.textContent()).toContain('钱*（3703**********'));
    expect(await page.content()).not.toContain(subjectId);
    await shot(page, '1-recorded');

    // The check's case reaches the issuing unit at once; it answers 不一致 (in writing).
    const checked = await eventually(async () => {
      const list = await api('req-a', 'GET', '/api/v1/commitments');
      const c = (list.json.items as { applicationNumber: string; caseId: string | null }[]).find(
        (x) => x.applicationNumber === 'JS-2026-0001',
      );
      expect(c?.caseId).toBeTruthy();
      return c as { caseId: string };
    }, 60_000);
    const caseUrl = `/api/v1/verifications/${encodeURIComponent(checked.caseId)}`;
    expect((await api('iss-a', 'POST', `${caseUrl}/register`, {})).status).toBe(200);
    const answered = await api('iss-a', 'POST', `${caseUrl}/respond`, {
      result: 'inconsistent',
      fields: { hasRecord: true, remark: '2019年有盗窃罪判决记录' },
    });
    expect(answered.status, JSON.stringify(answered.json)).toBe(200);

    await eventually(async () => {
      await page.reload();
      await visible(row);
      expect(await row.textContent()).toContain('待确认核查结论');
    }, 60_000);
    expect(await row.textContent()).toContain('是否有犯罪记录：是');
    expect(await row.textContent()).toContain('2019年有盗窃罪判决记录');
    await shot(page, '2-awaiting-confirmation');

    await row.getByRole('button', { name: '确认不实' }).click();
    await page.getByLabel('书面理由').fill('公安机关书面答复申请人有犯罪记录，与承诺不符');
    await shot(page, '3-confirm-false');
    await page.getByRole('button', { name: '确认', exact: true }).click();
    await eventually(async () => expect(await row.textContent()).toContain('承诺不实'));
    expect(await row.textContent()).toContain('公安机关书面答复申请人有犯罪记录');

    await page.goto('/credit-records');
    const credit = page.getByTestId('credit-records').locator('tbody tr', { hasText: 'JS-2026-0001' });
    await visible(credit);
    expect(await credit.textContent()).toContain('限制中');
    expect(await credit.textContent()).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await shot(page, '4-credit-records');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-credit-records').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^信用记录-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const file = path.join(dataDir, 'credit.xlsx');
    await download.saveAs(file);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.getWorksheet('信用记录');
    if (!ws) throw new Error('no sheet 信用记录');
    const cells = (n: number) => (ws.getRow(n).values as unknown[]).slice(1);
    expect(cells(1).slice(0, 4)).toEqual(['记录编号', '承诺人', '类型', '承诺事项']);
    expect(cells(2)[3]).toBe('无犯罪记录证明');
    expect(String(cells(2)[8])).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);

    // The barred subject: refused, with the date it may be offered 告知承诺 again.
    await page.goto('/commitments');
    await fillCommitment(page, 'JS-2026-0002');
    await eventually(async () =>
      expect(await page.locator('.ant-modal .ant-alert').textContent()).toMatch(
        /\d{4}年\d{1,2}月\d{1,2}日前不适用告知承诺制/,
      ),
    );
    await shot(page, '5-barred');
    expect(errors).toEqual([]);
    await context.close();
  }, 240_000);

  it("the office's supervisor sees every unit's commitments and credit records, the subject masked", async () => {
    const context = await newUserContext(browser, system.baseUrl, WIDE);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, 'office');
    await visible(page.getByRole('menuitem', { name: '告知承诺' }));
    await page.getByRole('menuitem', { name: '信用记录' }).click();
    const credit = page.getByTestId('credit-records').locator('tbody tr', { hasText: 'JS-2026-0001' });
    await visible(credit);
    const shown = (await credit.textContent()) ?? '';
    expect(shown).toContain('限制中');
    expect(shown).not.toContain(subjectId);
    await page.getByRole('menuitem', { name: '告知承诺' }).click();
    await visible(page.getByTestId('commitments').locator('tbody tr', { hasText: 'JS-2026-0001' }));
    // Recording is the requesting unit's act, not the office's.
    expect(await page.getByTestId('record-commitment').count()).toBe(0);
    await shot(page, '6-office');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
