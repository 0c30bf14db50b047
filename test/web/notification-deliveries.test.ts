/**
 * The administrator's 消息投递 page in a real browser against the real system (`app/main.ts` with a 钉钉 robot
 * configured to a local receiver): the units' robots (one set through the page's dialog) and the delivery
 * log of a new case's messages, in Chinese with Beijing times; the robot's secret appears nowhere.
 */

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
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
  visible,
} from './browser.ts';

const run = hasChromium() ? describe : describe.skip;
const SECRET = 'SECbrowser-test-secret';

run('消息投递 (notification deliveries) in a real browser', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-deliveries-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  let context: BrowserContext | undefined;
  const received: string[] = [];
  const robot = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    await new Promise<void>((r) => robot.listen(0, '127.0.0.1', r));
    const port = (robot.address() as AddressInfo).port;
    system = await spawnEmbedded(dataDir, {
      NOTIFY_DINGTALK_URL: `http://127.0.0.1:${port}/robot/send`,
      NOTIFY_DINGTALK_ROBOTS: JSON.stringify({ 'lxb-group': { accessToken: 'tok', secret: SECRET } }),
      NOTIFY_SMS_URL: `http://127.0.0.1:${port}/sms`,
    });
    await waitReady(system, 180_000);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
    robot.close();
  }, 60_000);

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

  it('shows the units’ robots, sets one through the dialog, and lists a new case’s robot messages', async () => {
    const admin = await as('admin');
    for (const unit of ['ZB-GA', 'ZB-RS'])
      await admin('PUT', `/api/v1/notification-preferences/units/${unit}`, {
        channel: 'dingtalk',
        robot: 'lxb-group',
      });
    const req = await as('req-a');
    await req('POST', '/api/v1/verifications', {
      catalogCode: 'HJ-001',
      subject: { kind: 'person', name: '张三丰', idNumber: VALID_ID },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
    });
    await eventually(async () => {
      const log = await admin<{ items: unknown[] }>('GET', '/api/v1/admin/notification-deliveries');
      expect(log.items.length).toBeGreaterThan(0);
    }, 60_000);

    context = await newUserContext(browser, system.baseUrl);
    const page = await context.newPage();
    await login(page, 'admin');
    await page.waitForURL((u) => u.pathname === '/admin/units'); // the administrator's start page first
    // The admin menu leads there.
    await page.getByRole('menuitem', { name: /消息投递/ }).click();
    await visible(page.getByText('投递记录'));
    expect(new URL(page.url()).pathname).toBe('/admin/notification-deliveries');
    const table = page.getByTestId('deliveries-table');
    const row = table.locator('tr', { hasText: '钉钉群机器人' }).first();
    await visible(row);
    // Held for office hours or already sent, depending on when the test runs (Beijing time).
    expect(await row.textContent()).toMatch(/静默时段暂缓（上班后发送）|已发送|待发送/);
    expect(await row.textContent()).toMatch(/机器人 lxb-group/);
    expect(await row.textContent()).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/);

    // Set the civil affairs bureau's robot through the dialog.
    await page.getByTestId('robot-edit-ZB-MZ').click();
    const dialog = page.locator('.ant-modal:visible');
    await visible(dialog);
    await choose(page, dialog.locator('.ant-select').first(), '钉钉群机器人');
    await choose(page, dialog.locator('.ant-select').nth(1), 'lxb-group');
    await dialog.getByRole('button', { name: /保\s*存/ }).click();
    await eventually(async () => {
      const units = await admin<{ items: { unitCode: string; channel: string; robot: string | null }[] }>(
        'GET',
        '/api/v1/notification-preferences/units',
      );
      expect(units.items.find((u) => u.unitCode === 'ZB-MZ')).toMatchObject({
        channel: 'dingtalk',
        robot: 'lxb-group',
      });
    });
    await visible(page.locator('tr', { hasText: '淄博市民政局' }).filter({ hasText: 'lxb-group' }));
    expect(await page.content()).not.toContain(SECRET);
  });

  it('a liaison chooses SMS for new tasks under the message centre', async () => {
    const own = await newUserContext(browser, system.baseUrl);
    const page = await own.newPage();
    await login(page, 'iss-a-lia');
    await page.goto('/notifications');
    const card = page.getByTestId('sms-preferences');
    await visible(card);
    await card.getByLabel('手机号').fill('1381234');
    await card.getByRole('button', { name: /保\s*存/ }).click();
    await visible(card.getByText('请填写 11 位手机号'));
    await card.getByLabel('手机号').fill('13812345678');
    await choose(page, card.locator('.ant-select').first(), '新的协查任务');
    await page.keyboard.press('Escape');
    await card.getByRole('button', { name: /保\s*存/ }).click();
    const liaison = await as('iss-a-lia');
    await eventually(async () => {
      expect(await liaison('GET', '/api/v1/notification-preferences/me')).toMatchObject({
        phone: '13812345678',
        smsKinds: ['new_task'],
      });
    });
    await own.close();
  });
});
