/**
 * One real system and one Chromium for a browser test file: the embedded system as `npm start` runs it (on its
 * own data directory, with the given environment), the web build made if it is stale, a browser context per
 * person, and their API tokens. Every page's uncaught errors and console errors other than an expected 4xx are
 * collected, and each test fails if its pages logged any (issue 14: "no console errors other than expected 4xx").
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { type EmbeddedProcess, spawnEmbedded, stopEmbedded, waitReady } from '../support/embedded-process.ts';
import { launchChromium, newUserContext } from './browser.ts';

export interface BrowserSuite {
  baseUrl(): string;
  /** A page in a new context (its own session), at `viewport` (1440 × 900 by default). */
  open(viewport?: { width: number; height: number }): Promise<Page>;
  /** The API as `username` (logged in once): an answer that is not 2xx throws with its status and body. */
  as(username: string): Promise<ApiCaller>;
}

export type ApiCaller = (
  method: string,
  url: string,
  body?: unknown,
) => Promise<{ status: number; json: Record<string, unknown> }>;

export const WIDE = { width: 1440, height: 900 };

export function browserSuite(
  name: string,
  env: Record<string, string> = {},
  { readyMs = 240_000 }: { readyMs?: number } = {},
): BrowserSuite {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `xiecha-${name}-`));
  let system: EmbeddedProcess | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const tokens = new Map<string, string>();
  let errors: string[] = [];

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, env);
    await waitReady(system, readyMs);
    browser = await launchChromium();
  }, readyMs + 120_000);

  afterEach(() => {
    const logged = errors;
    errors = [];
    expect(logged, 'errors in the browser console').toEqual([]);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    if (system) await stopEmbedded(system, dataDir);
  }, 60_000);

  const baseUrl = (): string => {
    if (!system) throw new Error('the system is not started yet');
    return system.baseUrl;
  };

  return {
    baseUrl,
    async open(viewport = WIDE) {
      if (!browser) throw new Error('the browser is not started yet');
      const context = await newUserContext(browser, baseUrl(), viewport);
      // Several sessions may share two cores: give a loaded machine time to draw the page.
      context.setDefaultTimeout(60_000);
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (m) => {
        if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
      });
      return page;
    },
    async as(username) {
      let token = tokens.get(username);
      if (!token) {
        const res = await fetch(`${baseUrl()}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: 'demo1234' }),
        });
        expect(res.status, `login ${username}`).toBe(200);
        token = ((await res.json()) as { token: string }).token;
        tokens.set(username, token);
      }
      const bearer = token;
      return async (method, url, body) => {
        const r = await fetch(`${baseUrl()}${url}`, {
          method,
          headers: {
            authorization: `Bearer ${bearer}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const json = (await r.json().catch(() => ({}))) as Record<string, unknown>;
        if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json)}`);
        return { status: r.status, json };
      };
    },
  };
}
