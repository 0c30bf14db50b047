/**
 * Responsibility disputes (职责争议, Art. 7/11) in a real browser (Debian's Chromium through playwright-core)
 * against the real system (`app/main.ts`): the public security bureau's agent files a dispute from the case page
 * (reason, suggested unit, a confirmation); the office's supervisor decides it on 职责争议 (re-route to the civil
 * affairs bureau, a confirmation) and sees the month's counts; the case then sits in the civil affairs bureau's
 * inbox and its page shows the decision. Screenshots under test-results/issue16/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { VALID_ID } from '../support/api.ts';
import { choose, eventually, hasChromium, login, text, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const SHOTS = path.join(process.cwd(), 'test-results', 'issue16');
const run = hasChromium() ? describe : describe.skip;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({ path: path.join(SHOTS, `item5-${name}.png`), animations: 'disabled' });
}

run('responsibility disputes in a real browser', () => {
  // Long demo deadlines: neither the case nor the dispute runs out during the test.
  const suite = browserSuite('disputes', { DEV_SLA_SECONDS: '900' });
  const open = () => suite.open();
  /** The API as a person: the answer's body (a status that is not 2xx throws). */
  const as = async (username: string) => {
    const call = await suite.as(username);
    return async (method: string, url: string, body?: unknown) => (await call(method, url, body)).json;
  };

  it('the issuer files a dispute, the office re-routes the case, the new unit has it', async () => {
    const [req, issA, issB] = await Promise.all([as('req-a'), as('iss-a'), as('iss-b')]);
    // A 户籍 case for a person the demo data service does not know: it stays with 郑伟 (no automatic answer).
    const c = await req('POST', '/api/v1/verifications', {
      catalogCode: 'HJ-001',
      subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
    });
    await eventually(async () => {
      const d = (await issA('GET', `/api/v1/verifications/${c.id}`)) as { case: { status: string } };
      expect(d.case.status).toBe('awaiting_registration');
    });
    await issA('POST', `/api/v1/verifications/${c.id}/register`, {});

    // ── The issuing unit files the dispute from the case page. ───────────────────────────────────
    const issuer = await open();
    await login(issuer, 'iss-a');
    await issuer.goto(`/cases/${encodeURIComponent(String(c.id))}`);
    const panel = await visible(issuer.getByTestId('dispute-panel'));
    await issuer.getByTestId('dispute-file').click();
    const form = await visible(issuer.locator('.ant-modal', { hasText: '争议理由' }));
    await form.getByRole('button', { name: '提交' }).click();
    await visible(form.getByText('请填写争议理由'));
    await form.getByLabel('争议理由').fill('户籍档案不在本单位保管，该证明应由民政部门出具');
    await choose(issuer, form.getByRole('combobox', { name: '建议的出具单位' }), '淄博市民政局');
    await shot(issuer, 'file-form');
    await form.getByRole('button', { name: '提交' }).click();
    const confirm = await visible(issuer.locator('.ant-modal-confirm'));
    expect(await text(confirm)).toContain('裁定前本案办理时限照常计算');
    await confirm.getByRole('button', { name: '提出争议' }).click();
    await eventually(async () => expect(await text(panel.getByTestId('dispute-status'))).toBe('待裁定'));
    await eventually(async () =>
      expect(await text(panel)).toMatch(/裁定时限：\d{4}-\d{2}-\d{2} \d{2}:\d{2}/),
    );
    expect(await issuer.getByTestId('dispute-file').count()).toBe(0);
    await shot(issuer, 'filed');

    // ── The office decides it: re-route to the unit the issuer suggested. ────────────────────────
    const office = await open();
    await login(office, 'office');
    await office.getByRole('menuitem', { name: '职责争议' }).click();
    await office.waitForURL((u) => u.pathname === '/disputes');
    await visible(office.getByRole('heading', { name: '职责争议' }));
    const row = office.getByTestId('disputes-page').locator('tr', { hasText: String(c.docNumber) });
    await visible(row);
    expect(await text(row)).toContain('淄博市公安局');
    await shot(office, 'office-list');
    await row.getByTestId(`dispute-decide-${c.docNumber}`).click();
    const decide = await visible(office.locator('.ant-modal', { hasText: '裁定职责争议' }));
    await decide.getByLabel('裁定理由').fill('经核，婚姻与户籍档案移交民政局保管，由民政局出具');
    expect(await text(decide)).toContain('淄博市民政局'); // the suggested unit, preselected
    await shot(office, 'decide-form');
    await decide.getByRole('button', { name: '裁定' }).click();
    const sure = await visible(office.locator('.ant-modal-confirm'));
    expect(await text(sure)).toContain('改派至淄博市民政局');
    await sure.getByRole('button', { name: '裁定' }).click();
    await office.getByText('全部', { exact: true }).click();
    const decidedRow = office.getByTestId('disputes-page').locator('tr', { hasText: String(c.docNumber) });
    await eventually(async () =>
      expect(await text(decidedRow.getByTestId('dispute-status'))).toBe('已裁定改派'),
    );
    const stats = office.getByTestId('dispute-stats');
    await eventually(async () =>
      expect(await text(stats.locator('tr', { hasText: '淄博市公安局' }))).toContain('1'),
    );
    await shot(office, 'decided');

    // ── The case is in the civil affairs bureau's inbox; its page shows the decision. ────────────
    await eventually(async () => {
      const inbox = (await issB('GET', '/api/v1/verifications?box=inbox')) as { items: { id: string }[] };
      expect(inbox.items.map((i) => i.id)).toContain(c.id);
    });
    const newUnit = await open();
    await login(newUnit, 'iss-b');
    await newUnit.goto(`/cases/${encodeURIComponent(String(c.id))}`);
    const seen = await visible(newUnit.getByTestId('dispute-panel'));
    await eventually(async () => expect(await text(seen)).toContain('改派至淄博市民政局'));
    await shot(newUnit, 'new-unit-case');
  }, 240_000);
});
