/** The inbox the TTI benchmarks load: its seed and the unclaimed filter a person clicks (bench/tti*.ts). */
import { VALID_ID } from '../test/support/api.ts';

/** Eight open HJ-001 cases from the requesting unit A, all in the issuer iss-a's inbox. */
export async function seedInbox(baseUrl: string): Promise<void> {
  const token = async (username: string) => {
    const r = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'demo1234' }),
    });
    return ((await r.json()) as { token: string }).token;
  };
  const req = await token('req-a');
  for (let i = 0; i < 8; i++) {
    const r = await fetch(`${baseUrl}/api/v1/verifications`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${req}`,
        'content-type': 'application/json',
        'idempotency-key': crypto.randomUUID(),
      },
      body: JSON.stringify({
        catalogCode: 'HJ-001',
        subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
        fields: { declaredAddress: `淄博市张店区人民西路 ${i + 1} 号` },
        purpose: '社会保险参保登记',
      }),
    });
    if (!r.ok) throw new Error(`seed: ${r.status} ${await r.text()}`);
  }
}

export const UNCLAIMED_FILTER = '.ant-segmented-item:has-text("未登记"), .ant-tabs-tab:has-text("待认领")';
export const UNCLAIMED_SELECTED =
  '.ant-segmented-item-selected:has-text("未登记"), .ant-tabs-tab-active:has-text("待认领")';
