/**
 * Issue 14's "before" screenshots: a web build from before the issue (06487e6, the parent of its first commit
 * b1daf9e) served by today's system, driven to what each item names, at 1440 and 390 px. Item 1's texts are
 * made by the server, so today's system shows them fixed even through the old build. The "after" shots are the browser tests' own (test-results/
 * issue14/ and test-results/screenshots/item*). The old build talks to today's API, which only adds to it.
 *
 *   git worktree add /tmp/r1 06487e6 && ln -s "$PWD/node_modules" /tmp/r1/node_modules
 *   (cd /tmp/r1 && npx vite build --config web/vite.config.ts --outDir /tmp/dist-r0); git worktree remove --force /tmp/r1
 *   npx tsx scripts/issue14-before-shots.ts /tmp/dist-r0        → test-results/issue14-before/itemN-*.png
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../app/temporal-tools.ts';
import { VALID_ID } from '../test/support/api.ts';
import { spawnEmbedded, stopEmbedded, waitReady } from '../test/support/embedded-process.ts';
import { choose, launchChromium, login, newUserContext, PHONE, systemApi } from '../test/web/browser.ts';

const dist = path.resolve(process.argv[2] ?? '/tmp/dist-r0');
const OUT = path.join(PROJECT_ROOT, 'test-results', 'issue14-before');
const WIDE = { width: 1440, height: 900 };
const SLA_SECONDS = 20;

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage, animations: 'disabled' });
  console.log('saved', `${name}.png`);
}

/** One step; a step that fails (an old screen without the control) is reported and the others go on. */
async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    console.log(`skipped ${name}: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-before-'));
  const system = await spawnEmbedded(dataDir, { WEB_DIST_DIR: dist, DEV_SLA_SECONDS: String(SLA_SECONDS) });
  let browser: Browser | undefined;
  try {
    await waitReady(system, 240_000);
    const tokens: Record<string, string> = {};
    for (const who of ['req-a', 'iss-a', 'office', 'admin']) {
      const r = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: who, password: 'demo1234' }),
      });
      tokens[who] = ((await r.json()) as { token: string }).token;
    }
    const api = systemApi(() => system.baseUrl, tokens, 'before');
    const start = async (catalogCode: string, fields: object, purpose: string) =>
      (
        await api('req-a', 'POST', '/api/v1/verifications', {
          catalogCode,
          subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
          fields,
          purpose,
        })
      ).json as { id: string };
    const longPurpose = '教师资格认定申请材料核验，核实申请人是否存在影响教师资格认定的违法犯罪记录并存档备查'
      .repeat(6)
      .slice(0, 200);
    const escalating = await start('HJ-001', { declaredAddress: '淄博市张店区人民西路 1 号' }, longPurpose);
    const answering = await start('WF-002', { period: '2016年至今' }, '社会保险参保登记');
    await new Promise((r) => setTimeout(r, 3000));
    await api('iss-a', 'POST', `/api/v1/verifications/${answering.id}/register`, {});
    // Reminders and the escalation fire (20-second SLAs), then the office orders a deadline.
    await new Promise((r) => setTimeout(r, (SLA_SECONDS + 25) * 1000));
    const ordered = await api(
      'office',
      'POST',
      `/api/v1/escalations/${encodeURIComponent(`${escalating.id}:1`)}/order`,
      {
        dueAt: new Date(Date.now() + 2 * 3_600_000).toISOString(),
        note: '请于两小时内办结',
      },
    );
    console.log('deadline ordered:', ordered.status);

    browser = await launchChromium();
    const open = async (who: string, viewport = WIDE) => {
      const context = await newUserContext(browser as Browser, system.baseUrl, viewport);
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      await login(page, who).catch(async () => {
        await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      });
      return page;
    };

    const issuer = await open('iss-a');
    const phone = await open('iss-a', PHONE);
    // The bell (its badge sits over it: the click is forced).
    const bell = (p: Page) => p.getByRole('button', { name: /通知/ }).first();

    await step('item 1/2', async () => {
      await issuer.goto('/inbox');
      await bell(issuer).click({ force: true });
      await shot(issuer, 'item1-notifications-1440', false);
      await shot(issuer, 'item2-badge-and-list-1440', false);
      await phone.goto('/inbox');
      await bell(phone).click({ force: true });
      await shot(phone, 'item1-notifications-390', false);
    });
    await step('item 3', async () => {
      await issuer.goto(`/cases/${encodeURIComponent(answering.id)}`);
      await shot(issuer, 'item3-respond-form-1440');
    });
    await step('item 4', async () => {
      await issuer.goto(`/cases/${encodeURIComponent(escalating.id)}`);
      await shot(issuer, 'item4-long-purpose-1440');
      await phone.goto(`/cases/${encodeURIComponent(escalating.id)}`);
      await shot(phone, 'item4-long-purpose-390');
    });
    await step('item 5 / 6', async () => {
      await issuer.goto('/inbox');
      await shot(issuer, 'item5-inbox-ordered-1440');
      await shot(issuer, 'item6-inbox-1440');
      await phone.goto('/inbox');
      await shot(phone, 'item5-inbox-ordered-390');
    });
    await step('item 7', async () => {
      await phone.goto('/escalations').catch(() => {});
      const office = await open('office', PHONE);
      await office.goto(`/escalations`);
      await shot(office, 'item7-escalations-390');
      await shot(phone, 'item7-phone-page-390');
    });
    await step('item 8', async () => {
      const requester = await open('req-a');
      await requester.goto('/new');
      await choose(requester, requester.locator('.ant-select').first(), '户籍信息证明');
      await requester
        .getByRole('button', { name: /发送协查函/ })
        .first()
        .click();
      await shot(requester, 'item8-empty-submit-1440');
    });
    await step('item 9', async () => {
      const admin = await open('admin');
      await admin.goto('/admin/calendar');
      await shot(admin, 'item9-calendar-1440');
      await admin.goto('/admin/catalog');
      await shot(admin, 'item9-catalog-editor-1440');
      await issuer.goto(`/cases/${encodeURIComponent(answering.id)}`);
      await shot(issuer, 'item9-file-input-1440');
    });
    await step('item 10', async () => {
      const context = await newUserContext(browser as Browser, system.baseUrl, WIDE);
      const tab = await context.newPage();
      await tab.goto(`/cases/${encodeURIComponent(escalating.id)}`);
      await shot(tab, 'item10-new-tab-1440', false);
    });
    await step('item 12', async () => {
      const other = await open('req-b');
      await other.goto('/outbox');
      await shot(other, 'item12-empty-outbox-1440');
      await other.goto('/outbox');
      const phoneOther = await open('req-b', PHONE);
      await phoneOther.goto('/outbox');
      await shot(phoneOther, 'item12-empty-outbox-390');
    });
  } finally {
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
