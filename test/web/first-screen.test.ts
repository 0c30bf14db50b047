/**
 * The first screen of a clerk's list (issue 14, item 11: interactive within 1 s on a slow CPU), in a real
 * browser: drawn without React or antd while the full page's code loads, it is a working list (tabs with
 * counts, Beijing-time deadlines, 登记受理, links to the case), and the full page replaces it with the tab
 * chosen on it. The full page's code is held back (page.route) while the test uses the first screen, so
 * what is tested is the first screen whatever the machine's speed; then it is let through.
 * Screenshots: test-results/issue14/item11-first-screen-1440.png and -390.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { VALID_ID } from '../support/api.ts';
import { eventually, hasChromium, login, PHONE, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const run = hasChromium() ? describe : describe.skip;
const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue14');

/** Holds the application's code (the `main` chunk) until `release()`: only the first screen can answer. */
async function holdApplication(page: Page): Promise<() => void> {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(/\/assets\/main-[\w-]+\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

/** `2026-12-01 17:30`: an instant as Beijing time (UTC+8), computed here independently of the page. */
const beijing = (iso: string) =>
  new Date(Date.parse(iso) + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 16);

run("a clerk's list: the first screen", () => {
  const suite = browserSuite('first-screen');

  it('answers at once (tabs, 登记受理, links) before React loads, then hands over to the full page with its tab', async () => {
    const req = await suite.as('req-a');
    const docs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await req('POST', '/api/v1/verifications', {
        catalogCode: 'HJ-001',
        subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
        fields: { declaredAddress: `淄博市张店区人民西路 ${i + 1} 号` },
        purpose: '社会保险参保登记',
      });
      docs.push(String(c.json.docNumber));
    }
    const iss = await suite.as('iss-a');
    const open = (await iss('GET', '/api/v1/verifications?box=inbox&open=true&limit=20')).json.items as {
      id: string;
      docNumber: string;
      dueAt: string;
    }[];

    const page = await suite.open();
    await login(page, 'iss-a');
    await visible(page.locator('.ant-table-row').first());
    const release = await holdApplication(page);
    await page.reload();

    const first = page.getByTestId('first-screen');
    await visible(first.locator('.fs-row').first());
    // React has not drawn anything: what answers below is the first screen.
    expect(await page.locator('#root > *').count()).toBe(0);
    expect(await first.locator('.fs-row').count()).toBe(open.length);
    expect(await first.locator('thead th').allTextContents()).toEqual([
      '文号',
      '事项',
      '核验对象',
      '需求单位',
      '状态',
      '办理时限',
      '经办人',
      '操作',
    ]);
    const target = open.find((c) => docs.includes(c.docNumber));
    expect(target).toBeDefined();
    const targetRow = first.locator('.fs-row', { hasText: target?.docNumber });
    await expect.poll(() => targetRow.textContent()).toContain(beijing(target?.dueAt ?? ''));
    expect(await targetRow.textContent()).toContain('待登记');
    // Unit names, not codes, once the units have come.
    await eventually(async () =>
      expect(await targetRow.locator('td').nth(3).textContent()).not.toMatch(/^[A-Z0-9-]+$/),
    );
    await eventually(async () =>
      expect(await first.locator('[data-first-tab="unclaimed"] .fs-count').textContent()).toBe(
        String(open.length),
      ),
    );
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'item11-first-screen-1440.png'), fullPage: true });

    // 登记受理 on the first screen registers the case, as the full page's button does.
    await targetRow.getByRole('button', { name: '登记受理' }).click();
    await visible(first.getByRole('status').filter({ hasText: `已登记受理：${target?.docNumber}` }));
    await eventually(async () => expect(await targetRow.textContent()).toContain('办理中'));
    const registered = await iss('GET', `/api/v1/verifications/${encodeURIComponent(target?.id ?? '')}`);
    expect((registered.json.case as { status: string }).status).toBe('registered');

    // A tab switches on the first screen: the unclaimed cases only.
    await first.locator('[data-first-tab="unclaimed"]').click();
    await expect
      .poll(() => first.locator('[data-first-tab="unclaimed"]').getAttribute('aria-selected'))
      .toBe('true');
    await eventually(async () => expect(await first.locator('.fs-row').count()).toBe(open.length - 1));
    expect(await page.locator('#root > *').count()).toBe(0);
    // 文号 opens the case (a real link).
    expect(await targetRow.count()).toBe(0);
    const link = first.locator('.fs-row a.fs-doc').first();
    expect(await link.getAttribute('href')).toMatch(/^\/cases\//);

    // The full page takes over, on the tab chosen on the first screen, and the first screen is gone.
    release();
    await visible(page.locator('.ant-tabs-tab-active', { hasText: '待认领' }));
    await eventually(async () => expect(await page.getByTestId('first-screen').count()).toBe(0));
    await eventually(async () => expect(await page.locator('.ant-table-row').count()).toBe(open.length - 1));
    expect(await page.locator('body.fs-active').count()).toBe(0);
  });

  it('when the application’s code is gone (a new deployment replaced it), the first screen says so', async () => {
    const page = await suite.open();
    await login(page, 'iss-a');
    await visible(page.getByTestId('inbox'));
    await page.route(/\/assets\/main-[\w-]+\.js$/, (route) => route.fulfill({ status: 404, body: '' }));
    await page.reload();
    const first = page.getByTestId('first-screen');
    await visible(first.locator('.fs-row').first());
    await visible(first.getByRole('alert').filter({ hasText: '页面载入失败，请检查网络后刷新页面' }));
    // Its list still works meanwhile.
    await first.locator('[data-first-tab="done"]').click();
    await expect
      .poll(() => first.locator('[data-first-tab="done"]').getAttribute('aria-selected'))
      .toBe('true');
  });

  it('on a phone: the first screen fits 390 px; a page that is not a list has none', async () => {
    const page = await suite.open(PHONE);
    await login(page, 'req-a');
    await page.goto('/outbox');
    await visible(page.getByTestId('outbox'));
    const release = await holdApplication(page);
    await page.reload();
    const first = page.getByTestId('first-screen');
    await visible(first.locator('.fs-row').first());
    expect(await first.locator('h1').textContent()).toBe('我的协查');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: path.join(SHOTS, 'item11-first-screen-390.png'), fullPage: true });
    release();
    await visible(page.getByTestId('outbox'));
    await eventually(async () => expect(await page.getByTestId('first-screen').count()).toBe(0));

    const href = await page
      .locator('[data-testid="outbox"] a.doc-link, [data-testid="outbox"] a[href^="/cases/"]')
      .first()
      .getAttribute('href');
    await page.goto(href ?? '/');
    await visible(page.locator('#root > *').first());
    expect(await page.getByTestId('first-screen').count()).toBe(0);
  });
});
