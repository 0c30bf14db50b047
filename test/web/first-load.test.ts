/**
 * The inbox's first load (issue 14, item 11) in a real browser: the first screen's data is asked for while
 * the application's code still starts, before React draws anything (first-load.ts), each address once; the
 * pages take those answers instead of asking again; and the tab opens one live stream, not one per list.
 */
import { describe, expect, it } from 'vitest';
import { VALID_ID } from '../support/api.ts';
import { hasChromium, login, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const run = hasChromium() ? describe : describe.skip;

const FIRST_SCREEN = [
  'GET /api/v1/units',
  'GET /api/v1/catalog',
  'GET /api/v1/notifications?limit=20',
  'GET /api/v1/verifications?box=inbox&open=true&limit=20',
  'GET /api/v1/verifications/counts?box=inbox',
];

run("the inbox's first load", () => {
  const suite = browserSuite('first-load');

  it('asks for each of the first screen’s data once, before the first render, and opens one stream', async () => {
    const req = await suite.as('req-a');
    await req('POST', '/api/v1/verifications', {
      catalogCode: 'HJ-001',
      subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
    });
    const page = await suite.open();
    await login(page, 'iss-a');
    await visible(page.locator('.ant-table-row'));

    // When React first puts something into #root, in the page's own clock (as the resource timings).
    await page.addInitScript(() => {
      const w = window as unknown as { firstRenderAt?: number };
      new MutationObserver((_m, observer) => {
        if (!document.getElementById('root')?.firstChild) return;
        w.firstRenderAt = performance.now();
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    const asked: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/')) asked.push(`${r.method()} ${u.pathname}${u.search}`);
    });
    await page.reload();
    await visible(page.locator('.ant-table-row'));
    await visible(page.locator('[data-live="sse"]'));

    // Up to the stream's opening (which refreshes the page once, by design), each address was asked once.
    const streamAt = asked.findIndex((a) => a.startsWith('GET /api/v1/stream?'));
    expect(streamAt).toBeGreaterThan(0);
    const beforeStream = asked.slice(0, streamAt);
    for (const address of FIRST_SCREEN)
      expect(
        beforeStream.filter((a) => a === address),
        address,
      ).toHaveLength(1);
    expect(asked.filter((a) => a === 'POST /api/v1/stream/ticket')).toHaveLength(1);

    // The list's request started before the first render, not from the list's effect after it.
    const timing = await page.evaluate(() => ({
      firstRenderAt: (window as unknown as { firstRenderAt?: number }).firstRenderAt,
      listAskedAt: performance
        .getEntriesByType('resource')
        .find((e) => e.name.includes('/api/v1/verifications?box=inbox'))?.startTime,
    }));
    expect(timing.firstRenderAt).toBeGreaterThan(0);
    expect(timing.listAskedAt).toBeLessThan(timing.firstRenderAt as number);
  });
});
