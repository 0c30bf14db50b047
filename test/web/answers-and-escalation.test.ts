/**
 * Issue 14, items 2–5 in a real browser (Debian's Chromium through playwright-core) against the embedded
 * system with 20-second SLAs:
 *
 *   3. the response form starts with nothing chosen (请选择), refuses an untouched answer, and repeats the
 *      answer in a confirmation before 提交反馈 sends it;
 *   4. a 200-character 用途 and a long 备注 wrap in their own cells: no label is narrower than its text on
 *      one line, at 1440 px and at 390 px;
 *   5. after the office orders a deadline, the issuer's inbox row and the top of the case show the deadline
 *      in force (the ordered one) and a 督办 tag with its level;
 *   2. the message centre lists the notifications, read and unread, and 全部已读 clears them for the person.
 *
 * Screenshots are saved per item under test-results/screenshots/ (names start with `item`).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
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
  screenshot,
  systemApi,
  text,
  visible,
} from './browser.ts';

const SLA_SECONDS = 20;
const WIDE = { width: 1440, height: 900 };

/** `2026-11-23 14:05` in Beijing time, as the web app shows instants. */
const beijing = (iso: string) =>
  new Date(new Date(iso).getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

/** A 200-character purpose without a space in it, and a long remark. */
const PURPOSE = '教师资格认定申请材料核验，核实申请人是否存在影响教师资格认定的违法犯罪记录并存档备查'
  .repeat(6)
  .slice(0, 200);
const REMARK = `经查询全国违法犯罪人员信息资源库及本地前科库，未发现该人员有犯罪记录。${'查询编号ZB2026120100000000000001'.repeat(4)}`;

interface LabelFit {
  text: string;
  width: number;
  need: number;
  lines: number;
}

/**
 * Each label in `scope`: its width against the width its text needs on one line (measured by a probe
 * with the same font and no wrapping), and the lines its text takes.
 */
async function labelFits(scope: Locator): Promise<LabelFit[]> {
  return scope.locator('.ant-descriptions-item-label').evaluateAll((labels) =>
    labels.map((l) => {
      const cs = getComputedStyle(l);
      const probe = document.createElement('span');
      probe.style.cssText = `position:absolute;visibility:hidden;white-space:nowrap;font:${cs.font};letter-spacing:${cs.letterSpacing}`;
      probe.textContent = l.textContent ?? '';
      document.body.appendChild(probe);
      const need = probe.getBoundingClientRect().width;
      probe.remove();
      const r = l.getBoundingClientRect();
      const pad = Number.parseFloat(cs.paddingLeft) + Number.parseFloat(cs.paddingRight);
      const range = document.createRange();
      range.selectNodeContents(l);
      const lines = new Set(
        [...range.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)),
      );
      return { text: l.textContent ?? '', width: r.width - pad, need, lines: lines.size };
    }),
  );
}

