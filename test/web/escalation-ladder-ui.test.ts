/**
 * The office's escalation page in a real browser (Debian's Chromium through playwright-core) against the
 * real system (`app/main.ts` with a short DEV_SLA_SECONDS): two cases sent and registered through the API
 * escalate; the supervisor filters the list by issuing unit, opens one, records an investigation (组织调查)
 * and raises it to level 2 after a confirmation; the city government's reviewer then sees the same record
 * read-only. Screenshots under test-results/screenshots/.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, webBuildReason } from '../../app/web-assets.ts';
import { VALID_ID } from '../support/api.ts';
import { type EmbeddedProcess, spawnEmbedded, stopEmbedded, waitReady } from '../support/embedded-process.ts';
import {
  choose,
  eventually,
  hasChromium,
  launchChromium,
  login,
  newUserContext,
  screenshot,
  text,
  visible,
} from './browser.ts';

const SLA_SECONDS = 6;
const run = hasChromium() ? describe : describe.skip;

run('the escalation page in a real browser', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-ladder-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, { DEV_SLA_SECONDS: String(SLA_SECONDS) });
    await waitReady(system, 120_000);
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  const open = async (): Promise<Page> => {
    const context = await newUserContext(browser, system.baseUrl);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`[browser error] ${err.message}\n`));
    return page;
  };

  /** The REST API as a person, for what the test sets up (cases are not what this page is about). */
  const as = async (username: string) => {
    const res = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'demo1234' }),
    });
    const { token } = (await res.json()) as { token: string };
    return async (method: string, url: string, body?: unknown) => {
      const r = await fetch(`${system.baseUrl}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await r.json()) as Record<string, unknown>;
      if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    };
  };

  it('filters, records an investigation and raises to level 2; the reviewer reads it', async () => {
    const [req, issA, issB, office] = await Promise.all([
      as('req-a'),
      as('iss-a'),
      as('iss-b'),
      as('office'),
    ]);
    const subject = { kind: 'person', name: '张三', idNumber: VALID_ID };
    const ga = await req('POST', '/api/v1/verifications', {
      catalogCode: 'HJ-001',
      subject,
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
    });
    const mz = await req('POST', '/api/v1/verifications', {
      catalogCode: 'HY-003',
      subject,
      fields: { declaredStatus: '已婚' },
      purpose: '公共租赁住房申请',
    });
    await issA('POST', `/api/v1/verifications/${ga.id}/register`, {});
    await issB('POST', `/api/v1/verifications/${mz.id}/register`, {});
    // Both miss their (short) deadline and escalate.
    await eventually(
      async () => {
        const list = (await office('GET', '/api/v1/escalations')) as { items: { caseId: string }[] };
        expect(list.items.map((i) => i.caseId)).toEqual(expect.arrayContaining([ga.id, mz.id]));
      },
      (SLA_SECONDS + 30) * 1000,
    );

    const page = await open();
    await login(page, 'office');
    await visible(page.getByRole('heading', { name: '督办事项' }));
    const table = page.getByTestId('escalations');
    const gaRow = table.locator('tr', { hasText: String(ga.docNumber) });
    const mzRow = table.locator('tr', { hasText: String(mz.docNumber) });
    await visible(gaRow);
    await visible(mzRow);
    await screenshot(page, 'ladder-list');

    // ── Filter by issuing unit: only the public security bureau's escalation stays. ───────────────
    await choose(page, page.getByRole('combobox', { name: '出具单位' }), '淄博市公安局');
    await eventually(async () => expect(await mzRow.count()).toBe(0));
    await visible(gaRow);
    expect(await text(gaRow)).toContain('逾期督办');
    await screenshot(page, 'ladder-filtered');

    // ── The detail: who was responsible, then an investigation. ──────────────────────────────────
    await gaRow.getByRole('button', { name: '详情' }).click();
    const drawer = await visible(page.getByTestId('escalation-detail'));
    await eventually(async () => expect(await text(drawer.getByTestId('responsible'))).toContain('郑伟'));
    await page.getByRole('button', { name: '记录调查' }).click();
    const dialog = await visible(page.locator('.ant-modal', { hasText: '保存调查记录' }));
    await dialog.getByLabel('调查人员 姓名').fill('韩梅');
    await dialog.getByLabel('调查人员 职务').fill('联席会议办公室督办科');
    await dialog.getByLabel('调查情况').fill('承办人未及时查询户籍档案，联络员未跟踪督促。');
    await screenshot(page, 'ladder-investigation-form');
    await dialog.getByRole('button', { name: '保存调查记录' }).click();
    const investigation = await visible(page.getByTestId('investigation'));
    await eventually(async () => expect(await text(investigation)).toContain('承办人未及时查询户籍档案'));
    expect(await text(investigation)).toContain('韩梅（联席会议办公室督办科）');
    expect(await text(investigation)).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/); // Beijing time

    // ── Raise to level 2, after a confirmation. ──────────────────────────────────────────────────
    await page.getByRole('button', { name: '提级为第二级' }).click();
    const raise = await visible(page.locator('.ant-modal', { hasText: '不良影响及提级理由' }));
    await raise.getByLabel('不良影响及提级理由').fill('申请人因证明延误未能按期参保，造成不良影响');
    await raise.getByRole('button', { name: '提级为第二级' }).click();
    const confirm = await visible(page.locator('.ant-modal-confirm'));
    expect(await text(confirm)).toContain('出具单位负责人将收到通知');
    await screenshot(page, 'ladder-raise-confirm');
    await confirm.getByRole('button', { name: '确认' }).click();
    await eventually(async () => expect(await text(drawer)).toContain('认定造成不良影响，提级为第二级'));
    await eventually(async () => expect(await text(drawer)).toContain('建议约谈'));
    await screenshot(page, 'ladder-raised', true);
    // The list row shows the level the office decided.
    await page.locator('.ant-drawer-close').click();
    await eventually(async () => expect(await text(gaRow)).toContain('建议约谈'));
    expect(await text(gaRow)).toContain('认定提级');

    // ── The city government's reviewer: the same record, read-only. ──────────────────────────────
    const reviewer = await open();
    await login(reviewer, 'gov-review');
    await visible(reviewer.getByRole('heading', { name: '督办事项' }));
    const row = reviewer.getByTestId('escalations').locator('tr', { hasText: String(ga.docNumber) });
    await visible(row);
    await row.getByRole('button', { name: '详情' }).click();
    const readOnly = await visible(reviewer.getByTestId('escalation-detail'));
    await eventually(async () => expect(await text(readOnly)).toContain('承办人未及时查询户籍档案'));
    await visible(reviewer.getByText('只读', { exact: true }));
    expect(await reviewer.getByRole('button', { name: '记录调查' }).count()).toBe(0);
    expect(await reviewer.getByRole('button', { name: '提级为第二级' }).count()).toBe(0);
    await screenshot(reviewer, 'ladder-reviewer');
  }, 180_000);
});
