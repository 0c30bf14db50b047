/**
 * 反馈审核 in a real browser against the real system: the issuing unit requires review; its agent's answer waits
 * as a draft; the unit's leader opens 反馈审核, sees it 待审核 with the working time left to the deadline in force,
 * and approves it — the answer goes out. Screenshots under test-results/issue16/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VALID_ID } from '../support/api.ts';
import { eventually, hasChromium, login, text, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const SHOTS = path.join(process.cwd(), 'test-results', 'issue16');
const run = hasChromium() ? describe : describe.skip;

run('the 反馈审核 screen in a real browser', () => {
  const suite = browserSuite('answer-review');

  it('the leader sees 待审核 with the time left and approves; the answer goes out', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const [admin, lia, req, iss] = await Promise.all([
      suite.as('admin'),
      suite.as('iss-a-lia'),
      suite.as('req-a'),
      suite.as('iss-a'),
    ]);
    await admin('PATCH', '/api/v1/admin/staff/stf-iss-a-lia', { isLeader: true });
    await lia('PUT', '/api/v1/units/ZB-GA/answer-review', { required: true });
    const started = await req('POST', '/api/v1/verifications', {
      catalogCode: 'WF-002',
      subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
      fields: { period: '2016年至今' },
      purpose: '社会保险参保登记',
    });
    const id = started.json.id as string;
    await iss('POST', `/api/v1/verifications/${id}/register`, {});
    const held = await iss('POST', `/api/v1/verifications/${id}/respond`, {
      result: 'consistent',
      fields: { hasRecord: false },
    });
    expect(held.status).toBe(202);

    // The author sees the draft waiting for review, and cannot approve it.
    const author = await suite.open();
    await login(author, 'iss-a');
    await author.goto('/answer-reviews');
    await visible(author.getByTestId('answer-reviews-page'));
    const mine = author.locator('.ant-table-row').first();
    await eventually(async () => expect(await text(mine)).toContain('待审核'));
    expect(await mine.getByRole('button', { name: /审核通过/ }).count()).toBe(0);
    await author.screenshot({ path: path.join(SHOTS, '06b-author-waiting.png'), fullPage: true });

    const page = await suite.open();
    await login(page, 'iss-a-lia');
    await page.goto('/answer-reviews');
    await visible(page.getByTestId('answer-reviews-page'));
    const row = page.locator('.ant-table-row').first();
    await eventually(async () => expect(await text(row)).toContain('待审核'));
    expect(await text(row)).toMatch(/剩余 .+（工作时间）|已超时/);
    expect(await text(row)).toContain('郑伟');
    expect(await text(row)).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await page.screenshot({ path: path.join(SHOTS, '07-reviewer-pending.png'), fullPage: true });
    await row.getByRole('button', { name: /审核通过/ }).click();
    await eventually(async () => expect(await page.locator('.ant-table-row').count()).toBe(0));
    await page.screenshot({ path: path.join(SHOTS, '08-reviewer-approved.png'), fullPage: true });
    // The answer went out: the case holds its result.
    await eventually(async () =>
      expect(JSON.stringify((await req('GET', `/api/v1/verifications/${id}`)).json)).toContain(
        '"consistent"',
      ),
    );
  });
});
