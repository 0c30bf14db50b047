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

export const UNCLAIMED_FILTER = '.ant-segmented-item:has-text("未登记"), .ant-tabs-tab:has-text("待认领")';
export const UNCLAIMED_SELECTED =
  '.ant-segmented-item-selected:has-text("未登记"), .ant-tabs-tab-active:has-text("待认领")';

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
    await page.locator('.ant-table-row').first().waitFor({ state: 'visible', timeout: 60_000 });
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
