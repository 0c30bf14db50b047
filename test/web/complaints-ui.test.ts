/**
 * The 投诉 page (Zibo attachment 4) in a real browser against the real system (`app/main.ts`): the office's
 * supervisor accepts a 12345 complaint about the public security bureau and assigns it; the bureau's agent
 * sees it (the complainant's phone masked), asks for a 3-working-day extension; the office approves it (the
 * deadline moves, the original one stays shown); the agent answers it on time. Deadlines in Beijing time.
 * Screenshots under test-results/issue16/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { choose, eventually, hasChromium, login, text, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const SHOTS = path.join(PROJECT_ROOT, 'test-results', 'issue16');
let shot = 0;
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  shot += 1;
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  await page.screenshot({
    path: path.join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
    animations: 'disabled',
  });
}

const BEIJING = /\d{4}年\d{1,2}月\d{1,2}日 17:30/;
const run = hasChromium() ? describe : describe.skip;

run('the complaints page in a real browser', () => {
  const suite = browserSuite('complaints');

  const open = async (): Promise<Page> => {
    const page = await suite.open();
    return page;
  };
  /** Signs in and waits for the home page the person lands on (its redirect must not overtake the menu click). */
  const signIn = async (page: Page, username: string) => {
    await login(page, username);
    await page.waitForURL((u) => u.pathname !== '/');
    await page.getByRole('link', { name: '投诉' }).click();
    await page.waitForURL((u) => u.pathname === '/complaints');
  };
  const dialog = (page: Page, title: string) => visible(page.locator('.ant-modal', { hasText: title }));
  const submit = (d: Awaited<ReturnType<typeof dialog>>) => d.getByRole('button', { name: '提交' }).click();

  it('the office accepts, assigns and approves an extension; the unit asks for it and answers', async () => {
    const ticket = `ZB12345-${Date.now()}`;

    // ── The office accepts a complaint from the 12345 hotline. ─────────────────────────────────
    const office = await open();
    await signIn(office, 'office');
    await visible(office.getByRole('heading', { name: '投诉受理与督办' }));
    await office.getByTestId('complaint-new').click();
    const accept = await dialog(office, '受理投诉');
    await choose(office, accept.getByLabel('被投诉单位'), '淄博市公安局');
    await accept.getByLabel('工单号（12345 热线必填）').fill(ticket);
    await accept.getByLabel('投诉人姓名').fill('李四');
    await accept.getByLabel('联系电话').fill('13800138000');
    await accept.getByLabel('投诉内容').fill('到公安局窗口办理业务时，仍被要求提供已列入免提交清单的证明');
    await screenshot(office, 'office-accept-form');
    await submit(accept);
    const officeRow = office.locator('tr', { hasText: ticket });
    await visible(officeRow);
    await eventually(async () => expect(await text(officeRow)).toContain('已受理'));
    expect(await text(officeRow)).toContain('12345 政务服务热线');
    expect(await text(officeRow)).toContain('138****8000');
    expect(await text(officeRow)).toMatch(BEIJING);

    // ── Assigned to the bureau. ─────────────────────────────────────────────────────────────────
    await officeRow.getByRole('button', { name: '指派' }).click();
    const assign = await dialog(office, '指派承办单位');
    await assign.getByLabel('指派说明').fill('请核实窗口情况并答复投诉人');
    await submit(assign);
    await eventually(async () => expect(await text(officeRow)).toContain('已指派'));
    expect(await text(officeRow)).toContain('淄博市公安局');
    await screenshot(office, 'office-list-assigned');

    // ── The bureau's agent: its complaint, an extension of 3 working days. ───────────────────
    const unit = await open();
    await signIn(unit, 'iss-a');
    await visible(unit.getByRole('heading', { name: '本单位投诉' }));
    const unitRow = unit.locator('tr', { hasText: ticket });
    await visible(unitRow);
    expect(await text(unitRow)).toContain('138****8000');
    const dueBefore = await text(unitRow.locator('[data-testid^="due-"]'));
    expect(dueBefore).toMatch(BEIJING);
    await unitRow.getByRole('button', { name: '申请延期' }).click();
    const extend = await dialog(unit, '申请延期');
    await extend.getByLabel('延期工作日数').fill('3');
    await extend.getByLabel('延期理由').fill('需调取窗口录像并约谈当事人');
    await screenshot(unit, 'unit-extension-form');
    await submit(extend);
    await eventually(async () => expect(await text(unitRow)).toContain('延期待审批'));
    expect(await unitRow.getByRole('button', { name: '申请延期' }).count()).toBe(0);

    // ── The office approves it: the deadline moves, the original stays visible. ───────────────
    await office.reload();
    await office.getByText('只看延期待审批').waitFor();
    await visible(officeRow);
    await officeRow.getByRole('button', { name: '批准延期' }).click();
    const approve = await dialog(office, '批准延期');
    expect(await text(approve)).toContain('申请延期 3 个工作日');
    await approve.getByLabel('审批意见').fill('同意延期');
    await submit(approve);
    await eventually(async () => expect(await text(officeRow)).toContain('已批准延期'));
    expect(await text(officeRow)).toContain('原期限');
    await screenshot(office, 'office-extension-approved');

    // ── The agent answers, on time. ───────────────────────────────────────────────────────────
    await unit.reload();
    await visible(unitRow);
    await eventually(async () => expect(await text(unitRow)).toContain('原期限'));
    const dueAfter = await text(unitRow.locator('[data-testid^="due-"]'));
    expect(dueAfter).toContain(`原期限 ${dueBefore}`);
    await unitRow.getByRole('button', { name: '办结答复' }).click();
    const answer = await dialog(unit, '办结答复');
    await answer
      .getByLabel('办理结果（含告知投诉人的情况）')
      .fill('已核实并整改，窗口不再索要该证明，已电话告知投诉人');
    await submit(answer);
    await eventually(async () => expect(await text(unitRow)).toContain('已办结答复'));
    expect(await text(unitRow)).toContain('按期办结');
    expect(await unitRow.getByRole('button', { name: '办结答复' }).count()).toBe(0);
    await unitRow.locator('.ant-table-row-expand-icon').click();
    await eventually(async () =>
      expect(await text(unit.locator('[data-testid^="complaint-detail-"]'))).toContain('已核实并整改'),
    );
    await screenshot(unit, 'unit-answered');

    // Another unit does not see it.
    const other = await open();
    await signIn(other, 'iss-b');
    await visible(other.getByRole('heading', { name: '本单位投诉' }));
    await other.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
    expect(await other.locator('tr', { hasText: ticket }).count()).toBe(0);
  }, 240_000);
});
