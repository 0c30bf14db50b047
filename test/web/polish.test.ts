/**
 * Issue 14, items 9, 11 and 12 in a real browser (Debian's Chromium through playwright-core) against the
 * real system (`app/main.ts` as `npm start` runs it):
 *
 *   9  no English on screen: the calendar names who changed it (not "（system）"); the catalog's templates
 *      are designed field by field with a live preview, the JSON tab explains a mistake in Chinese; files
 *      are chosen with a Chinese button (antd Upload), not the browser's "Choose Files".
 *   11 the JavaScript goes out precompressed (brotli), and a clerk's first load fetches neither the
 *      administration, the charts (ECharts) nor the forms (@rjsf/ajv) — and weighs well under main's 1.8 MB.
 *   12 empty lists say what they mean and what to do; the case page masks the subject by one rule; 经办人,
 *      not 代办员; a letter prints every date the same way; the calendar page warns when next year has no
 *      official schedule.
 *
 * Screenshots at 1440 and 390 px under test-results/issue14/ (item9-*, item11-*, item12-*). The browser's
 * console must stay free of errors other than expected 4xx responses.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { VALID_ID } from '../support/api.ts';
import { type EmbeddedProcess, spawnEmbedded, stopEmbedded, waitReady } from '../support/embedded-process.ts';
import {
  eventually,
  hasChromium,
  launchChromium,
  login,
  newUserContext,
  PHONE,
  text,
  visible,
} from './browser.ts';

const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue14');
const WIDE = { width: 1440, height: 900 };
const run = hasChromium() ? describe : describe.skip;

/** This year in Beijing time. */
const beijingYear = () =>
  Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));

