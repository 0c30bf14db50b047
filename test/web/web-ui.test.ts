/**
 * The web application in a real browser (Debian's Chromium through playwright-core) against the real
 * system: `app/main.ts` as `npm start` runs it — Temporal dev server, PGlite, worker and API — with
 * DEV_SLA_SECONDS so an escalation happens within the test. Every step asserts what the screen shows
 * and saves a screenshot under test-results/screenshots/.
 *
 *   a requester sends a case → the issuer sees it appear live (no reload), registers and answers it →
 *   the requester sees the result and the printable response letter → a second case is left unanswered,
 *   escalates after the short SLA → the office supervisor sees it in the escalation inbox and orders a
 *   deadline; the overview chart; the layout at phone width.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  SCREENSHOTS,
  screenshot,
  text,
  visible,
} from './browser.ts';

const SLA_SECONDS = 20;

/** A valid resident ID number (GB 11643 check character) for a made-up person. */
const run = hasChromium() ? describe : describe.skip;

run('web UI in a real browser against the embedded system', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-web-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    let t0 = Date.now();
    // Build here (not inside the child) so the start-up below is measured on its own.
    if (webBuildReason()) await buildWeb();
    timings.build = Date.now() - t0;
    t0 = Date.now();
    system = await spawnEmbedded(dataDir, { DEV_SLA_SECONDS: String(SLA_SECONDS) });
    await waitReady(system, 120_000);
    timings.ready = Date.now() - t0;
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
    process.stdout.write(`web UI test timings (ms): ${JSON.stringify(timings)}\n`);
  }, 60_000);

  const open = async (viewport?: { width: number; height: number }): Promise<Page> => {
    const context = await newUserContext(browser, system.baseUrl, viewport);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`[browser error] ${err.message}\n`));
    return page;
  };

  it('serves the SPA from the API process, with index.html for app paths and problems for /api', async () => {
    const index = await fetch(`${system.baseUrl}/inbox`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    expect(html).toContain('<div id="root">');
    const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${system.baseUrl}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const api = await fetch(`${system.baseUrl}/api/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    expect((await api.json()).detail).toContain('没有这个地址');
  });

  it('requester → issuer live → answer → result; unanswered case escalates → supervisor orders a deadline', async () => {
    const started = Date.now();

    // ── The issuing unit's agent is at the inbox before anything is sent. ───────────────────────
    const issuer = await open();
    await login(issuer, 'iss-a');
    await issuer.getByRole('link', { name: '待办任务' }).click();
    await visible(issuer.getByRole('heading', { name: '待办任务' }));
    await visible(issuer.locator('[data-live]'));
    await issuer.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });

    // ── The requesting unit's agent logs in and sends a case. ────────────────────────────────────
    const requester = await open();
    await requester.goto('/login');
    await requester.getByLabel('用户名').fill('req-a');
    await requester.getByLabel('密码').fill('demo1234');
    await screenshot(requester, 'login');
    await requester.getByRole('button', { name: /登\s*录/ }).click();
    await requester.waitForURL((u) => !u.pathname.startsWith('/login'));
    await visible(requester.getByTestId('who').filter({ hasText: '王芳' }));

    await screenshot(issuer, 'issuer-inbox-before');

    const sendCase = async (name: string, id: string, address: string) => {
      await requester.getByRole('link', { name: '新建协查' }).click();
      await visible(requester.getByRole('heading', { name: '新建协查' }));
      await choose(requester, requester.locator('#catalog-item'), '户籍信息证明');
      await requester.getByLabel('姓名 / 名称').fill(name);
      await requester.getByLabel('公民身份号码 / 统一社会信用代码').fill(id);
      await requester.getByLabel('用途（办理的事项）').fill('社会保险参保登记');
      await requester.getByLabel('申请人申报的户籍地址').fill(address);
      // The deadline preview is on screen before sending.
      const preview = await visible(requester.getByTestId('deadline-preview'));
      await eventually(async () => expect(await text(preview)).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/));
    };

    await sendCase('张三', residentId('37030319850612001'), '淄博市张店区人民西路 1 号');
    await screenshot(requester, 'new-request', true);
    await requester.getByRole('button', { name: '发送协查函' }).click();
    const confirm = await visible(requester.getByRole('dialog'));
    await eventually(async () => expect(await text(confirm)).toContain('预计办结时限'));
    await confirm.getByRole('button', { name: '发送协查函' }).click();

    const docNumber = await text(await visible(requester.getByTestId('doc-number')));
    expect(docNumber).toMatch(/^淄人社协〔\d{4}〕\d+号$/);
    await visible(requester.locator('[data-status="awaiting_registration"]'));
    await visible(requester.locator('[data-event="created"]'));
    // The sender handles the case: the subject in full, in the header as in the content (one rule, issue 14).
    await eventually(async () =>
      expect(await text(requester.getByTestId('case-subject'))).toMatch(/^张三（\d{17}[\dX]）$/),
    );
    await screenshot(requester, 'request-sent');
    timings.sent = Date.now() - started;

    // ── The issuer sees it appear without reloading. ─────────────────────────────────────────────
    const row = issuer.getByTestId('inbox').locator('tr', { hasText: docNumber });
    await visible(row, 20_000);
    timings.seenLive = Date.now() - started;
    await eventually(async () =>
      expect(await issuer.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(
        true,
      ),
    );
    await eventually(async () => expect(await text(row)).toContain('待登记'));
    await eventually(async () => expect(await text(row)).toContain('淄博市人力资源和社会保障局'));
    await eventually(async () => expect(await text(row)).toMatch(/剩余|已超时/));
    await screenshot(issuer, 'issuer-inbox-live');

    // Claim it from the inbox, then answer it on the case page with the response template's form.
    await row.getByRole('button', { name: '登记受理' }).click();
    await visible(row.locator('[data-status="registered"]'));
    await row.getByRole('button', { name: '反馈' }).click();
    await visible(issuer.getByTestId('respond-card'));
    await visible(issuer.locator('[data-event="registered"]'));
    await choose(issuer, issuer.locator('#respond-result'), '一致');
    await issuer.getByLabel('登记的户籍地址').fill('淄博市张店区人民西路 1 号');
    await screenshot(issuer, 'issuer-respond-form', true);
    await issuer.getByRole('button', { name: '提交反馈' }).click();
    // The answer is repeated for confirmation before it is sent.
    const confirmAnswer = await visible(issuer.getByRole('dialog'));
    await eventually(async () =>
      expect(await text(confirmAnswer.getByTestId('confirm-result'))).toBe('一致'),
    );
    await confirmAnswer.getByRole('button', { name: '提交反馈' }).click();
    await visible(issuer.locator('[data-status="answered"]'));
    await visible(issuer.getByTestId('answer').getByText('淄博市张店区人民西路 1 号'));
    await screenshot(issuer, 'issuer-answered');
    timings.answered = Date.now() - started;

    // ── The requester sees the result (the case page updates live). ──────────────────────────────
    await visible(requester.locator('[data-status="answered"]'), 20_000);
    await eventually(async () => expect(await text(requester.getByTestId('case-result'))).toContain('一致'));
    await visible(requester.getByTestId('answer').getByText('淄博市张店区人民西路 1 号'));
    await visible(requester.locator('[data-event="answered"]'));
    await screenshot(requester, 'requester-result', true);

    await requester.getByRole('link', { name: '我的协查' }).click();
    await visible(requester.getByRole('heading', { name: '我的协查' }));
    await requester.locator('[data-tab="all"]').click();
    const outRow = requester.getByTestId('outbox').locator('tr', { hasText: docNumber });
    await visible(outRow.getByText('已反馈'));
    await eventually(async () => expect(await text(outRow)).toContain('一致'));
    await eventually(async () => expect(await text(outRow)).toContain('淄博市公安局'));
    await screenshot(requester, 'requester-my-requests');

    // ── The printable response letter. ───────────────────────────────────────────────────────────
    await outRow.getByRole('link', { name: docNumber }).click();
    await requester.getByRole('link', { name: '反馈函' }).click();
    const letter = await visible(requester.getByTestId('letter-response'));
    const letterText = await text(letter);
    expect(letterText).toContain('反 馈 函');
    expect(letterText).toContain(docNumber);
    expect(letterText).toContain('淄博市公安局');
    expect(letterText).toContain('淄博市人力资源和社会保障局');
    expect(letterText).toContain('登记的户籍地址');
    await eventually(async () => expect(await text(requester.getByTestId('letter-result'))).toBe('一致'));
    await screenshot(requester, 'response-letter', true);
    // The print stylesheet leaves only the letter.
    await requester.emulateMedia({ media: 'print' });
    await eventually(async () => expect(await requester.locator('.letter-toolbar').isVisible()).toBe(false));
    await screenshot(requester, 'response-letter-print', true);
    await requester.emulateMedia({ media: 'screen' });

    // ── A second case, left unanswered, escalates after the short SLA. ───────────────────────────
    await requester.getByRole('button', { name: '返回' }).click();
    await visible(requester.getByTestId('doc-number'));
    await sendCase('李四', residentId('37030319900101002'), '淄博市淄川区般阳路 2 号');
    await requester.getByRole('button', { name: '发送协查函' }).click();
    await (await visible(requester.getByRole('dialog'))).getByRole('button', { name: '发送协查函' }).click();
    const doc2 = await text(await visible(requester.getByTestId('doc-number')));
    expect(doc2).not.toBe(docNumber);
    const sent2 = Date.now();
    // The SLA runs out: the requester's case page shows the escalation without a reload.
    await visible(requester.locator('[data-event="escalated"]'), (SLA_SECONDS + 30) * 1000);
    timings.escalatedAfter = Date.now() - sent2;
    await visible(requester.locator('[data-sla="overdue"]'));
    await screenshot(requester, 'requester-case-escalated', true);

    // ── The office supervisor: escalation inbox, order a deadline. ───────────────────────────────
    const office = await open();
    await login(office, 'office');
    await visible(office.getByRole('heading', { name: '督办事项' }));
    const escRow = office.getByTestId('escalations').locator('tr', { hasText: doc2 });
    await visible(escRow);
    const escText = await text(escRow);
    expect(escText).toContain('逾期督办'); // level 1
    expect(escText).toContain('淄博市公安局'); // issuing unit
    expect(escText).toContain('已超时'); // how late
    expect(escText).toContain('待处理');
    await screenshot(office, 'office-escalations');

    await escRow.getByRole('button', { name: '责成限时办结' }).click();
    const order = await visible(office.getByRole('dialog'));
    await order.getByRole('button', { name: '1 个工作日' }).click();
    const picked = await order.locator('input').first().inputValue();
    expect(picked).toMatch(/^\d{4}-\d{2}-\d{2} 17:30$/);
    await screenshot(office, 'office-order-deadline');
    await order.getByRole('button', { name: '责成限时办结' }).click();
    await visible(escRow.locator('[data-esc-status="ordered"]'));
    await eventually(async () => expect(await text(escRow.getByTestId('ordered-due'))).toBe(picked));
    await screenshot(office, 'office-deadline-ordered');

    // The order reaches the case: the requester's timeline shows it live.
    await visible(requester.locator('[data-event="deadline_ordered"]'));

    // ── The office overview chart. ───────────────────────────────────────────────────────────────
    await office.getByRole('link', { name: '概览' }).click();
    const chart = await visible(office.getByTestId('overview-chart'));
    await visible(chart.locator('canvas'));
    await eventually(async () =>
      expect(await chart.getAttribute('aria-label')).toContain('淄博市公安局：在办 1，逾期 1'),
    );
    await screenshot(office, 'office-overview');

    // ── Phone width: the issuer's inbox and a case page. ─────────────────────────────────────────
    const phone = await open(PHONE);
    await login(phone, 'iss-a');
    await phone.goto('/inbox');
    await visible(phone.getByRole('heading', { name: '待办任务' }));
    const card = phone.locator('.case-card', { hasText: doc2 });
    await visible(card);
    // The office ordered a deadline: the card shows it as the deadline in force, under 督办 (not 已超时).
    await eventually(async () => expect(await text(card)).toContain(picked));
    await visible(card.getByTestId('supervision-tag'));
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(PHONE.width + 1); // no sideways scrolling
    await screenshot(phone, 'phone-inbox');
    await card.getByRole('link', { name: doc2 }).click();
    await visible(phone.getByTestId('doc-number'));
    await screenshot(phone, 'phone-case', true);

    timings.scenario = Date.now() - started;
  }, 240_000);

  it('administration, English, a forced password change and an expired session', async () => {
    const started = Date.now();
    const admin = await open();
    await login(admin, 'admin');
    await visible(admin.getByRole('heading', { name: '单位' }));
    const units = admin.locator('tr', { hasText: 'ZB-GA' });
    await visible(units);
    await eventually(async () => expect(await text(units)).toContain('淄博市公安局'));
    await visible(admin.getByText(/人员配备检查/));
    await screenshot(admin, 'admin-units');

    await admin.getByRole('link', { name: '证明事项' }).click();
    const item = admin.locator('tr', { hasText: 'HJ-001' });
    await visible(item);
    await eventually(async () => expect(await text(item)).toContain('户籍信息证明'));
    await admin.getByRole('link', { name: '人员' }).click();
    await visible(admin.locator('tr', { hasText: 'iss-a2' }));
    await screenshot(admin, 'admin-staff');
    await admin.getByRole('link', { name: '工作日历' }).click();
    await visible(admin.getByText('办公时间与收件规则'));
    await screenshot(admin, 'admin-calendar', true);

    // A year without an official schedule ahead: announced from 60 days before, then imported from a pasted
    // table after a preview of what changes.
    const coverageOf = async () =>
      (
        (await (await fetch(`${system.baseUrl}/api/v1/calendar/coverage`)).json()) as {
          gap: { year: number } | null;
        }
      ).gap;
    const gap = await coverageOf();
    const importYear = gap?.year ?? new Date().getFullYear() + 1;
    if (gap) await visible(admin.getByTestId('coverage-banner'));
    const schedule = admin.getByTestId('official-schedule');
    await schedule.getByLabel('导入年度').fill(String(importYear));
    await schedule
      .getByLabel('放假安排表')
      .fill(`${importYear}-01-01,休,元旦\n${importYear}-10-08,休,国庆节`);
    await schedule.getByRole('button', { name: '预览差异' }).click();
    const preview = await visible(schedule.getByTestId('official-preview'));
    await eventually(async () => expect(await text(preview)).toContain(`${importYear}-10-08`));
    await eventually(async () => expect(await text(preview)).toContain('是法定节假日，但安排中不是放假日'));
    await screenshot(admin, 'admin-calendar-import-preview', true);
    await schedule.getByRole('button', { name: '确认导入' }).click();
    await visible(admin.getByText(`${importYear} 年度放假安排已导入`));
    if (gap) expect((await coverageOf())?.year).not.toBe(importYear);

    // English is one click away, and stays Chinese-first for everyone else.
    await admin.locator('.ant-segmented-item', { hasText: 'EN' }).click();
    await visible(admin.getByRole('link', { name: 'Calendar' }));
    await visible(admin.getByRole('button', { name: 'Sign out' }));
    await screenshot(admin, 'admin-english');
    await admin.locator('.ant-segmented-item', { hasText: '中文' }).click();
    await visible(admin.getByRole('link', { name: '工作日历' }));

    // A new person with an issued password must change it before anything else.
    const token = await admin.evaluate(
      () => JSON.parse(sessionStorage.getItem('xiecha.session') ?? '{}').token,
    );
    const created = await fetch(`${system.baseUrl}/api/v1/admin/staff`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'new-agent',
        displayName: '新同事',
        unitCode: 'ZB-RS',
        role: 'agent',
      }),
    });
    expect(created.status).toBe(201);
    const { issuedPassword } = (await created.json()) as { issuedPassword: string };
    const newcomer = await open();
    await login(newcomer, 'new-agent', issuedPassword);
    await visible(newcomer.getByRole('heading', { name: '修改密码' }));
    await visible(newcomer.getByText('首次登录须修改初始密码后才能继续使用'));
    await newcomer.getByLabel('当前密码').fill(issuedPassword);
    await newcomer.getByLabel('新密码', { exact: true }).fill('short');
    await newcomer.getByLabel('确认新密码').fill('short');
    await newcomer.getByRole('button', { name: '保存' }).click();
    await visible(newcomer.getByText('至少 10 位，须同时包含字母和数字，不能包含用户名').nth(1));
    await screenshot(newcomer, 'forced-password-change');
    await newcomer.getByLabel('新密码', { exact: true }).fill('Qingdao2026x');
    await newcomer.getByLabel('确认新密码').fill('Qingdao2026x');
    await newcomer.getByRole('button', { name: '保存' }).click();
    await visible(newcomer.getByRole('heading', { name: '我的协查' }));

    // The session ends (token no longer valid): back to the login page, with the reason.
    await newcomer.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('xiecha.session') ?? '{}');
      sessionStorage.setItem('xiecha.session', JSON.stringify({ ...s, token: `${s.token}x` }));
    });
    await newcomer.reload();
    await newcomer.waitForURL((u) => u.pathname === '/login');
    await visible(newcomer.getByTestId('flash').getByText(/登录已过期|重新登录/));
    expect(new URL(newcomer.url()).searchParams.get('next')).toBe('/outbox');
    await screenshot(newcomer, 'session-expired');
    timings.admin = Date.now() - started;
  }, 120_000);
});
