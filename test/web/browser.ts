/**
 * Browser-test support: Debian's Chromium driven by playwright-core (never a browser download), and
 * small helpers that wait on the screen the way a person would look at it (auto-waiting locators).
 */

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { vi } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { isValidResidentId } from '../../domain/identifiers.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(PROJECT_ROOT, 'test-results', 'screenshots');

export const hasChromium = (): boolean => existsSync(CHROMIUM);

/**
 * A headless Chromium. Each launch runs on a fresh profile: playwright-core creates a new temporary
 * `--user-data-dir` (mkdtemp) for every non-persistent launch and deletes it when the browser closes
 * (it refuses a `--user-data-dir` argument of ours), and every `newContext()` is isolated on top.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    timeout: 60_000,
  });
}

export const DESKTOP = { width: 1366, height: 768 };
export const PHONE = { width: 390, height: 844 };

export async function newUserContext(
  browser: Browser,
  baseURL: string,
  viewport = DESKTOP,
): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    viewport,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    deviceScaleFactor: 1,
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
  });
  context.setDefaultTimeout(20_000);
  return context;
}

let shot = 0;
/** Saves `test-results/screenshots/NN-name.png`; returns the path. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  shot += 1;
  const file = path.join(SCREENSHOTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  // Let transient toasts and transitions settle into what a person would see.
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  return file;
}

/** Waits until the locator is visible (polling the screen; no fixed sleeps). */
export async function visible(locator: Locator, timeout = 20_000): Promise<Locator> {
  await locator.first().waitFor({ state: 'visible', timeout });
  return locator.first();
}

/**
 * Asserts on what the screen shows once it has settled: re-runs `check` (which holds `expect`s) until it passes,
 * failing with its last error after `timeout`. An element being on screen says nothing about its content
 * (a chart's canvas appears before its data arrives), so every assertion on content goes through this.
 */
export function eventually<T>(check: () => Promise<T>, timeout = 20_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 200 });
}

/** Waits until `fn` returns true, checking the page every 250 ms. */
export async function until(page: Page, what: string, fn: () => Promise<boolean>, timeout = 20_000) {
  const started = Date.now();
  while (Date.now() - started < timeout) {
    if (await fn().catch(() => false)) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`timed out after ${timeout} ms waiting for: ${what}`);
}

export async function login(page: Page, username: string, password = 'demo1234'): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: /登\s*录/ }).click();
  // Past the login page and past `/`, whose landing redirect would otherwise overtake the test's next click.
  await page.waitForURL((u) => !u.pathname.startsWith('/login') && u.pathname !== '/');
}

/**
 * Picks the option of an antd Select whose text matches, then waits until the field shows it. A click on an
 * option can be lost when the list re-renders under the pointer (its data refetched on a loaded machine):
 * the dropdown then stays open over the form with nothing chosen, so the pick is retried (at most 3 times).
 */
export async function choose(page: Page, select: Locator, text: string): Promise<void> {
  // The open dropdown: not a hidden one, nor one still closing (its leave animation) after an earlier pick.
  const dropdown = page.locator(
    '.ant-select-dropdown:not(.ant-select-dropdown-hidden):not([class*="-leave"])',
  );
  const combobox =
    (await select.getAttribute('role')) === 'combobox' ? select : select.getByRole('combobox').first();
  // The select's field: the locator itself (an .ant-select) or the one around it (its combobox input).
  const field = select.locator(
    'xpath=ancestor-or-self::div[contains(concat(" ", @class, " "), " ant-select ")][1]',
  );
  // The field's own text is what it shows chosen (the dropdown is elsewhere in the page).
  const chosen = field.filter({ hasText: text });
  for (let attempt = 1; ; attempt++) {
    if ((await combobox.getAttribute('aria-expanded')) !== 'true') await select.click();
    await visible(dropdown);
    await dropdown.locator('.ant-select-item-option', { hasText: text }).first().click();
    try {
      await chosen.first().waitFor({ state: 'visible', timeout: 5000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/** The element's text (trimmed; '' when it has none). */
export async function text(locator: Locator): Promise<string> {
  return ((await locator.first().textContent()) ?? '').trim();
}

/**
 * A caller of a running system's API as a signed-in demo user (`tokens[who]`), for a browser suite's set-up:
 * JSON in and out, a fresh Idempotency-Key on each POST.
 */
export function systemApi(baseUrl: () => string, tokens: Record<string, string>, keyPrefix: string) {
  return async (who: string, method: 'GET' | 'POST', url: string, body?: object) => {
    const res = await fetch(`${baseUrl()}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(method === 'POST'
          ? { 'idempotency-key': `${keyPrefix}-${Math.random().toString(36).slice(2)}` }
          : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
}

/** A resident ID number with its GB 11643 check character, from its first 17 digits (test subjects). */
export function residentId(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((a, c, i) => a + Number(c) * (w[i] as number), 0);
  const id = first17 + ('10X98765432'[sum % 11] as string);
  if (!isValidResidentId(id)) throw new Error(`bad test ID ${id}`);
  return id;
}
