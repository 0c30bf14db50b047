/**
 * Batches from Excel (issue 15): the template's headers, a list with valid and invalid rows → the exact
 * validation report before anything is sent, submit → exactly one case per valid row with the right subjects
 * (started by the `batchStart` workflow), the same file again → the same batch and no new case, isolation
 * (another unit: 403, audited), 400/422 answers, and a 10,000-row file read with bounded memory.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq, inArray, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_MAX_ROWS } from '../../api/services/batches.ts';
import { XLSX_TYPE } from '../../api/services/stats-export.ts';
import { auditLog, batchRows, cases } from '../../db/schema.ts';
import { batchStartWorkflowId } from '../../workflows/batch-start.ts';
import { type ApiHarness, createApiHarness, VALID_CREDIT_CODE } from '../support/api.ts';
import { batchWorkbook, HJ_HEADERS, idFor, withWrongCheck } from '../support/batch-files.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, TEST_CONTENT_CIPHER } from '../support/temporal.ts';

const HEADERS = HJ_HEADERS;
const workbook = batchWorkbook;

let env: TestWorkflowEnvironment;
let h: ApiHarness;
let reqA: string;
let reqB: string;
beforeAll(async () => {
  env = await createDevServerEnv();
  const [pglite] = databaseTargets();
  if (!pglite) throw new Error('no database target');
  h = await createApiHarness(env, pglite);
  [reqA, reqB] = await Promise.all([h.login('req-a'), h.login('req-b')]);
});
afterAll(async () => {
  await h?.close();
  await env?.teardown();
});

const upload = (auth: string, body: Buffer, query = 'catalogItem=HJ-001&filename=2026年低保复核.xlsx') =>
  h.app.inject({
    method: 'POST',
    url: `/api/v1/batches?${encodeURI(query)}`,
    headers: { authorization: auth, 'content-type': XLSX_TYPE },
    payload: body,
  });

async function readSheet(buf: Buffer): Promise<unknown[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  const out: unknown[][] = [];
  ws?.eachRow((row) => {
    out.push((row.values as unknown[]).slice(1));
  });
  return out;
}

async function waitCompleted(auth: string, id: string) {
  for (let i = 0; i < 200; i++) {
    const res = await h.app.inject({
      method: 'GET',
      url: `/api/v1/batches/${id}`,
      headers: { authorization: auth },
    });
    if (res.json().status === 'completed') return res.json();
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('batch did not complete');
}

describe('batches from Excel', () => {
  it('serves the template with Chinese headers and what to fill in', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: '/api/v1/batches/template.xlsx?catalogItem=HJ-001',
      headers: { authorization: reqA },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(XLSX_TYPE);
    expect(decodeURIComponent(String(res.headers['content-disposition']))).toContain(
      '批量发起模板-户籍信息证明.xlsx',
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const ws = wb.getWorksheet('核验对象');
    if (!ws) throw new Error('no sheet 核验对象');
    expect((ws.getRow(1).values as unknown[]).slice(1)).toEqual(HEADERS);
    expect(String(ws.getCell('E1').note)).toContain('必填');
    expect(String(ws.getCell('B1').note)).toContain('居民身份证');
    expect(wb.getWorksheet('填写说明')).toBeDefined();

    const unknown = await h.app.inject({
      method: 'GET',
      url: '/api/v1/batches/template.xlsx?catalogItem=NOPE-1',
      headers: { authorization: reqA },
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors[0].pointer).toBe('/querystring/catalogItem');
  });

  it('validates every row before sending, starts one case per valid row, and never twice', async () => {
    const file = await workbook([
      ['张三', '居民身份证', idFor(1), '2026年度低保复核', '淄博市张店区人民西路 1 号'],
      ['李四', '居民身份证', idFor(2), '2026年度低保复核', '淄博市张店区共青团路 8 号'],
      ['王五', '居民身份证', withWrongCheck(idFor(3)), '2026年度低保复核', '淄博市张店区华光路 2 号'],
      ['赵六', '居民身份证', idFor(4), '2026年度低保复核', ''],
      null,
      ['某某公司', '统一社会信用代码', VALID_CREDIT_CODE, '2026年度低保复核', '淄博市张店区'],
      ['钱七', '居民身份证', idFor(5), '复', '淄博市周村区'],
      ['孙八', '居民身份证', idFor(6), '社会保险待遇资格认证', '淄博市临淄区'],
    ]);
    const casesBefore = Number(
      (await h.database.db.select({ n: sql<number>`count(*)::int` }).from(cases))[0]?.n,
    );
    const up = await upload(reqA, file);
    expect(up.statusCode, up.body).toBe(201);
    const report = up.json();
    expect(report).toMatchObject({
      status: 'validated',
      statusLabel: '已校验，待提交',
      catalogCode: 'HJ-001',
      fileName: '2026年低保复核.xlsx',
      total: 7,
      valid: 3,
      invalid: 4,
      submitted: 0,
      started: 0,
    });
    expect(report.errorRows).toEqual([
      {
        row: 4,
        subject: `王*（3703**********${withWrongCheck(idFor(3)).slice(-4)}）`,
        errors: [
          { column: '证件号码', detail: '不是有效的公民身份号码：出生日期或校验位不符（GB 11643），请核对' },
        ],
      },
      {
        row: 5,
        subject: expect.stringMatching(/^赵\*/),
        errors: [{ column: '申请人申报的户籍地址', detail: '请填写「申请人申报的户籍地址」' }],
      },
      {
        row: 7,
        subject: '某***（9135**********0Y43）',
        errors: [{ column: '证件类型', detail: '「户籍信息证明」的核验对象只能是个人' }],
      },
      {
        row: 8,
        subject: expect.stringMatching(/^钱\*/),
        errors: [{ column: '用途', detail: '「用途」应为 2～200 字' }],
      },
    ]);
    // Nothing is sent before the submit.
    const casesAfterUpload = Number(
      (await h.database.db.select({ n: sql<number>`count(*)::int` }).from(cases))[0]?.n,
    );
    expect(casesAfterUpload).toBe(casesBefore);
    // The personal data is sealed at rest.
    const stored = await h.database.db.select().from(batchRows).where(eq(batchRows.batchId, report.id));
    expect(JSON.stringify(stored)).not.toContain(idFor(1));
    expect(JSON.stringify(stored)).not.toContain('张三');

    const reportXlsx = await h.app.inject({
      method: 'GET',
      url: `/api/v1/batches/${report.id}/report.xlsx`,
      headers: { authorization: reqA },
    });
    expect(reportXlsx.statusCode).toBe(200);
    const reportRows = await readSheet(reportXlsx.rawPayload);
    expect(reportRows[0]).toEqual(['行号', '核验对象', '校验结果', '错误说明']);
    expect(reportRows.slice(1).map((r) => [r[0], r[2]])).toEqual([
      [2, '通过'],
      [3, '通过'],
      [4, '不通过'],
      [5, '不通过'],
      [7, '不通过'],
      [8, '不通过'],
      [9, '通过'],
    ]);
    expect(reportRows[3]?.[3]).toBe(
      '「证件号码」不是有效的公民身份号码：出生日期或校验位不符（GB 11643），请核对',
    );

    const submit = await h.app.inject({
      method: 'POST',
      url: `/api/v1/batches/${report.id}/submit`,
      headers: { authorization: reqA },
    });
    expect(submit.statusCode, submit.body).toBe(202);
    expect(submit.json().submitted).toBe(3);
    const done = await waitCompleted(reqA, report.id);
    expect(done).toMatchObject({ status: 'completed', submitted: 3, started: 3, failed: 0, pending: 0 });

    const rows = await h.database.db.select().from(batchRows).where(eq(batchRows.batchId, report.id));
    const caseIds = rows.filter((r) => r.caseId).map((r) => r.caseId as string);
    expect(caseIds).toHaveLength(3);
    const started = await h.database.db.select().from(cases).where(inArray(cases.id, caseIds));
    expect(started).toHaveLength(3);
    const subjects = started
      .map((c) => {
        const content = TEST_CONTENT_CIPHER.open(c.id, c.content) as {
          subject: { name: string; idNumber: string };
        };
        return [content.subject.name, content.subject.idNumber, c.requestingUnit, c.issuingUnit, c.purpose];
      })
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(subjects).toEqual([
      ['张三', idFor(1), 'ZB-RS', 'ZB-GA', '2026年度低保复核'],
      ['李四', idFor(2), 'ZB-RS', 'ZB-GA', '2026年度低保复核'],
      ['孙八', idFor(6), 'ZB-RS', 'ZB-GA', '社会保险待遇资格认证'],
    ]);
    // Each start is audited as the person who submitted.
    const audits = await h.database.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, 'case.start'),
          eq(auditLog.outcome, 'allowed'),
          inArray(auditLog.caseId, caseIds),
        ),
      );
    expect(audits).toHaveLength(3);

    const result = await h.app.inject({
      method: 'GET',
      url: `/api/v1/batches/${report.id}/result.xlsx`,
      headers: { authorization: reqA },
    });
    expect(result.statusCode).toBe(200);
    const resultRows = await readSheet(result.rawPayload);
    expect(resultRows[0]).toEqual(['行号', '核验对象', '文号', '发起状态', '协查状态', '错误说明']);
    const docNumbers = new Map(started.map((c) => [c.id, c.docNumber]));
    const row2 = rows.find((r) => r.rowNumber === 2);
    expect(resultRows[1]?.slice(0, 5)).toEqual([
      2,
      row2?.subjectMasked,
      docNumbers.get(row2?.caseId ?? ''),
      '已发起',
      '待登记',
    ]);
    expect(resultRows[3]?.slice(3)).toEqual([
      '校验未通过，未发起',
      undefined,
      '「证件号码」不是有效的公民身份号码：出生日期或校验位不符（GB 11643），请核对',
    ]);

    // The same file again: the same batch, and submitting it starts nothing new.
    const again = await upload(reqA, file, 'catalogItem=HJ-001&filename=再次上传.xlsx');
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().id).toBe(report.id);
    const resubmit = await h.app.inject({
      method: 'POST',
      url: `/api/v1/batches/${report.id}/submit`,
      headers: { authorization: reqA },
    });
    expect(resubmit.statusCode).toBe(202);
    // Whatever the second submit started has finished: the batch's workflow (one per batch) has its result.
    await env.client.workflow.getHandle(batchStartWorkflowId(report.id)).result();
    const casesNow = Number(
      (await h.database.db.select({ n: sql<number>`count(*)::int` }).from(cases))[0]?.n,
    );
    expect(casesNow).toBe(casesBefore + 3);

    // Only the uploading unit: another unit is refused (403) and the attempt is audited.
    for (const url of [`/api/v1/batches/${report.id}`, `/api/v1/batches/${report.id}/result.xlsx`]) {
      const other = await h.app.inject({ method: 'GET', url, headers: { authorization: reqB } });
      expect(other.statusCode).toBe(403);
    }
    const otherSubmit = await h.app.inject({
      method: 'POST',
      url: `/api/v1/batches/${report.id}/submit`,
      headers: { authorization: reqB },
    });
    expect(otherSubmit.statusCode).toBe(403);
    const denied = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'batch.read'), eq(auditLog.outcome, 'denied')));
    expect(denied.some((a) => (a.detail as { batchId?: string }).batchId === report.id)).toBe(true);
    const listB = await h.app.inject({
      method: 'GET',
      url: '/api/v1/batches',
      headers: { authorization: reqB },
    });
    expect(listB.json().items.map((b: { id: string }) => b.id)).not.toContain(report.id);
    const listA = await h.app.inject({
      method: 'GET',
      url: '/api/v1/batches',
      headers: { authorization: reqA },
    });
    expect(listA.json().items.map((b: { id: string }) => b.id)).toContain(report.id);
    // The office has no requesting role here.
    const office = await h.app.inject({
      method: 'GET',
      url: `/api/v1/batches/${report.id}`,
      headers: { authorization: await h.login('office') },
    });
    expect(office.statusCode).toBe(403);
  });

  it('answers 400 naming the field and 422 in Chinese', async () => {
    const file = await workbook([['张三', '居民身份证', idFor(7), '年度复核', '淄博市']]);
    const noItem = await upload(reqA, file, 'filename=a.xlsx');
    expect(noItem.statusCode).toBe(400);
    expect(JSON.stringify(noItem.json().errors)).toContain('catalogItem');

    const unknown = await upload(reqA, file, 'catalogItem=NOPE-1');
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toBe('未知的证明事项');

    const pdf = await upload(reqA, Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n'));
    expect(pdf.statusCode).toBe(422);
    expect(pdf.json().detail).toContain('只能上传 Excel 工作簿（.xlsx）');

    const broken = await upload(reqA, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(2000, 7)]));
    expect(broken.statusCode).toBe(422);

    const wrongHeaders = await upload(
      reqA,
      await workbook([['张三', '居民身份证', idFor(7), '年度复核']], HEADERS.slice(0, 4)),
    );
    expect(wrongHeaders.statusCode).toBe(422);
    expect(wrongHeaders.json().detail).toContain('文件缺少列：「申请人申报的户籍地址」');

    const empty = await upload(reqA, await workbook([]));
    expect(empty.statusCode).toBe(422);
    expect(empty.json().detail).toContain('没有核验对象');
  });

  it(`reads ${BATCH_MAX_ROWS} rows streamed with bounded memory, and refuses one more`, async () => {
    const big = async (n: number) => {
      const rows: Array<Array<string>> = [];
      for (let i = 0; i < n; i++)
        rows.push([
          `测试${i}`,
          '居民身份证',
          idFor(i % 1000),
          '2026年度社保待遇资格复核',
          `淄博市张店区某路 ${i} 号`,
        ]);
      return workbook(rows);
    };
    const tooMany = await upload(reqA, await big(BATCH_MAX_ROWS + 1));
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().detail).toBe(`文件的数据行超过 ${BATCH_MAX_ROWS} 行：请拆分为多个文件后再上传`);

    const file = await big(BATCH_MAX_ROWS);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t0 = performance.now();
    const res = await upload(reqA, file);
    const ms = performance.now() - t0;
    clearInterval(sampler);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ total: BATCH_MAX_ROWS, valid: BATCH_MAX_ROWS, invalid: 0 });
    const growthMb = (peak - before) / 1024 / 1024;
    console.log(
      `batch of ${BATCH_MAX_ROWS} rows (${(file.length / 1024).toFixed(0)} KiB): ${ms.toFixed(0)} ms, peak RSS growth ${growthMb.toFixed(1)} MiB`,
    );
    // Loose: the file is read as it arrives and its rows written 500 at a time (PGlite's own growth included).
    expect(growthMb).toBeLessThan(256);
  }, 180_000);
});
