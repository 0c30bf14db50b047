/**
 * List adjustment through the API (/api/v1/catalog-changes) on the real dev server and database: a unit's
 * liaison records a cause and files; the office decides; an approval changes the catalog; a unit sees only
 * its own records (403 audited), bad input is a 400 naming the field, a rule violation a 422 in Chinese; the
 * current list exports as XLSX with Chinese headers.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema.ts';
import { shanghaiDateOf } from '../../domain/working-time/index.ts';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('catalog changes (清单调整) on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['iss-a-lia', 'iss-a', 'iss-b-lia', 'office', 'admin']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload === undefined ? {} : { payload }),
    });
  const today = () => shanghaiDateOf(new Date());
  const cause = async (who = 'iss-a-lia') => {
    const res = await call(who, 'POST', '/api/v1/catalog-changes', {
      causeKind: 'law',
      causeDate: today(),
      description: '《户口登记条例》修订',
      itemCode: 'HJ-001',
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  const item = async (name: string) => {
    const cur = (await call('iss-a', 'GET', '/api/v1/catalog'))
      .json()
      .items.find((i: { code: string }) => i.code === 'HJ-001');
    return {
      name,
      serviceItemName: cur.serviceItemName,
      legalBasis: '《户口登记条例》（修订）',
      issuingUnitCodes: cur.issuingUnits.map((u: { code: string }) => u.code),
      defaultTier: cur.defaultTier,
      exemptionMethod: '部门核验',
      requestSchema: cur.requestSchema,
      responseSchema: cur.responseSchema,
    };
  };
  const denied = async (actorId: string, action: string) =>
    h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, actorId), eq(auditLog.action, action), eq(auditLog.outcome, 'denied')));

  it('cause → request → approval: the filing deadline is shown, the office sees it, the catalog gets a new version', async () => {
    const c = await cause();
    expect(c.status).toBe('awaiting_filing');
    expect(c.statusLabel).toBe('待申报');
    expect(c.causeKindLabel).toBe('法律法规颁布、修订或废止');
    expect(Date.parse(c.filingDueAt)).toBeGreaterThan(Date.now());
    expect(c.recordedBy.name).toBe('陈静');

    const before = (await call('admin', 'GET', '/api/v1/admin/catalog/HJ-001')).json().versions[0].version;
    const filed = await call('iss-a', 'POST', `/api/v1/catalog-changes/${c.id}/file`, {
      changeType: 'change',
      itemCode: 'HJ-001',
      item: await item('户籍信息证明（2026 修订）'),
      basis: '条例修订第十条',
    });
    expect(filed.statusCode, filed.body).toBe(200);
    expect(filed.json()).toMatchObject({
      status: 'filed',
      statusLabel: '待审核',
      filedLate: false,
      changeTypeLabel: '变更',
    });

    const officeList = (await call('office', 'GET', '/api/v1/catalog-changes?status=filed')).json().items;
    expect(officeList.map((x: { id: string }) => x.id)).toContain(c.id);

    const ok = await call('office', 'POST', `/api/v1/catalog-changes/${c.id}/decide`, { approve: true });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      status: 'approved',
      publishedVersion: before + 1,
      decidedBy: { name: '韩梅' },
    });
    const current = (await call('iss-a', 'GET', '/api/v1/catalog'))
      .json()
      .items.find((i: { code: string }) => i.code === 'HJ-001');
    expect(current).toMatchObject({ version: before + 1, name: '户籍信息证明（2026 修订）' });
    // A second decision is refused: the request is decided.
    const again = await call('office', 'POST', `/api/v1/catalog-changes/${c.id}/decide`, { approve: true });
    expect(again.statusCode).toBe(409);
  });

  it('isolation: a unit sees its own records only (403 audited); only the office decides (403 audited); agents cannot record causes', async () => {
    const c = await cause();
    const other = await call('iss-b-lia', 'GET', `/api/v1/catalog-changes/${c.id}`);
    expect(other.statusCode).toBe(403);
    expect(await denied('stf-iss-b-lia', 'catalog_change.read')).not.toHaveLength(0);
    const list = (await call('iss-b-lia', 'GET', '/api/v1/catalog-changes')).json().items;
    expect(list.map((x: { id: string }) => x.id)).not.toContain(c.id);
    const otherFile = await call('iss-b-lia', 'POST', `/api/v1/catalog-changes/${c.id}/file`, {
      changeType: 'remove',
      itemCode: 'HJ-001',
      basis: '事项取消',
    });
    expect(otherFile.statusCode).toBe(403);
    expect(await denied('stf-iss-b-lia', 'catalog_change.file')).not.toHaveLength(0);

    const selfDecide = await call('iss-a-lia', 'POST', `/api/v1/catalog-changes/${c.id}/decide`, {
      approve: true,
    });
    expect(selfDecide.statusCode).toBe(403);
    expect(await denied('stf-iss-a-lia', 'catalog_change.decide')).not.toHaveLength(0);

    const byAgent = await call('iss-a', 'POST', '/api/v1/catalog-changes', {
      causeKind: 'other',
      causeDate: today(),
      description: '其他情形',
    });
    expect(byAgent.statusCode).toBe(403);
    expect(await denied('stf-iss-a', 'catalog_change.cause')).not.toHaveLength(0);
  });

  it('400 names the field; 422 in Chinese for the rules (future cause date, unknown item, add of an existing code, rejection without reason)', async () => {
    const bad = await call('iss-a-lia', 'POST', '/api/v1/catalog-changes', {
      causeKind: 'nonsense',
      causeDate: today(),
      description: '说明',
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('causeKind');

    const future = await call('iss-a-lia', 'POST', '/api/v1/catalog-changes', {
      causeKind: 'law',
      causeDate: '2099-01-01',
      description: '说明',
    });
    expect(future.statusCode).toBe(422);
    expect(future.json().detail).toBe('调整事由发生之日不能晚于今天');

    const c = await cause();
    const addExisting = await call('iss-a-lia', 'POST', `/api/v1/catalog-changes/${c.id}/file`, {
      changeType: 'add',
      itemCode: 'HJ-001',
      item: await item('户籍信息证明'),
      basis: '新增',
    });
    expect(addExisting.statusCode).toBe(422);
    expect(addExisting.json().detail).toContain('已在清单中');
    const unknown = await call('iss-a-lia', 'POST', `/api/v1/catalog-changes/${c.id}/file`, {
      changeType: 'remove',
      itemCode: 'XX-404',
      basis: '取消',
    });
    expect(unknown.statusCode).toBe(422);
    const noItem = await call('iss-a-lia', 'POST', `/api/v1/catalog-changes/${c.id}/file`, {
      changeType: 'change',
      itemCode: 'HJ-001',
      basis: '变更',
    });
    expect(noItem.statusCode).toBe(422);
    expect(noItem.json().detail).toBe('新增或变更须填写拟调整的事项内容');

    const filed = await call('iss-a-lia', 'POST', `/api/v1/catalog-changes/${c.id}/file`, {
      changeType: 'remove',
      itemCode: 'HJ-001',
      basis: '事项取消',
    });
    expect(filed.statusCode, filed.body).toBe(200);
    const noReason = await call('office', 'POST', `/api/v1/catalog-changes/${c.id}/decide`, {
      approve: false,
    });
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().detail).toBe('不予通过须说明理由');
    const rejected = await call('office', 'POST', `/api/v1/catalog-changes/${c.id}/decide`, {
      approve: false,
      reason: '该事项仍有法定依据',
    });
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json()).toMatchObject({
      status: 'rejected',
      statusLabel: '未通过',
      decisionReason: '该事项仍有法定依据',
    });
    // HJ-001 is still in use.
    const current = (await call('iss-a', 'GET', '/api/v1/catalog')).json().items;
    expect(current.map((i: { code: string }) => i.code)).toContain('HJ-001');
  });

  it('GET /api/v1/catalog/export.xlsx: the current list with Chinese headers', async () => {
    const res = await call('iss-a', 'GET', '/api/v1/catalog/export.xlsx');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('证明事项清单');
    expect(ws?.getRow(1).values).toEqual(
      expect.arrayContaining(['事项代码', '证明事项名称', '设定依据', '免提交方式']),
    );
    const codes = (ws?.getColumn(1).values ?? []).slice(2);
    expect(codes).toContain('HJ-001');
  });
});