run('issue 14 (items 9, 11, 12) in a real browser', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-polish-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir);
    await waitReady(system, 180_000);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  /** A signed-in page at a width; console errors (other than 4xx responses) are collected. */
  const open = async (username: string, viewport = WIDE): Promise<Page> => {
    const context = await newUserContext(browser, system.baseUrl, viewport);
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const msg = m.text();
      // Expected refusals (e.g. a 403/404 a page handles) are logged by the browser as resource errors.
      if (/status of 4\d\d/.test(msg)) return;
      consoleErrors.push(`${username}: ${msg}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`${username}: ${err.message}`));
    await login(page, username);
    return page;
  };

  /** Screenshots of `url` at 1440 px (the given page) and at 390 px (a new phone page of the same person). */
  const shots = async (page: Page, username: string, url: string, name: string, ready: string) => {
    await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
    await page.screenshot({
      path: path.join(SHOTS, `${name}-1440.png`),
      fullPage: true,
      animations: 'disabled',
    });
    const phone = await open(username, PHONE);
    await phone.goto(url);
    await visible(phone.locator(ready));
    await phone.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
    await phone.screenshot({
      path: path.join(SHOTS, `${name}-390.png`),
      fullPage: true,
      animations: 'disabled',
    });
    await phone.context().close();
  };

  /** The REST API as a person, for what a test sets up. */
  const as = async (username: string) => {
    const res = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'demo1234' }),
    });
    const { token } = (await res.json()) as { token: string };
    return async <T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> => {
      const r = await fetch(`${system.baseUrl}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await r.json()) as T;
      if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    };
  };

  const sendCase = async (catalogCode = 'HJ-001', fields: Record<string, unknown> = {}) => {
    const req = await as('req-a');
    return req<{ id: string }>('POST', '/api/v1/verifications', {
      catalogCode,
      subject: { kind: 'person', name: '张三丰', idNumber: VALID_ID },
      fields: catalogCode === 'HJ-001' ? { declaredAddress: '淄博市张店区人民西路 1 号', ...fields } : fields,
      purpose: '社会保险参保登记',
    });
  };

  // ─── Item 11 ─────────────────────────────────────────────────────────────────────────────────────

  it('item 11: the JavaScript goes out as brotli; a clerk’s first load leaves admin, charts and forms out', async () => {
    const html = await (await fetch(`${system.baseUrl}/inbox`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map(
      (m) => m[1] as string,
    );
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets) {
      const r = await fetch(`${system.baseUrl}${a}`, { headers: { 'accept-encoding': 'br' } });
      const size = (await r.arrayBuffer()).byteLength;
      if (size < 1024) continue; // too small to be worth compressing
      expect(r.headers.get('content-encoding'), a).toBe('br');
      expect(r.headers.get('vary') ?? '', a).toMatch(/accept-encoding/i);
      const gz = await fetch(`${system.baseUrl}${a}`, { headers: { 'accept-encoding': 'gzip' } });
      await gz.arrayBuffer();
      expect(gz.headers.get('content-encoding'), a).toBe('gzip');
    }

    const page = await open('iss-a');
    const scripts: string[] = [];
    page.on('response', (r) => {
      if (r.request().resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
    });
    await page.goto('/inbox');
    await visible(page.getByTestId('inbox'));
    await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
    expect(scripts.length).toBeGreaterThan(0);
    const late = scripts.filter((s) =>
      /\/assets\/(Admin|echarts|StatsCharts|Overview|StatsDashboard|schema-form)-/.test(s),
    );
    expect(late, 'first load of the inbox').toEqual([]);
    // What the first load weighs (decoded): well under the 1.8 MB every page loaded before. The lists' search
    // bar, pager and column settings (issue 14 item 6: date range picker, dropdowns) brought it from 1.16 MB
    // to 1.32 MB.
    let bytes = 0;
    for (const s of new Set(scripts))
      bytes += (
        await (
          await fetch(`${system.baseUrl}${s}`, { headers: { 'accept-encoding': 'identity' } })
        ).arrayBuffer()
      ).byteLength;
    expect(bytes).toBeLessThan(1_400_000);
    await shots(page, 'iss-a', '/inbox', 'item11-inbox-first-load', '[data-testid="inbox"]');

    // The chunks exist, and load when their page is opened (the assertion above is not vacuous).
    const admin = await open('admin');
    const adminScripts: string[] = [];
    admin.on('response', (r) => {
      if (r.request().resourceType() === 'script') adminScripts.push(new URL(r.url()).pathname);
    });
    await admin.goto('/admin/catalog');
    await visible(admin.getByRole('button', { name: /新\s*增/ }));
    expect(adminScripts.some((s) => /\/assets\/Admin-/.test(s))).toBe(true);
  }, 180_000);

  // ─── Item 9 ──────────────────────────────────────────────────────────────────────────────────────

  it('item 9: the calendar page names who changed it, in Chinese (no “（system）”)', async () => {
    const page = await open('admin');
    await page.goto('/admin/calendar');
    await visible(page.getByText('尚未修改，现为系统默认设置'));
    const body = await text(page.locator('body'));
    expect(body).not.toMatch(/system|stf-/i);
    await shots(page, 'admin', '/admin/calendar', 'item9-calendar', 'text=尚未修改，现为系统默认设置');
  }, 120_000);

  it('item 9: catalog templates are designed field by field with a live preview; JSON mistakes in Chinese', async () => {
    const page = await open('admin');
    await page.goto('/admin/catalog');
    await page.getByRole('button', { name: /新\s*增/ }).click();
    const dialog = page.locator('.ant-modal');
    await visible(dialog);
    const request = dialog.getByTestId('template-designer').first();
    await visible(request.getByRole('tab', { name: '字段设计' }));
    // Who may be the subject is chosen here too (a new item takes both until the administrator says).
    const kinds = dialog.locator('.ant-form-item', { hasText: '核验对象类型' });
    expect(await kinds.getByRole('checkbox', { name: '个人（公民身份号码）' }).isChecked()).toBe(true);
    expect(await kinds.getByRole('checkbox', { name: '企业（统一社会信用代码）' }).isChecked()).toBe(true);

    // Add three fields: a required date, a choice with options, a yes/no; then move the last one up.
    const add = request.getByRole('button', { name: /添加字段/ });
    await add.click();
    let field = request.getByTestId('designer-field').nth(0);
    await field.getByLabel('字段名称').fill('婚姻登记日期');
    await field.getByLabel('字段类型').click();
    await page
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', {
        hasText: '日期',
      })
      .click();
    await field.getByRole('checkbox', { name: '必填' }).check();
    await field.getByLabel('字段标识').fill('registeredOn');

    await add.click();
    field = request.getByTestId('designer-field').nth(1);
    await field.getByLabel('字段名称').fill('申报的婚姻状况');
    await field.getByLabel('字段类型').click();
    await page
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', {
        hasText: '单选',
      })
      .click();
    const options = field.getByLabel('选项');
    await options.click();
    for (const o of ['未婚', '已婚', '离异']) {
      await page.keyboard.type(o);
      await page.keyboard.press('Enter');
    }
    await field.getByLabel('字段标识').fill('declaredStatus');

    await add.click();
    field = request.getByTestId('designer-field').nth(2);
    await field.getByLabel('字段名称').fill('是否本人到场');
    await field.getByLabel('字段类型').click();
    await page
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option', {
        hasText: '是 / 否',
      })
      .click();
    await field.getByLabel('字段标识').fill('inPerson');
    await field.getByRole('button', { name: '上移' }).click();

    // The live preview shows the generated form in the designed order, with the Chinese labels.
    const preview = request.getByTestId('designer-preview');
    await eventually(async () => {
      const labels = await preview.locator('label').allTextContents();
      const order = ['婚姻登记日期', '是否本人到场', '申报的婚姻状况'].map((l) =>
        labels.findIndex((x) => x.includes(l)),
      );
      expect(order.every((i) => i >= 0)).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });
    await dialog.screenshot({ path: path.join(SHOTS, 'item9-designer-1440.png'), animations: 'disabled' });

    // The JSON tab (for experts) shows what was designed, and a mistake is explained in Chinese.
    await request.getByRole('tab', { name: /JSON/ }).click();
    const json = request.getByLabel('协查函模板（JSON）');
    const schema = JSON.parse(await json.inputValue()) as Record<string, unknown>;
    expect(schema).toMatchObject({
      type: 'object',
      required: ['registeredOn'],
      'x-order': ['registeredOn', 'inPerson', 'declaredStatus'],
      properties: {
        registeredOn: { type: 'string', format: 'date', title: '婚姻登记日期' },
        declaredStatus: { type: 'string', enum: ['未婚', '已婚', '离异'], title: '申报的婚姻状况' },
        inPerson: { type: 'boolean', title: '是否本人到场' },
      },
    });
    await json.fill('{ "type": "object", "properties": { "a": } }');
    const problem = await visible(request.getByTestId('json-problem'));
    expect(await text(problem)).toMatch(/^JSON 格式有误：第 1 行第 \d+ 列附近/);
    expect(await text(problem)).not.toMatch(/Unexpected|position|JSON\.parse|token/i);
    await dialog.screenshot({
      path: path.join(SHOTS, 'item9-json-problem-1440.png'),
      animations: 'disabled',
    });

    // The designer at phone width: the controls stack, the preview follows below.
    const phone = await open('admin', PHONE);
    await phone.goto('/admin/catalog');
    await phone.getByRole('button', { name: /新\s*增/ }).click();
    const phoneDialog = phone.locator('.ant-modal');
    await phoneDialog
      .getByTestId('template-designer')
      .first()
      .getByRole('button', { name: /添加字段/ })
      .click();
    await phoneDialog.getByTestId('designer-field').first().getByLabel('字段名称').fill('婚姻登记日期');
    await visible(
      phoneDialog.getByTestId('designer-preview').first().locator('label', { hasText: '婚姻登记日期' }),
    );
    await phone.screenshot({
      path: path.join(SHOTS, 'item9-designer-390.png'),
      fullPage: true,
      animations: 'disabled',
    });
  }, 180_000);

  it('item 9: attachments are chosen with a Chinese button, not the browser’s own file input', async () => {
    const c = await sendCase();
    await (await as('iss-a'))('POST', `/api/v1/verifications/${c.id}/register`, {});
    const page = await open('iss-a');
    await page.goto(`/cases/${c.id}`);
    const choose = await visible(page.getByRole('button', { name: /选择文件/ }));
    expect(await page.locator('input[type=file]:visible').count()).toBe(0);
    await page
      .locator('input[type=file]')
      .first()
      .setInputFiles({
        name: '户籍证明.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'),
      });
    await visible(page.getByText(/户籍证明\.pdf/));
    await choose.scrollIntoViewIfNeeded();
    await shots(page, 'iss-a', `/cases/${c.id}`, 'item9-upload', 'text=选择文件');
  }, 120_000);

  // ─── Item 12 ─────────────────────────────────────────────────────────────────────────────────────

  it('item 12: empty lists say what they mean and what to do next', async () => {
    // ZB-MZ has received nothing; ZB-SJ has sent nothing.
    const issuer = await open('iss-b');
    await issuer.goto('/inbox');
    const empty = await visible(issuer.getByTestId('inbox').getByTestId('empty-state'));
    expect(await text(empty)).toContain('没有未办结的协查任务');
    expect(await text(empty)).toContain('新任务到达时会实时出现在这里');
    await shots(issuer, 'iss-b', '/inbox', 'item12-empty-inbox', '[data-testid="empty-state"]');

    const requester = await open('req-b');
    await requester.goto('/outbox');
    const none = await visible(requester.getByTestId('outbox').getByTestId('empty-state'));
    expect(await text(none)).toMatch(/没有在办的协查|还没有发起过协查/);
    await none.getByRole('button', { name: '新建协查' }).click();
    await requester.waitForURL((u) => u.pathname === '/new');
    await requester.goto('/outbox');
    await shots(requester, 'req-b', '/outbox', 'item12-empty-outbox', '[data-testid="empty-state"]');
  }, 120_000);

  it('item 12: the case page shows the subject by one rule, header and content alike', async () => {
    const c = await sendCase();
    await (await as('iss-a'))('POST', `/api/v1/verifications/${c.id}/register`, {});
    // The colleague (not handling it) sees the subject masked in the header and in the content.
    const colleague = await open('iss-a2');
    await colleague.goto(`/cases/${c.id}`);
    const header = await visible(colleague.getByTestId('case-subject'));
    const name = await visible(colleague.getByTestId('content-subject-name'));
    const id = await visible(colleague.getByTestId('content-subject-id'));
    expect(await text(name)).toBe('张*丰');
    expect(await text(id)).toMatch(/^1101\*+002X$/);
    expect(await text(header)).toBe(`${await text(name)}（${await text(id)}）`);
    expect(await text(colleague.locator('body'))).not.toContain('张三丰');
    await shots(
      colleague,
      'iss-a2',
      `/cases/${c.id}`,
      'item12-masking-colleague',
      '[data-testid="case-subject"]',
    );
    // The person handling it sees it in full, in both places.
    const handler = await open('iss-a');
    await handler.goto(`/cases/${c.id}`);
    await eventually(async () =>
      expect(await text(handler.getByTestId('case-subject'))).toBe(`张三丰（${VALID_ID}）`),
    );
    expect(await text(handler.getByTestId('content-subject-name'))).toBe('张三丰');
  }, 120_000);

  it('item 12: 经办人, not 代办员', async () => {
    const page = await open('admin');
    await page.goto('/admin/staff');
    await visible(page.getByText('经办人').first());
    expect(await text(page.locator('body'))).not.toContain('代办员');
    await page.goto('/admin/units');
    await visible(page.getByText(/经办人/).first());
    expect(await text(page.locator('body'))).not.toContain('代办员');
    await shots(page, 'admin', '/admin/units', 'item12-jingbanren', 'text=经办人');
  }, 120_000);

  it('item 12: a letter prints every date one way (2026年12月1日)', async () => {
    const admin = await as('admin');
    const requestSchema = {
      type: 'object',
      required: ['registeredOn'],
      properties: {
        registeredOn: { type: 'string', format: 'date', title: '婚姻登记日期' },
        spouseName: { type: 'string', title: '配偶姓名' },
      },
    };
    await admin('POST', '/api/v1/admin/catalog', {
      code: 'HY-901',
      name: '婚姻登记日期核验',
      serviceItemName: '公共租赁住房申请',
      legalBasis: '《婚姻登记条例》',
      issuingUnitCodes: ['ZB-GA'],
      defaultTier: '30m',
      exemptionMethod: '部门核验',
      requestSchema,
      responseSchema: {
        type: 'object',
        required: [],
        properties: { remark: { type: 'string', title: '备注' } },
      },
    });
    const c = await sendCase('HY-901', { registeredOn: '2019-05-20', spouseName: '李四' });
    const page = await open('req-a');
    await page.goto(`/cases/${c.id}/letter/request`);
    const letter = await visible(page.getByTestId('letter-request'));
    await eventually(async () => expect(await text(letter)).toContain('2019年5月20日'));
    const body = await text(letter);
    expect(body, 'no 2019-05-20 style dates in a letter').not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(body).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/);
    await shots(
      page,
      'req-a',
      `/cases/${c.id}/letter/request`,
      'item12-letter-dates',
      '[data-testid="letter-request"]',
    );
  }, 120_000);

  it('item 12: the calendar page warns when next year has no official schedule', async () => {
    const next = beijingYear() + 1;
    const coverage = (await (
      await as('admin')
    )('GET', '/api/v1/calendar/coverage')) as { coveredYears: number[] };
    expect(coverage.coveredYears).not.toContain(next);
    const page = await open('admin');
    await page.goto('/admin/calendar');
    const warning = await visible(page.getByTestId('next-year-warning'));
    expect(await text(warning)).toContain(`${next} 年度尚无官方放假安排`);
    expect(await text(warning)).toContain('导入');
    await shots(page, 'admin', '/admin/calendar', 'item12-next-year', '[data-testid="next-year-warning"]');
  }, 120_000);

  it('the browser console stayed free of errors (other than expected 4xx)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
