/**
 * Issue 14, items 7, 8 and 10 in a real browser (Debian's Chromium through playwright-core) against the
 * embedded system (`app/main.ts` with 6-second SLAs, so a case escalates during the test):
 *
 *   7. at 390 px the menu is a drawer over the page (the page keeps its width), the notifications stay inside
 *      the screen, the 督办记录 are readable (cards, nothing cut), and every button has an accessible name;
 *   8. 新建协查 flags every missing field in one pass (the subject, the purpose and the template's fields), refuses
 *      a wrong 公民身份号码 or 统一社会信用代码 check character before any confirmation, shows 请选择 in
 *      selects, refuses "abc" in a number field, and offers only the item's subject kinds;
 *  10. a case opened in a new tab of the same browser opens without a login (the session is handed over by the
 *      open tab), a logout in one tab signs out every tab, and the login page says why a login is needed.
 *
 * Screenshots at 1440 px and 390 px under test-results/issue14/ (item7-*, item8-*, item10-*).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { VALID_CREDIT_CODE, VALID_ID } from '../support/api.ts';
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

const SLA_SECONDS = 6;
const WIDE = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue14');

/** A resident ID with a wrong check character (the valid one ends in X). */
const BAD_ID = `${VALID_ID.slice(0, 17)}1`;
const BAD_CREDIT_CODE = `${VALID_CREDIT_CODE.slice(0, 17)}X`;

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage, animations: 'disabled' });
}

/** Visible buttons without an accessible name (aria-label, aria-labelledby, visible text or title). */
async function unnamedButtons(page: Page): Promise<string[]> {
  return page.locator('button, [role="button"]').evaluateAll((els) =>
    els
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
      })
      .filter((el) => {
        const labelledBy = el
          .getAttribute('aria-labelledby')
          ?.split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent ?? '')
          .join('');
        const name =
          el.getAttribute('aria-label') ||
          labelledBy ||
          // innerText, not textContent: text hidden by CSS (display: none) names nothing.
          // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person hears
          (el as HTMLElement).innerText ||
          el.getAttribute('title') ||
          '';
        return !name.trim();
      })
      .map((el) => el.outerHTML.slice(0, 160)),
  );
}

/** Buttons named in English only (a Chinese page names its buttons in Chinese). */
async function englishButtonNames(page: Page): Promise<string[]> {
  return page
    .locator('button[aria-label]')
    .evaluateAll((els) =>
      els.map((el) => el.getAttribute('aria-label') ?? '').filter((n) => n.trim() && /^[\sA-Za-z]+$/.test(n)),
    );
}

async function within(box: Locator, width: number): Promise<void> {
  await eventually(async () => {
    const b = await box.boundingBox();
    expect(b, 'element on screen').toBeTruthy();
    if (!b) return;
    expect(b.x, 'left edge inside the screen').toBeGreaterThanOrEqual(-0.5);
    expect(b.x + b.width, 'right edge inside the screen').toBeLessThanOrEqual(width + 0.5);
  }, 5000);
}

const run = hasChromium() ? describe : describe.skip;

