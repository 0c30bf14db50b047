/**
 * The inbox the TTI benchmarks load (bench/tti*.ts): the real system serving a web build, its seed, the
 * issuer signed in on /inbox in Chromium, and the unclaimed filter a person clicks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { isAlive } from '../app/data-dir.ts';
import { VALID_ID } from '../test/support/api.ts';
import { pidOfDevServer, spawnEmbedded, waitReady } from '../test/support/embedded-process.ts';
import { launchChromium, login, newUserContext } from '../test/web/browser.ts';

/** Eight open HJ-001 cases from the requesting unit A, all in the issuer iss-a's inbox. */
export async function seedInbox(baseUrl: string): Promise<void> {
  const token = async (username: string) => {
    const r = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'demo1234' }),
    });
    return ((await r.json()) as { token: string }).token;
  };
  const req = await token('req-a');
  for (let i = 0; i < 8; i++) {
    const r = await fetch(`${baseUrl}/api/v1/verifications`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${req}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify({
        catalogCode: 'HJ-001',
        subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
        fields: { declaredAddress: `淄博市张店区人民西路 ${i + 1} 号` },
        purpose: '社会保险参保登记',
      }),
    });
    if (!r.ok) throw new Error(`seed: ${r.status} ${await r.text()}`);
  }
}

/**
 * Something on the page: the elements matching `css` whose text contains `text`. Plain CSS and text, so
 * that the benchmark can wait for it with a few lines of DOM in the page (`visibleTarget`) instead of
 * Playwright's injected script, whose polling takes the page's CPU while it loads (100–200 ms at 4×).
 */
export interface Target {
  css: string;
  text?: string;
}

/** The inbox's rows: the first screen's (drawn without React while the full page loads) or antd's table. */
export const INBOX_ROWS: Target[] = [
  { css: '[data-testid="first-screen"] .fs-row' },
  { css: '.ant-table-row' },
];
/** The unclaimed filter: a segmented 未登记 before issue 14's lists, the 待认领 tab since (the first screen's too). */
export const UNCLAIMED_FILTER: Target[] = [
  { css: '[data-first-tab="unclaimed"]' },
  { css: '.ant-segmented-item', text: '未登记' },
  { css: '.ant-tabs-tab', text: '待认领' },
];
/** The full page on screen with the unclaimed filter chosen (the first screen, if any, handed over). */
export const FULL_PAGE_UNCLAIMED: Target[] = [
  { css: '.ant-segmented-item-selected', text: '未登记' },
  { css: '.ant-tabs-tab-active', text: '待认领' },
];
export const UNCLAIMED_SELECTED: Target[] = [
  { css: '[data-first-tab="unclaimed"][aria-selected="true"]' },
  ...FULL_PAGE_UNCLAIMED,
];

/** The targets as one Playwright selector (for the steps that are not timed). */
export const selector = (targets: Target[]) =>
  targets.map((t) => (t.text ? `${t.css}:has-text(${JSON.stringify(t.text)})` : t.css)).join(', ');

/**
 * Waits in the page (CDP Runtime.evaluate, no Playwright script) until one of `targets` is visible, checking
 * once per frame after the DOM changed; returns the centre of the first one, in CSS pixels.
 */
export async function visibleTarget(
  cdp: CDPSession,
  targets: Target[],
  timeoutMs = 60_000,
): Promise<{ x: number; y: number }> {
  const expression = `new Promise((resolve, reject) => {
    const targets = ${JSON.stringify(targets)};
    const find = () => {
      for (const t of targets)
        for (const e of document.querySelectorAll(t.css)) {
          if (t.text && !(e.textContent || '').includes(t.text)) continue;
          const r = e.getBoundingClientRect();
          if (r.width > 0 && r.height > 0 && getComputedStyle(e).visibility === 'visible')
            return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
    };
    let queued = false;
    const observer = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; check(); });
    });
    const timer = setTimeout(() => { observer.disconnect(); reject(new Error('not visible: ' + JSON.stringify(targets))); }, ${timeoutMs});
    const check = () => {
      const at = find();
      if (at) { observer.disconnect(); clearTimeout(timer); resolve(at); }
    };
    observer.observe(document, { subtree: true, childList: true, attributes: true });
    check();
  })`;
  const r = (await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
    result: { value?: { x: number; y: number } };
    exceptionDetails?: { exception?: { description?: string } };
  };
  if (r.exceptionDetails || !r.result.value)
    throw new Error(r.exceptionDetails?.exception?.description ?? 'visibleTarget: no answer');
  return r.result.value;
}