async function expectLabelsOnOneLine(scope: Locator): Promise<void> {
  // A dialog zooms in (antd scales it from 0.2 to 1), so a measure taken during the animation is too small:
  // measure again until the layout has settled, for at most 5 s; a label squeezed for good still fails.
  const until = Date.now() + 5000;
  for (;;) {
    const fits = await labelFits(scope);
    try {
      expect(fits.length).toBeGreaterThan(0);
      for (const f of fits) {
        expect(f.width, `label ${f.text}: ${f.width}px for ${f.need}px of text`).toBeGreaterThanOrEqual(
          f.need - 1,
        );
        expect(f.lines, `label ${f.text} wraps onto ${f.lines} lines`).toBeLessThanOrEqual(1);
      }
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const run = hasChromium() ? describe : describe.skip;

run('issue 14 in a real browser: answers, long text, escalation at a glance, message centre', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-web14-'));
  let system: EmbeddedProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const tokens: Record<string, string> = {};
  const errors: string[] = [];

  beforeAll(async () => {
    if (webBuildReason()) await buildWeb();
    system = await spawnEmbedded(dataDir, { DEV_SLA_SECONDS: String(SLA_SECONDS) });
    await waitReady(system, 120_000);
    browser = await launchChromium();
    for (const u of ['req-a', 'iss-a', 'office']) {
      const res = await fetch(`${system.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u, password: 'demo1234' }),
      });
      expect(res.status).toBe(200);
      tokens[u] = ((await res.json()) as { token: string }).token;
    }
  }, 240_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stopEmbedded(system, dataDir);
  }, 60_000);

  const open = async (viewport = WIDE): Promise<Page> => {
    const context = await newUserContext(browser, system.baseUrl, viewport);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    return page;
  };

  const api = systemApi(() => system.baseUrl, tokens, 'web14');

  const startCase = async (catalogCode: string, fields: object, purpose: string, idFirst17: string) => {
    const res = await api('req-a', 'POST', '/api/v1/verifications', {
      catalogCode,
      subject: { kind: 'person', name: '王五', idNumber: residentId(idFirst17) },
      fields,
      purpose,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return { id: res.json.id as string, docNumber: res.json.docNumber as string };
  };

  it('items 3 and 4: no answer is chosen for the clerk, the answer is confirmed; long text wraps in its cell', async () => {
    // A case to escalate meanwhile (item 5 below), and the case to answer, with a 200-character purpose.
    const escalating = await startCase(
      'HJ-001',
      { declaredAddress: '淄博市张店区人民西路 1 号' },
      '社会保险参保登记',
      '37030319900101003',
    );
    (globalThis as { __escalating?: typeof escalating }).__escalating = escalating;
    const c = await startCase('WF-002', { period: '2016年至今' }, PURPOSE, '37030319850612004');
    expect((await api('iss-a', 'POST', `/api/v1/verifications/${c.id}/register`, {})).status).toBe(200);

    const issuer = await open();
    await login(issuer, 'iss-a');
    await issuer.goto(`/cases/${encodeURIComponent(c.id)}`);
    const summary = await visible(issuer.getByTestId('case-summary'));
    await eventually(async () => expect(await text(issuer.getByTestId('case-purpose'))).toBe(PURPOSE));

    // ── Item 4: the long purpose wraps in its own cell; every label keeps its text on one line. ──
    await expectLabelsOnOneLine(summary);
    const purposeBox = await issuer.getByTestId('case-purpose').boundingBox();
    const summaryBox = await summary.boundingBox();
    expect(purposeBox && summaryBox).toBeTruthy();
    if (purposeBox && summaryBox) {
      expect(purposeBox.x + purposeBox.width).toBeLessThanOrEqual(summaryBox.x + summaryBox.width + 1);
      expect(purposeBox.height).toBeGreaterThan(30); // it wraps onto several lines
    }
    expect(await issuer.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(
      true,
    );
    await screenshot(issuer, 'item4-long-purpose-1440', true);

    // ── Item 3: nothing is chosen; an untouched answer is refused in one pass, before any dialog. ──
    const card = await visible(issuer.getByTestId('respond-card'));
    const resultSelect = card
      .locator('.ant-form-item', { hasText: '核验结果' })
      .first()
      .locator('.ant-select');
    await eventually(async () => expect(await text(resultSelect)).toContain('请选择'));
    const hasRecord = card
      .locator('.ant-form-item', { hasText: '是否有犯罪记录' })
      .locator('.ant-select')
      .first();
    await eventually(async () => expect(await text(hasRecord)).toContain('请选择'));
    expect(await card.locator('.ant-select-content-has-value').count()).toBe(0);
    expect(await card.locator('.ant-radio-wrapper-checked, .ant-checkbox-wrapper-checked').count()).toBe(0);
    await screenshot(issuer, 'item3-respond-form-empty', true);

    await card.getByRole('button', { name: '提交反馈' }).click();
    await visible(card.locator('.ant-form-item-explain-error', { hasText: '请选择核验结果' }));
    await visible(card.locator('.ant-form-item', { hasText: '是否有犯罪记录' }).getByText('必填'));
    expect(await issuer.getByRole('dialog').count()).toBe(0);
    await visible(issuer.locator('[data-status="registered"]'));
    await screenshot(issuer, 'item3-respond-refused-untouched', true);

    // Chosen on purpose, then repeated in a confirmation; 返回修改 sends nothing.
    await choose(issuer, card.locator('#respond-result'), '一致');
    await choose(issuer, hasRecord, '否');
    await card.getByLabel('备注').fill(REMARK);
    await card.getByRole('button', { name: '提交反馈' }).click();
    const dialog = await visible(issuer.getByRole('dialog'));
    const confirmText = await text(dialog);
    expect(confirmText).toContain('确认提交反馈');
    expect(await text(dialog.getByTestId('confirm-result'))).toBe('一致');
    expect(confirmText).toContain('是否有犯罪记录');
    expect(confirmText).toContain('否');
    expect(confirmText).toContain(REMARK.slice(0, 20));
    await expectLabelsOnOneLine(dialog);
    await screenshot(issuer, 'item3-respond-confirm');
    await dialog.getByRole('button', { name: '返回修改' }).click();
    await eventually(async () => expect(await issuer.getByRole('dialog').count()).toBe(0));
    const still = await api('iss-a', 'GET', `/api/v1/verifications/${c.id}`);
    expect((still.json.case as { status: string }).status).toBe('registered');

    await card.getByRole('button', { name: '提交反馈' }).click();
    await (await visible(issuer.getByRole('dialog'))).getByRole('button', { name: '提交反馈' }).click();
    await visible(issuer.locator('[data-status="answered"]'));
    const answered = await api('iss-a', 'GET', `/api/v1/verifications/${c.id}`);
    expect(answered.json.answer).toMatchObject({
      result: 'consistent',
      fields: { hasRecord: false, remark: REMARK },
    });

    // ── Item 4 again: the long remark in the answer, at 1440 px and at phone width. ──
    const answer = await visible(issuer.getByTestId('answer'));
    await eventually(async () => expect(await text(answer)).toContain(REMARK.slice(0, 20)));
    await expectLabelsOnOneLine(answer);
    await expectLabelsOnOneLine(summary);
    await screenshot(issuer, 'item4-long-remark-1440', true);

    const phone = await open(PHONE);
    await login(phone, 'iss-a');
    await phone.goto(`/cases/${encodeURIComponent(c.id)}`);
    const phoneSummary = await visible(phone.getByTestId('case-summary'));
    await eventually(async () => expect(await text(phone.getByTestId('case-purpose'))).toBe(PURPOSE));
    await expectLabelsOnOneLine(phoneSummary);
    await expectLabelsOnOneLine(await visible(phone.getByTestId('answer')));
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(
      true,
    );
    await screenshot(phone, 'item4-long-text-390', true);
  }, 180_000);

  it('item 5: the issuer sees the ordered deadline and the 督办 tag on the inbox row and at the top of the case', async () => {
    const c = (globalThis as { __escalating?: { id: string; docNumber: string } }).__escalating;
    if (!c) throw new Error('the first test did not start the escalating case');
    await expect
      .poll(
        async () => {
          const d = await api('iss-a', 'GET', `/api/v1/verifications/${c.id}`);
          return (d.json.timeline as { type: string }[]).map((e) => e.type);
        },
        { timeout: (SLA_SECONDS + 40) * 1000, interval: 500 },
      )
      .toContain('escalated');

    const issuer = await open();
    await login(issuer, 'iss-a');
    await issuer.goto('/inbox');
    const row = issuer.getByTestId('inbox').locator('tr', { hasText: c.docNumber });
    await visible(row);
    // Before the order: overdue, and already under supervision (level 1).
    await eventually(async () => expect(await text(row.getByTestId('supervision-tag'))).toContain('督办'));
    await eventually(async () => expect(await text(row)).toContain('已超时'));
    await screenshot(issuer, 'item5-inbox-escalated-1440');

    const orderedDue = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const ordered = await api(
      'office',
      'POST',
      `/api/v1/escalations/${encodeURIComponent(`${c.id}:1`)}/order`,
      {
        dueAt: orderedDue,
        note: '请于两小时内办结',
      },
    );
    expect(ordered.status, JSON.stringify(ordered.json)).toBe(200);

    // The row follows live: the deadline in force is the ordered one, with the 督办 tag and its level.
    await eventually(async () =>
      expect(await text(row.getByTestId('deadline-in-force'))).toContain(beijing(orderedDue)),
    );
    const rowText = await text(row);
    expect(rowText).toContain('责成时限');
    expect(rowText).toContain('逾期督办');
    expect(rowText).not.toContain('已超时');
    expect(await row.getByTestId('supervision-tag').getAttribute('data-level')).toBe('1');
    await screenshot(issuer, 'item5-inbox-ordered-1440');

    await row.getByRole('link', { name: c.docNumber }).click();
    const top = await visible(issuer.getByTestId('case-deadline'));
    await eventually(async () => expect(await text(top)).toContain(beijing(orderedDue)));
    expect(await text(top)).toContain('责成');
    expect(await text(top)).toContain('督办');
    await visible(issuer.locator('.page-header').getByTestId('supervision-tag'));
    // The top comes before the case's details.
    const topBox = await top.boundingBox();
    const detailsBox = await issuer.getByTestId('case-summary').boundingBox();
    expect(topBox && detailsBox && topBox.y < detailsBox.y).toBe(true);
    await screenshot(issuer, 'item5-case-top-1440');

    const phone = await open(PHONE);
    await login(phone, 'iss-a');
    await phone.goto('/inbox');
    const card = phone.locator('.case-card', { hasText: c.docNumber });
    await visible(card);
    await eventually(async () => expect(await text(card)).toContain(beijing(orderedDue)));
    await visible(card.getByTestId('supervision-tag'));
    await screenshot(phone, 'item5-inbox-ordered-390');
  }, 120_000);

  it('item 2: the message centre lists notifications read and unread; 全部已读 is per person', async () => {
    const issuer = await open();
    await login(issuer, 'iss-a');
    await issuer.goto('/notifications');
    const centre = await visible(issuer.getByTestId('message-centre'));
    await visible(centre.locator('[data-read="unread"]'));
    await eventually(async () =>
      expect(await text(centre.getByTestId('unread-count'))).not.toBe('未读 0 条'),
    );
    const centreText = await text(centre);
    expect(centreText).toContain('新的协查任务');
    expect(centreText).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    await screenshot(issuer, 'item2-message-centre-1440', true);

    const officeBefore = (await api('office', 'GET', '/api/v1/notifications')).json.unreadCount as number;
    expect(officeBefore).toBeGreaterThan(0);
    await centre.getByRole('button', { name: '全部已读' }).click();
    await eventually(async () => expect(await text(centre.getByTestId('unread-count'))).toBe('未读 0 条'));
    expect(await centre.locator('[data-read="unread"]').count()).toBe(0);
    await eventually(async () =>
      expect(await issuer.getByTestId('notification-bell').getAttribute('aria-label')).toBe('通知（0）'),
    );
    expect((await api('iss-a', 'GET', '/api/v1/notifications')).json.unreadCount).toBe(0);
    // Another person's unread notifications are theirs (more may have arrived meanwhile, none were read).
    expect((await api('office', 'GET', '/api/v1/notifications')).json.unreadCount).toBeGreaterThanOrEqual(
      officeBefore,
    );
    await screenshot(issuer, 'item2-all-read-1440', true);

    const phone = await open(PHONE);
    await login(phone, 'iss-a');
    await phone.goto('/notifications');
    await visible(phone.getByTestId('message-centre'));
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(
      true,
    );
    await screenshot(phone, 'item2-message-centre-390', true);

    expect(errors).toEqual([]);
  }, 90_000);
});