run('issue 14 in a real browser: phone width, forms, one session across tabs', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-web14b-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const tokens: Record<string, string> = {};
  const errors: string[] = [];
  let escalated: { id: string; docNumber: string };

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, { DEV_SLA_SECONDS: String(SLA_SECONDS) });
    await waitReady(system, 120_000);
    browser = await launchChromium();
    for (const u of ['req-a', 'iss-a', 'office', 'admin']) {
      const res = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u, password: 'demo1234' }),
      });
      expect(res.status).toBe(200);
      tokens[u] = ((await res.json()) as { token: string }).token;
    }
    // A case that nobody registers: it escalates within seconds (督办记录 on its page).
    const started = await api('req-a', 'POST', '/api/v1/verifications', {
      catalogCode: 'HJ-001',
      subject: { kind: 'person', name: '王五', idNumber: VALID_ID },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
    });
    expect(started.status, JSON.stringify(started.json)).toBe(201);
    escalated = { id: started.json.id as string, docNumber: started.json.docNumber as string };
    // An item about companies, to check the 统一社会信用代码 on the client.
    const item = await api('admin', 'POST', '/api/v1/admin/catalog', {
      code: 'QY-901',
      name: '企业社保缴费信息',
      serviceItemName: '企业资质认定',
      legalBasis: '《社会保险法》第五十八条',
      issuingUnitCodes: ['ZB-GA'],
      defaultTier: '1d',
      exemptionMethod: '部门核验',
      subjectKinds: ['company'],
      requestSchema: {
        type: 'object',
        required: ['months'],
        properties: { months: { type: 'integer', title: '核查月数', minimum: 1, maximum: 120 } },
      },
      responseSchema: { type: 'object', properties: { paid: { type: 'boolean', title: '是否足额缴费' } } },
    });
    expect(item.status, JSON.stringify(item.json)).toBe(201);
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  const watch = (page: Page) => {
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
  };

  const open = async (viewport = WIDE): Promise<Page> => {
    const context = await newUserContext(browser, system.baseUrl, viewport);
    contexts.push(context);
    const page = await context.newPage();
    watch(page);
    return page;
  };

  async function api(who: string, method: 'GET' | 'POST', url: string, body?: object) {
    const res = await fetch(`${system.baseUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('item 7: at 390 px the menu overlays the page, notifications stay on screen, 督办记录 are readable, buttons are named', async () => {
    await eventually(
      async () => {
        const d = await api('iss-a', 'GET', `/api/v1/verifications/${escalated.id}`);
        expect((d.json.escalations as unknown[]).length).toBeGreaterThan(0);
      },
      (SLA_SECONDS + 60) * 1000,
    );

    const phone = await open(PHONE);
    await login(phone, 'iss-a');
    await visible(phone.getByRole('heading', { name: '待办任务' }));
    const main = phone.locator('.app-content');
    const before = await main.boundingBox();
    expect(before?.x).toBe(0);
    expect(before?.width).toBe(PHONE.width);

    // ── The menu: a named button opens a drawer over the page; the page keeps its place and width. ──
    await phone.getByRole('button', { name: '打开菜单' }).click();
    const drawer = await visible(phone.locator('.app-menu-drawer'));
    await visible(drawer.getByRole('link', { name: '消息中心' }));
    const after = await main.boundingBox();
    expect(after).toEqual(before);
    await within(drawer, PHONE.width);
    await shot(phone, 'item7-menu-drawer-390');
    await drawer.getByRole('link', { name: '消息中心' }).click();
    await visible(phone.getByTestId('message-centre'));
    await eventually(async () => expect(await drawer.isVisible()).toBe(false));
    expect(await main.boundingBox()).toEqual(before);

    // ── The notifications: inside the screen, left and right. ──
    await phone.getByTestId('notification-bell').click();
    const list = await visible(phone.getByTestId('notification-list'));
    await eventually(async () => expect(await text(list)).toContain('新的协查任务'));
    await within(list, PHONE.width);
    await shot(phone, 'item7-notifications-390');
    expect(await unnamedButtons(phone)).toEqual([]);
    await phone.keyboard.press('Escape');

    // ── 督办记录: every value readable on screen, nothing cut, no sideways scrolling of the page. ──
    await phone.goto(`/cases/${encodeURIComponent(escalated.id)}`);
    const records = await visible(phone.getByTestId('escalation-records'));
    await eventually(async () => expect(await text(records)).toContain('错过的时限'));
    for (const label of ['逾期级别', '状态', '错过的时限', '责成时限', '处理结果'])
      await within(
        records.locator('th, .ant-descriptions-item-label', { hasText: label }).first(),
        PHONE.width,
      );
    await within(records, PHONE.width);
    expect(await text(records)).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await records.scrollIntoViewIfNeeded();
    await shot(phone, 'item7-escalation-records-390', true);
    expect(await unnamedButtons(phone)).toEqual([]);
    expect(await englishButtonNames(phone)).toEqual([]);

    // The office's escalation drawer at 390 px: full width, its ladder and records inside the screen.
    const office = await open(PHONE);
    await login(office, 'office');
    await visible(office.getByRole('heading', { name: '督办事项' }));
    const card = office.getByText(escalated.docNumber).first();
    await visible(card);
    expect(await unnamedButtons(office)).toEqual([]);
    await shot(office, 'item7-escalations-390');

    // The same pages at 1440 px keep the side menu and the popover.
    const wide = await open(WIDE);
    await login(wide, 'iss-a');
    await visible(wide.locator('.app-sider'));
    expect(await wide.getByRole('button', { name: '打开菜单' }).count()).toBe(0);
    await wide.goto(`/cases/${encodeURIComponent(escalated.id)}`);
    await visible(wide.getByTestId('escalation-records'));
    await wide.getByTestId('notification-bell').click();
    await within(await visible(wide.getByTestId('notification-list')), WIDE.width);
    expect(await unnamedButtons(wide)).toEqual([]);
    expect(await englishButtonNames(wide)).toEqual([]);
    await shot(wide, 'item7-case-notifications-1440');
  }, 180_000);

  it('item 8: 新建协查 flags every missing field in one pass and refuses wrong check characters before confirming', async () => {
    const page = await open(WIDE);
    await login(page, 'req-a');
    await page.goto('/new');
    await visible(page.getByRole('heading', { name: '新建协查' }));
    await choose(page, page.locator('#catalog-item'), '无犯罪记录证明');
    await visible(page.getByLabel('核查期间'));

    // A person-only item does not offer 企业.
    const kinds = page.locator('.ant-form-item', { hasText: '核验对象类型' });
    await visible(kinds.getByText('个人'));
    expect(await kinds.getByText('企业').count()).toBe(0);

    // One empty submit: 姓名, 证件号, 用途 and the template's field are all flagged; no confirmation.
    await page.getByRole('button', { name: '发送协查函' }).click();
    const flagged = async (label: string) =>
      page.locator('.ant-form-item-has-error, .form-group.has-error, .ant-form-item', { hasText: label });
    await eventually(async () => {
      for (const label of ['姓名 / 名称', '公民身份号码 / 统一社会信用代码', '用途（办理的事项）'])
        expect(
          await (await flagged(label)).first().locator('.ant-form-item-explain-error').count(),
          `${label} flagged`,
        ).toBeGreaterThan(0);
      expect(
        await page
          .locator('.ant-form-item', { hasText: '核查期间' })
          .locator('.ant-form-item-explain-error')
          .count(),
      ).toBeGreaterThan(0);
    }, 5000);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await shot(page, 'item8-one-pass-1440', true);

    // A wrong check character is refused next to the field, before any confirmation.
    await page.getByLabel('姓名 / 名称').fill('张三');
    await page.getByLabel('公民身份号码 / 统一社会信用代码').fill(BAD_ID);
    await page.getByLabel('用途（办理的事项）').fill('教师资格认定');
    await page.getByLabel('核查期间').fill('2016年至今');
    await page.getByRole('button', { name: '发送协查函' }).click();
    await visible(page.locator('.ant-form-item-explain-error', { hasText: /校验位/ }));
    expect(await page.getByRole('dialog').count()).toBe(0);
    await shot(page, 'item8-bad-id-1440', true);
    await page.getByLabel('公民身份号码 / 统一社会信用代码').fill(VALID_ID);
    await page.getByRole('button', { name: '发送协查函' }).click();
    const dialog = await visible(page.getByRole('dialog'));
    await dialog.getByRole('button', { name: '取消' }).click();
    await eventually(async () => expect(await page.getByRole('dialog').count()).toBe(0));

    // Selects start on 请选择 (the template's option list).
    await choose(page, page.locator('#catalog-item'), '婚姻登记信息');
    const status = page.locator('.ant-form-item', { hasText: '申报的婚姻状况' }).locator('.ant-select');
    await eventually(async () => expect(await text(status)).toContain('请选择'));

    // A number field refuses "abc".
    await choose(page, page.locator('#catalog-item'), '历史婚姻档案查询');
    await page.getByLabel('姓名 / 名称').fill('张三');
    await page.getByLabel('公民身份号码 / 统一社会信用代码').fill(VALID_ID);
    await page.getByLabel('用途（办理的事项）').fill('不动产继承登记');
    await page.getByLabel('配偶姓名').fill('李四');
    await page.getByLabel('登记年份（大致）').fill('abc');
    await page.getByRole('button', { name: '发送协查函' }).click();
    await visible(page.locator('.ant-form-item', { hasText: '登记年份' }).getByText('请输入整数'));
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await page.getByLabel('登记年份（大致）').inputValue()).toBe('abc');
    await shot(page, 'item8-number-refused-1440', true);

    // A company item: only 企业, and a wrong 统一社会信用代码 is refused on the client.
    await choose(page, page.locator('#catalog-item'), '企业社保缴费信息');
    await visible(kinds.getByText('企业'));
    expect(await kinds.getByText('个人').count()).toBe(0);
    await page.getByLabel('姓名 / 名称').fill('淄博某某有限公司');
    await page.getByLabel('公民身份号码 / 统一社会信用代码').fill(BAD_CREDIT_CODE);
    await page.getByLabel('用途（办理的事项）').fill('企业资质认定');
    await page.getByLabel('核查月数').fill('12');
    await page.getByRole('button', { name: '发送协查函' }).click();
    await visible(
      page.locator('.ant-form-item-explain-error', { hasText: /统一社会信用代码.*校验位|校验位.*GB 32100/ }),
    );
    expect(await page.getByRole('dialog').count()).toBe(0);
    await shot(page, 'item8-bad-credit-code-1440', true);
    await page.getByLabel('公民身份号码 / 统一社会信用代码').fill(VALID_CREDIT_CODE);
    await page.getByRole('button', { name: '发送协查函' }).click();
    await (await visible(page.getByRole('dialog'))).getByRole('button', { name: '取消' }).click();

    // The same one-pass check at phone width.
    const phone = await open(PHONE);
    await login(phone, 'req-a');
    await phone.goto('/new');
    await choose(phone, phone.locator('#catalog-item'), '户籍信息证明');
    await visible(phone.getByLabel('申请人申报的户籍地址'));
    await phone.getByRole('button', { name: '发送协查函' }).click();
    await eventually(async () =>
      expect(await phone.locator('.ant-form-item-explain-error').count()).toBeGreaterThanOrEqual(4),
    );
    expect(await phone.getByRole('dialog').count()).toBe(0);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shot(phone, 'item8-one-pass-390', true);
    expect(await unnamedButtons(phone)).toEqual([]);
  }, 150_000);

  it('item 10: a new tab opens the case without a login; a logout signs out every tab; the login page says why', async () => {
    const context = await newUserContext(browser, system.baseUrl, WIDE);
    contexts.push(context);
    const first = await context.newPage();
    watch(first);
    await login(first, 'req-a');
    await visible(first.getByTestId('who').filter({ hasText: '王芳' }));

    // A case opened in a new tab of the same browser: no login page, the case itself.
    const second = await context.newPage();
    watch(second);
    await second.goto(`/cases/${encodeURIComponent(escalated.id)}`);
    await eventually(async () =>
      expect(await text(second.getByTestId('doc-number'))).toBe(escalated.docNumber),
    );
    expect(new URL(second.url()).pathname).toBe(`/cases/${encodeURIComponent(escalated.id)}`);
    await visible(second.getByTestId('who').filter({ hasText: '王芳' }));
    // The token was handed over in memory: nothing of it in localStorage.
    expect(await second.evaluate(() => JSON.stringify({ ...localStorage }))).not.toMatch(/token|eyJ/);
    await shot(second, 'item10-new-tab-case-1440');

    // A phone-width tab of the same browser too.
    await second.setViewportSize(PHONE);
    await second.reload();
    await visible(second.getByTestId('doc-number'));
    await shot(second, 'item10-new-tab-case-390');
    await second.setViewportSize(WIDE);

    // Logging out in the second tab signs out the first, which says why.
    await second.getByRole('button', { name: '退出登录' }).click();
    await second.waitForURL((u) => u.pathname === '/login');
    await visible(second.getByTestId('flash').getByText('您已退出登录'));
    await first.waitForURL((u) => u.pathname === '/login');
    await visible(first.getByTestId('flash').getByText(/另一个标签页退出登录/));
    await shot(first, 'item10-logged-out-elsewhere-1440');

    // No tab signed in: a new tab's login page says so.
    const third = await context.newPage();
    watch(third);
    await third.goto('/outbox');
    await third.waitForURL((u) => u.pathname === '/login');
    await visible(third.getByTestId('flash').getByText(/没有已登录的标签页/));
    expect(new URL(third.url()).searchParams.get('next')).toBe('/outbox');
    await shot(third, 'item10-no-other-tab-1440');

    // A session that ran out in this tab: the login page says it expired.
    const phone = await open(PHONE);
    await phone.goto('/login');
    await phone.evaluate(() =>
      sessionStorage.setItem(
        'xiecha.session',
        JSON.stringify({
          token: 'expired',
          expiresAt: new Date(Date.now() - 60_000).toISOString(),
          staff: { id: 'x', username: 'req-a', name: '王芳', unitCode: 'ZB-RS', role: 'agent' },
        }),
      ),
    );
    await phone.goto('/outbox');
    await phone.waitForURL((u) => u.pathname === '/login');
    await visible(phone.getByTestId('flash').getByText(/登录已过期/));
    await shot(phone, 'item10-session-expired-390');

    expect(errors).toEqual([]);
  }, 120_000);
});