/** A person's click at a point: the browser's own input events (CDP Input), as a mouse makes them. */
export async function clickAt(cdp: CDPSession, at: { x: number; y: number }): Promise<void> {
  await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...at });
  await cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...at, button: 'left', clickCount: 1 });
  await cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...at, button: 'left', clickCount: 1 });
}

/** What one load of the inbox took, in ms from the navigation. */
export interface InboxLoad {
  /** Until its rows were on screen. */
  rows: number;
  /** Until a click on the unclaimed filter had been handled (the control shows it chosen): TTI. */
  tti: number;
  /** Until the full page was on screen with that filter (later than TTI only behind a first screen). */
  full: number;
}

/**
 * Loads /inbox and clicks the unclaimed filter as soon as it is on screen, timing both. Waits and the click
 * go through CDP (visibleTarget, clickAt), so no Playwright script runs in the page meanwhile; `playwright`
 * uses Playwright's locators instead (how the benchmark measured until 2 December: its polling in the page
 * costs the page CPU, so its figures are higher).
 */
export async function loadInboxAndClick(
  page: Page,
  cdp: CDPSession,
  via: 'cdp' | 'playwright' = 'cdp',
): Promise<InboxLoad> {
  const wait =
    via === 'cdp'
      ? (targets: Target[]) => visibleTarget(cdp, targets)
      : (targets: Target[]) =>
          page.locator(selector(targets)).first().waitFor({ state: 'visible', timeout: 60_000 });
  const click =
    via === 'cdp'
      ? async (targets: Target[]) => clickAt(cdp, await visibleTarget(cdp, targets))
      : (targets: Target[]) => page.locator(selector(targets)).first().click({ timeout: 60_000 });
  const t0 = Date.now();
  await page.goto('/inbox', { waitUntil: 'commit' });
  await wait(INBOX_ROWS);
  const rows = Date.now() - t0;
  await click(UNCLAIMED_FILTER);
  await wait(UNCLAIMED_SELECTED);
  const tti = Date.now() - t0;
  await wait(FULL_PAGE_UNCLAIMED);
  return { rows, tti, full: Date.now() - t0 };
}

export interface InboxSession {
  context: BrowserContext;
  page: Page;
  /** A DevTools session on the page, with the Network domain enabled. */
  cdp: CDPSession;
}

/**
 * Runs `measure` against the system (`app/main.ts`, as `npm start` runs it) serving the web build in `dist`
 * (WEB_DIST_DIR), 8 open cases in the issuer's inbox, the issuer signed in with the inbox on screen; then
 * stops the browser and the system (its Temporal dev server too) and removes its data.
 */
export async function withInbox<T>(dist: string, measure: (s: InboxSession) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-tti-'));
  const system = await spawnEmbedded(dataDir, { WEB_DIST_DIR: dist });
  const browser = await launchChromium();
  try {
    await waitReady(system, 180_000);
    await seedInbox(system.baseUrl);
    const context = await newUserContext(browser, system.baseUrl);
    const page = await context.newPage();
    await login(page, 'iss-a');
    await page.goto('/inbox');
    await page.locator(selector(INBOX_ROWS)).first().waitFor({ state: 'visible', timeout: 60_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const result = await measure({ context, page, cdp });
    await context.close();
    return result;
  } finally {
    await browser.close().catch(() => {});
    system.child.kill('SIGINT');
    await Promise.race([system.exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (system.child.exitCode === null) system.child.kill('SIGKILL');
    const orphan = pidOfDevServer(dataDir);
    if (orphan && isAlive(orphan)) process.kill(orphan, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
