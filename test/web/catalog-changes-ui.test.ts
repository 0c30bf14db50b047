/**
 * The 清单调整 page in a real browser against the real system: the issuing unit's liaison records a cause
 * (the filing deadline appears in Beijing time) and files a change request; the office's supervisor approves
 * it and the page shows the catalog version it published; a second cause is rejected with a reason.
 * Screenshots under test-results/issue16/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { choose, eventually, hasChromium, login, text, visible } from './browser.ts';
import { browserSuite } from './suite.ts';

const SHOTS = path.join(process.cwd(), 'test-results', 'issue16');
const run = hasChromium() ? describe : describe.skip;

run('the 清单调整 page in a real browser', () => {
  const suite = browserSuite('catalog-changes');

  const open = async (username: string): Promise<Page> => {
    const page = await suite.open();
    await login(page, username);
    await page.goto('/catalog-changes');
    await visible(page.getByTestId('catalog-changes-page'));
    return page;
  };
  const shot = async (page: Page, name: string) => {
    mkdirSync(SHOTS, { recursive: true });
    await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
  };
  const dialog = (page: Page) => page.locator('.ant-modal:visible');

  it('liaison records a cause and files; the office approves (new version) and rejects with a reason', async () => {
    const unit = await open('iss-a-lia');
    await unit.getByTestId('record-cause').click();
    await dialog(unit).getByLabel('事由说明').fill('《户口登记条例》修订');
    await choose(unit, dialog(unit).getByLabel('涉及的证明事项（可不填）'), 'HJ-001');
    await shot(unit, '01-unit-record-cause');
    await dialog(unit)
      .getByRole('button', { name: /登\s*记/ })
      .click();
    const row = unit.locator('.ant-table-row').first();
    await eventually(async () => expect(await text(row)).toContain('待申报'));
    // The filing deadline in Beijing time (YYYY-MM-DD HH:mm), never an ISO instant.
    expect(await text(row)).toMatch(/\d{4}-\d{2}-\d{2} 17:30/);
    expect(await text(row)).not.toMatch(/T\d{2}:\d{2}/);
    await shot(unit, '02-unit-awaiting-filing');

    await row.getByRole('button', { name: '提交申请' }).click();
    await dialog(unit).getByLabel('调整后的证明事项名称').fill('户籍信息证明（2026 修订）');
    await dialog(unit).getByLabel('调整依据').fill('《户口登记条例》第十条修订');
    await shot(unit, '03-unit-file-request');
    await dialog(unit)
      .getByRole('button', { name: /提\s*交/ })
      .click();
    await eventually(async () =>
      expect(await text(unit.locator('.ant-table-row').first())).toContain('待审核'),
    );
    expect(await text(unit.locator('.ant-table-row').first())).toContain('变更 HJ-001');

    // A second cause, filed as a removal, for the rejection.
    await unit.getByTestId('record-cause').click();
    await dialog(unit).getByLabel('事由说明').fill('职能调整');
    await choose(unit, dialog(unit).getByLabel('涉及的证明事项（可不填）'), 'HJ-001');
    await dialog(unit)
      .getByRole('button', { name: /登\s*记/ })
      .click();
    await eventually(async () =>
      expect(await unit.locator('.ant-table-row', { hasText: '待申报' }).count()).toBe(1),
    );
    await unit
      .locator('.ant-table-row', { hasText: '待申报' })
      .getByRole('button', { name: '提交申请' })
      .click();
    await dialog(unit).locator('.ant-radio-wrapper', { hasText: '取消' }).click();
    await dialog(unit).getByLabel('调整依据').fill('事项取消');
    await dialog(unit)
      .getByRole('button', { name: /提\s*交/ })
      .click();
    await eventually(async () =>
      expect(await unit.locator('.ant-table-row', { hasText: '待审核' }).count()).toBe(2),
    );

    const office = await open('office');
    const changeRow = office.locator('.ant-table-row', { hasText: '变更 HJ-001' });
    await visible(changeRow);
    expect(await text(changeRow)).toContain('公安');
    await shot(office, '04-office-to-decide');
    await changeRow.getByRole('button', { name: /审核通过/ }).click();
    await eventually(async () => expect(await text(changeRow)).toMatch(/已通过.*已发布第 \d+ 版/));

    const removeRow = office.locator('.ant-table-row', { hasText: '取消 HJ-001' });
    await removeRow.getByRole('button', { name: /不予通过/ }).click();
    await dialog(office).getByLabel('理由').fill('该事项仍有法定依据');
    await dialog(office)
      .getByRole('button', { name: /确\s*定/ })
      .click();
    await eventually(async () => expect(await text(removeRow)).toContain('理由：该事项仍有法定依据'));
    await shot(office, '05-office-decided');

    await unit.reload();
    await eventually(async () =>
      expect(await text(unit.locator('.ant-table-row', { hasText: '变更' }))).toContain('已通过'),
    );
    await shot(unit, '06-unit-decided');
  });
});
