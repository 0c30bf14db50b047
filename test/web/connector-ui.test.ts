/**
 * Automatic answers in a real browser (issue 15) against the embedded system as `npm start` runs it, with its
 * demo 户籍 data service and no configuration: the requester's case about a person in the sample data shows
 * the system's answer (who answered for 淄博市公安局, the data source, the query time in Beijing time, the
 * evidence hash) within seconds; a case about a person not in the data is in the issuer's inbox with the
 * reason on its page, and a person answers it there.
 *
 * Screenshots: test-results/issue15/connector-*.png at 1440 px.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEMO_HUKOU_RECORDS } from '../../app/demo-data-service.ts';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { hasChromium, login, text, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue15');
const SAMPLE = DEMO_HUKOU_RECORDS[0];

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({
    path: path.join(SHOTS, `connector-${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}

const run = hasChromium() ? describe : describe.skip;

run('issue 15 in a real browser: automatic answers from the demo 户籍 data', () => {
  const suite = browserSuite('connector-ui');
  const start = async (name: string, idNumber: string, declaredAddress: string) => {
    const req = await suite.as('req-a');
    const res = await req('POST', '/api/v1/verifications', {
      catalogCode: 'HJ-001',
      subject: { kind: 'person', name, idNumber },
      fields: { declaredAddress },
      purpose: '办理户籍相关业务',
    });
    expect(res.status).toBe(201);
    return res.json as { id: string; docNumber: string };
  };

  it('a person in the sample data: the requester sees the system’s answer, its source and evidence', async () => {
    const t0 = Date.now();
    const c = await start(SAMPLE.xm, SAMPLE.sfzhm, SAMPLE.hjdz);
    const page = await suite.open();
    await login(page, 'req-a');
    await page.goto(`/cases/${encodeURIComponent(c.id)}`);
    // The page updates live: no reload needed once the system has answered.
    const auto = await visible(page.getByTestId('automatic-answer'), 30_000);
    const seconds = (Date.now() - t0) / 1000;
    const shown = await text(auto);
    expect(shown).toContain('系统自动核验（淄博市公安局）');
    expect(shown).toContain('数据来源：公安局常住人口信息（数据共享交换平台·演示）');
    // The query time in Beijing time, as the API's instant says.
    const detail = await (await suite.as('req-a'))(
      'GET',
      `/api/v1/verifications/${encodeURIComponent(c.id)}`,
    );
    const queriedAt = (detail.json.answer as { automatic: { queriedAt: string } }).automatic.queriedAt;
    const beijing = new Date(Date.parse(queriedAt) + 8 * 3_600_000)
      .toISOString()
      .slice(0, 16)
      .replace('T', ' ');
    expect(shown).toContain(`查询时间：${beijing}`);
    expect(shown).toMatch(/证据摘要（SHA-256）：[0-9a-f]{64}/);
    expect(await text(page.getByTestId('answer'))).toContain(SAMPLE.hjdz);
    expect(seconds).toBeLessThan(30);
    await shot(page, 'answered-1440');
  }, 180_000);

  it('a person not in the data: in the issuer’s inbox with the reason, and answered by a person', async () => {
    const c = await start('张三', '11010519491231002X', '淄博市张店区人民西路 1 号');
    const page = await suite.open();
    await login(page, 'iss-a');
    await page.goto(`/cases/${encodeURIComponent(c.id)}`);
    const fallback = await visible(page.getByTestId('auto-check-fallback'), 30_000);
    expect(await text(fallback)).toContain('自动核验未能答复，已转人工办理');
    expect(await text(fallback)).toContain('数据源中没有身份证号 1101**********002X 的记录');
    await shot(page, 'fallback-1440');
    await page.goto('/inbox');
    await visible(page.getByTestId('inbox').locator('tr', { hasText: c.docNumber }));
  }, 180_000);
});
