/**
 * Batches from Excel (批量发起): the template a requesting unit fills in, the streamed reading and per-row
 * validation of the uploaded list (the same rules as a single new case: the item's request template, the ID
 * number's or credit code's check character, required fields), the report and result workbooks, and the
 * activities of the `batchStart` workflow (workflows/batch-start.ts) that start one case per valid row.
 *
 * The rows' personal data is sealed at rest like case content (ContentCipher, AAD `<batch id>:<row>`); only
 * the masked subject is kept readable, for reports.
 */
import { Readable, type Writable } from 'node:stream';
import { Context } from '@temporalio/activity';
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { allocateDocNumber, type CaseDeadline } from '../../activities/opening.ts';
import type { Db } from '../../db/client.ts';
import { batches, batchRows, cases } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import type { CryptoProfile } from '../../domain/crypto-profile.ts';
import { subjectIdError } from '../../domain/identifiers.ts';
import { maskSubject } from '../../domain/personal-data.ts';
import type { BatchActivities } from '../../workflows/batch-start.ts';
import { type CaseInput, DEFAULT_REMINDER_FRACTIONS } from '../../workflows/definitions.ts';
import { beijingTime, statusLabel } from '../../workflows/labels.ts';
import { Problem, unprocessable } from '../problem.ts';
import { bindAuditKey, recordAudit } from './audit.ts';
import { CASE_TIMEOUT, caseWorkflowId, createCaseGateway } from './case-gateway.ts';
import { type CatalogItem, currentCatalogItem, validateAgainst } from './catalog.ts';

/** At most this many data rows in one file. */
export const BATCH_MAX_ROWS = 10_000;
/** At most this many bytes in one upload (10,000 rows of the demo items take about 0.5 MB). */
export const BATCH_MAX_BYTES = 20 * 1024 * 1024;

export const COL_NAME = '核验对象姓名';
export const COL_ID_KIND = '证件类型';
export const COL_ID = '证件号码';
export const COL_PURPOSE = '用途';
export const FIXED_COLUMNS = [COL_NAME, COL_ID_KIND, COL_ID, COL_PURPOSE] as const;

/** The 证件类型 a cell may say, and the subject kind it means. */
const ID_KINDS: Record<string, 'person' | 'company'> = {
  居民身份证: 'person',
  身份证: 'person',
  公民身份号码: 'person',
  统一社会信用代码: 'company',
};
const ID_KIND_NAMES = { person: '居民身份证', company: '统一社会信用代码' } as const;

export const BATCH_STATUS_LABELS: Record<string, string> = {
  reading: '读取中',
  validated: '已校验，待提交',
  submitted: '发起中',
  completed: '已完成',
};
export const ROW_STATUS_LABELS: Record<string, string> = {
  invalid: '校验未通过，未发起',
  valid: '待发起',
  started: '已发起',
  failed: '发起失败',
};

type Property = {
  type?: string | string[];
  title?: string;
  enum?: unknown[];
  format?: string;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
};

export interface TemplateColumn {
  header: string;
  /** The field's name in the request template, or undefined for the fixed columns. */
  field?: string;
  required: boolean;
  hint: string;
  type?: string;
}

function schemaProps(item: CatalogItem): Array<[string, Property]> {
  const schema = item.requestSchema as { properties?: Record<string, Property>; 'x-order'?: string[] };
  const props = Object.entries(schema.properties ?? {});
  const order = schema['x-order'];
  if (!order) return props;
  return props.sort(
    ([a], [b]) =>
      (order.indexOf(a) < 0 ? 1e6 : order.indexOf(a)) - (order.indexOf(b) < 0 ? 1e6 : order.indexOf(b)),
  );
}

const typeOf = (p: Property) => (Array.isArray(p.type) ? p.type.find((t) => t !== 'null') : p.type);

/** The template's columns: the four fixed ones, then the item's request fields by their Chinese titles. */
export function templateColumns(item: CatalogItem): TemplateColumn[] {
  const required = new Set((item.requestSchema as { required?: string[] }).required ?? []);
  const kinds = item.subjectKinds ?? ['person', 'company'];
  const cols: TemplateColumn[] = [
    { header: COL_NAME, required: true, hint: '必填：个人姓名或企业名称' },
    {
      header: COL_ID_KIND,
      required: true,
      hint: `必填：${kinds.map((k) => ID_KIND_NAMES[k as 'person' | 'company']).join(' 或 ')}`,
    },
    {
      header: COL_ID,
      required: true,
      hint: '必填：18 位公民身份号码或统一社会信用代码（请按文本填写，末位 X 大写）',
    },
    { header: COL_PURPOSE, required: true, hint: '必填：本次核验的用途（办理的事项），2～200 字' },
  ];
  for (const [name, p] of schemaProps(item)) {
    const t = typeOf(p);
    const parts = [required.has(name) ? '必填' : '选填'];
    if (p.enum) parts.push(`可选：${p.enum.join('、')}`);
    else if (t === 'integer') parts.push('整数');
    else if (t === 'number') parts.push('数字');
    else if (t === 'boolean') parts.push('填“是”或“否”');
    else if (p.format === 'date') parts.push('日期，如 2026-12-01');
    if (p.minimum !== undefined && p.maximum !== undefined) parts.push(`${p.minimum}～${p.maximum}`);
    if (p.examples?.length) parts.push(`例如：${String(p.examples[0])}`);
    cols.push({
      header: p.title ?? name,
      field: name,
      required: required.has(name),
      hint: parts.join('；'),
      ...(t ? { type: t } : {}),
    });
  }
  return cols;
}

/** `批量发起模板-<item>.xlsx` as an RFC 5987 Content-Disposition with an ASCII fallback. */
export function batchDisposition(ascii: string, chinese: string): string {
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(chinese)}`;
}

/**
 * The template: one sheet 核验对象 with the headers in row 1 (bold, each with a note saying what to fill in),
 * text format for the ID number column, a list for 证件类型, and a 填写说明 sheet. Small: written whole.
 */
export async function writeTemplate(out: Writable, item: CatalogItem): Promise<void> {
  const wb = new ExcelJS.Workbook();
  wb.creator = '协查核验引擎';
  const ws = wb.addWorksheet('核验对象', { views: [{ state: 'frozen', ySplit: 1 }] });
  const cols = templateColumns(item);
  ws.columns = cols.map((c) => ({
    header: c.header,
    width: Math.max(14, c.header.length * 2 + 4),
    ...(c.header === COL_ID || c.type === 'string' ? { style: { numFmt: '@' } } : {}),
  }));
  const head = ws.getRow(1);
  head.font = { bold: true };
  cols.forEach((c, i) => {
    head.getCell(i + 1).note = c.hint;
  });
  const kinds = (item.subjectKinds ?? ['person', 'company']).map(
    (k) => ID_KIND_NAMES[k as 'person' | 'company'],
  );
  for (let r = 2; r <= 1001; r++) {
    ws.getCell(r, 2).dataValidation = {
      type: 'list',
      allowBlank: true,
      formulae: [`"${kinds.join(',')}"`],
      showErrorMessage: true,
      errorTitle: '证件类型',
      error: `请选择：${kinds.join('、')}`,
    };
  }
  const info = wb.addWorksheet('填写说明');
  info.columns = [{ width: 18 }, { width: 70 }];
  info.addRow(['证明事项', `${item.name}（${item.code}）`]);
  info.addRow(['填写方法', '在“核验对象”工作表中每行填写一个核验对象，第一行为表头，请勿修改表头']);
  info.addRow(['行数上限', `每个文件至多 ${BATCH_MAX_ROWS} 行`]);
  info.addRow(['重复上传', '同一文件再次上传视为同一批次，不会重复发起协查']);
  info.addRow([]);
  info.addRow(['列', '说明']).font = { bold: true };
  for (const c of cols) info.addRow([c.header, c.hint]);
  await wb.xlsx.write(out);
}

export interface RowError {
  column: string;
  detail: string;
}

export interface ParsedRow {
  rowNumber: number;
  subject: { kind: 'person' | 'company'; name: string; idNumber: string };
  purpose: string;
  fields: Record<string, unknown>;
  errors: RowError[];
}

/** A cell's value as text: rich text, formulas' results, hyperlinks and dates included. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return new Date(v.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as { richText?: Array<{ text: string }>; result?: unknown; text?: unknown; error?: string };
    if (o.richText) return o.richText.map((r) => r.text).join('');
    if ('result' in o) return cellText(o.result);
    if (o.text !== undefined) return cellText(o.text);
    return '';
  }
  return String(v).trim();
}

/** The value a field gets from its cell's text, by the field's type (a wrong one fails the template's check). */
function fieldValue(p: Property, text: string): unknown {
  const t = typeOf(p);
  if (t === 'integer' || t === 'number') {
    const n = Number(text);
    return text !== '' && Number.isFinite(n) ? n : text;
  }
  if (t === 'boolean') {
    if (['是', 'true', 'TRUE', '1', 'Y'].includes(text)) return true;
    if (['否', 'false', 'FALSE', '0', 'N'].includes(text)) return false;
    return text;
  }
  return text;
}

const tooMany = () =>
  unprocessable(`文件的数据行超过 ${BATCH_MAX_ROWS} 行：请拆分为多个文件后再上传`, [
    { pointer: '/body', detail: `至多 ${BATCH_MAX_ROWS} 行` },
  ]);
export const notXlsx = () =>
  new Problem(422, '文件类型不符', '只能上传 Excel 工作簿（.xlsx），请使用下载的模板填写后上传', [
    { pointer: '/body', detail: '不是 .xlsx 文件' },
  ]);

/** The subject, the purpose and the issuing unit, with the rules of a single new case. */
function validateFixed(
  item: CatalogItem,
  requestingUnit: string,
  cells: Map<string, string>,
): Pick<ParsedRow, 'subject' | 'purpose' | 'errors'> {
  const errors: RowError[] = [];
  const name = cells.get(COL_NAME) ?? '';
  const kindText = cells.get(COL_ID_KIND) ?? '';
  const idNumber = (cells.get(COL_ID) ?? '').replace(/\s/g, '').toUpperCase();
  const purpose = cells.get(COL_PURPOSE) ?? '';
  if (!name) errors.push({ column: COL_NAME, detail: `请填写「${COL_NAME}」` });
  else if ([...name].length > 100)
    errors.push({ column: COL_NAME, detail: `「${COL_NAME}」过长（至多 100 字）` });
  const kind = ID_KINDS[kindText];
  const kinds = item.subjectKinds ?? ['person', 'company'];
  if (!kindText) errors.push({ column: COL_ID_KIND, detail: `请填写「${COL_ID_KIND}」` });
  else if (!kind)
    errors.push({ column: COL_ID_KIND, detail: `「${COL_ID_KIND}」只能是居民身份证或统一社会信用代码` });
  else if (!kinds.includes(kind))
    errors.push({
      column: COL_ID_KIND,
      detail: `「${item.name}」的核验对象只能是${kinds.map((k) => (k === 'company' ? '企业' : '个人')).join('或')}`,
    });
  if (!idNumber) errors.push({ column: COL_ID, detail: `请填写「${COL_ID}」` });
  else if (kind) {
    const idError = subjectIdError(kind, idNumber);
    if (idError) errors.push({ column: COL_ID, detail: idError });
  }
  if (!purpose) errors.push({ column: COL_PURPOSE, detail: `请填写「${COL_PURPOSE}」` });
  else if ([...purpose].length < 2 || [...purpose].length > 200)
    errors.push({ column: COL_PURPOSE, detail: `「${COL_PURPOSE}」应为 2～200 字` });
  if (item.issuingUnitCodes[0] === requestingUnit)
    errors.push({ column: '证明事项', detail: '不能向本单位发起协查' });
  return { subject: { kind: kind ?? 'person', name, idNumber }, purpose, errors };
}

/** The template's fields' errors, each naming its column (the field's Chinese title). */
function fieldErrors(item: CatalogItem, fields: Record<string, unknown>): RowError[] {
  const titleOf = new Map(schemaProps(item).map(([f, p]) => [f, p.title ?? f]));
  return validateAgainst(item.requestSchema, fields, '').map((e) => {
    const field = e.pointer.split('/')[1] ?? '';
    return { column: titleOf.get(field) ?? field, detail: e.detail };
  });
}

/** Validates one row's cells with the rules of a single new case. */
export function validateRow(
  item: CatalogItem,
  requestingUnit: string,
  rowNumber: number,
  cells: Map<string, string>,
): ParsedRow {
  const fixed = validateFixed(item, requestingUnit, cells);
  const fields: Record<string, unknown> = {};
  for (const [field, p] of schemaProps(item)) {
    const text = cells.get(p.title ?? field) ?? '';
    if (text !== '') fields[field] = fieldValue(p, text);
  }
  return { rowNumber, ...fixed, fields, errors: [...fixed.errors, ...fieldErrors(item, fields)] };
}

/**
 * Reads the first worksheet of an .xlsx stream with exceljs's streaming reader (rows are parsed as they
 * arrive, never the whole workbook) and yields each non-empty data row validated. The header row maps
 * columns by their titles, in any order; a missing column is a 422 naming it.
 */
export async function* readBatchRows(
  input: Readable,
  item: CatalogItem,
  requestingUnit: string,
): AsyncGenerator<ParsedRow> {
  const expected = templateColumns(item).map((c) => c.header);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  let sheetSeen = false;
  let dataRows = 0;
  try {
    for await (const ws of reader) {
      if (sheetSeen) {
        // Later sheets (填写说明) are read through, not used.
        for await (const _row of ws) {
        }
        continue;
      }
      sheetSeen = true;
      let columns: Map<number, string> | undefined;
      for await (const row of ws) {
        const values = row.values as unknown[];
        if (!columns) {
          columns = new Map();
          values.forEach((v, i) => {
            const h = cellText(v);
            if (h) columns?.set(i, h.replace(/[*＊]\s*$/, ''));
          });
          const present = new Set(columns.values());
          const missing = expected.filter((h) => !present.has(h));
          if (missing.length)
            throw unprocessable(
              `文件缺少列：${missing.map((h) => `「${h}」`).join('、')}。请使用「${item.name}」的模板，勿修改表头`,
              missing.map((h) => ({ pointer: '/body', detail: `缺少列「${h}」` })),
            );
          continue;
        }
        const cells = new Map<string, string>();
        for (const [i, h] of columns) {
          const t = cellText(values[i]);
          if (t) cells.set(h, t);
        }
        if (cells.size === 0) continue;
        dataRows += 1;
        if (dataRows > BATCH_MAX_ROWS) throw tooMany();
        yield validateRow(item, requestingUnit, row.number, cells);
      }
    }
  } catch (err) {
    if (err instanceof Problem) throw err;
    throw notXlsx();
  }
  if (!sheetSeen) throw notXlsx();
  if (dataRows === 0)
    throw unprocessable('文件中没有核验对象：请在模板第二行起每行填写一个核验对象', [
      { pointer: '/body', detail: '没有数据行' },
    ]);
}

/** The case key of a row: the same unit, item, file and row always open the same case. */
export function batchRowCaseKey(catalogCode: string, fileHash: string, rowNumber: number): string {
  return `batch:${catalogCode}:${fileHash}:${rowNumber}`;
}

const sealId = (batchId: string, rowNumber: number) => `${batchId}:${rowNumber}`;

export interface StoredRow {
  subject: ParsedRow['subject'];
  purpose: string;
  fields: Record<string, unknown>;
}

/** Inserts the parsed rows, sealed, 500 at a time. Returns the counts. */
export async function storeRows(
  db: Db,
  cipher: ContentCipher,
  batchId: string,
  rows: AsyncIterable<ParsedRow>,
): Promise<{ total: number; valid: number; invalid: number }> {
  const counts = { total: 0, valid: 0, invalid: 0 };
  let pending: Array<typeof batchRows.$inferInsert> = [];
  const flush = async () => {
    if (pending.length) await db.insert(batchRows).values(pending);
    pending = [];
  };
  for await (const r of rows) {
    counts.total += 1;
    if (r.errors.length) counts.invalid += 1;
    else counts.valid += 1;
    const stored: StoredRow = { subject: r.subject, purpose: r.purpose, fields: r.fields };
    pending.push({
      batchId,
      rowNumber: r.rowNumber,
      status: r.errors.length ? 'invalid' : 'valid',
      subjectMasked: r.subject.name || r.subject.idNumber ? maskSubject(r.subject) : '',
      content: cipher.seal(
        sealId(batchId, r.rowNumber),
        stored as unknown as Record<string, unknown>,
      ) as unknown as Record<string, unknown>,
      errors: r.errors,
    });
    if (pending.length >= 500) await flush();
  }
  await flush();
  return counts;
}

export type BatchRow = typeof batches.$inferSelect;

/** The rows' counts by status. */
export async function batchProgress(db: Db, batchId: string) {
  const rows = await db
    .select({ status: batchRows.status, n: sql<number>`count(*)::int` })
    .from(batchRows)
    .where(eq(batchRows.batchId, batchId))
    .groupBy(batchRows.status);
  const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  return {
    started: by.started ?? 0,
    failed: by.failed ?? 0,
    pending: by.valid ?? 0,
    invalid: by.invalid ?? 0,
  };
}

/** The batch's rows in order, with their case's status, `size` at a time on the row number. */
export async function* batchRowPages(db: Db, batchId: string, size = 500) {
  let after = 0;
  for (;;) {
    const page = await db
      .select({
        rowNumber: batchRows.rowNumber,
        status: batchRows.status,
        subjectMasked: batchRows.subjectMasked,
        errors: batchRows.errors,
        docNumber: batchRows.docNumber,
        failure: batchRows.failure,
        caseStatus: cases.status,
      })
      .from(batchRows)
      .leftJoin(cases, eq(cases.id, batchRows.caseId))
      .where(and(eq(batchRows.batchId, batchId), gt(batchRows.rowNumber, after)))
      .orderBy(asc(batchRows.rowNumber))
      .limit(size);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]?.rowNumber ?? after;
    if (page.length < size) return;
  }
}

export const REPORT_HEADERS = ['行号', '核验对象', '校验结果', '错误说明'] as const;
export const RESULT_HEADERS = ['行号', '核验对象', '文号', '发起状态', '协查状态', '错误说明'] as const;

const errorText = (errors: RowError[]) => errors.map((e) => `「${e.column}」${e.detail}`).join('；');

/** The validation report (before anything is sent) or the result (文号, status, errors), streamed. */
export async function writeBatchXlsx(
  out: Writable,
  db: Db,
  batch: BatchRow,
  kind: 'report' | 'result',
  catalogName: string,
): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = '协查核验引擎';
  const ws = wb.addWorksheet(kind === 'report' ? '校验报告' : '发起结果', {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  const headers = kind === 'report' ? REPORT_HEADERS : RESULT_HEADERS;
  ws.columns = headers.map((h) => ({ width: h === '错误说明' ? 60 : h === '文号' ? 26 : 22 }));
  const head = ws.addRow([...headers]);
  head.font = { bold: true };
  head.commit();
  for await (const page of batchRowPages(db, batch.id)) {
    for (const r of page) {
      const errors = r.failure ? r.failure : errorText(r.errors);
      ws.addRow(
        kind === 'report'
          ? [r.rowNumber, r.subjectMasked, r.status === 'invalid' ? '不通过' : '通过', errors || null]
          : [
              r.rowNumber,
              r.subjectMasked,
              r.docNumber,
              ROW_STATUS_LABELS[r.status] ?? r.status,
              r.caseStatus ? statusLabel(r.caseStatus) : null,
              errors || null,
            ],
      ).commit();
    }
  }
  ws.commit();
  const info = wb.addWorksheet('说明');
  info.columns = [{ width: 14 }, { width: 60 }];
  for (const cells of [
    ['证明事项', `${catalogName}（${batch.catalogCode}）`],
    ['文件', batch.fileName],
    ['上传时间', beijingTime(batch.createdAt.toISOString())],
    ['行数', `共 ${batch.total} 行，校验通过 ${batch.valid} 行，未通过 ${batch.invalid} 行`],
    ['导出时间', beijingTime(new Date().toISOString())],
  ])
    info.addRow(cells).commit();
  info.commit();
  await wb.commit();
}

/** A ReadableStream-free helper for tests and callers holding a Buffer. */
export const bufferStream = (b: Buffer) => Readable.from([b]);

/**
 * The `batchStart` workflow's activities: the rows still waiting, and starting a chunk of them as the person
 * who submitted, each case audited like a single start (`case.start`, with the batch), with the ID and
 * idempotency key of `batchRowCaseKey` so a retried activity opens nothing twice.
 */
export function createBatchActivities({
  db,
  auditKey,
  cryptoProfile,
  contentCipher,
  caseDeadline,
  connectors,
}: {
  db: Db;
  auditKey: Buffer;
  cryptoProfile?: CryptoProfile;
  contentCipher: ContentCipher;
  caseDeadline: CaseDeadline;
  connectors?: ReadonlySet<string>;
}): BatchActivities {
  bindAuditKey(db, auditKey, cryptoProfile);
  return {
    async batchPendingRows({ batchId, limit }) {
      const rows = await db
        .select({ n: batchRows.rowNumber })
        .from(batchRows)
        .where(and(eq(batchRows.batchId, batchId), eq(batchRows.status, 'valid')))
        .orderBy(asc(batchRows.rowNumber))
        .limit(limit);
      return rows.map((r) => r.n);
    },
    async startBatchRows({ batchId, unitCode, actor, sourceIp, rowNumbers }) {
      const [batch] = await db.select().from(batches).where(eq(batches.id, batchId));
      if (!batch?.fileHash) throw new Error(`batch ${batchId} not found or not read`);
      const item = await currentCatalogItem(db, batch.catalogCode);
      const rows = await db
        .select()
        .from(batchRows)
        .where(
          and(
            eq(batchRows.batchId, batchId),
            inArray(batchRows.rowNumber, rowNumbers),
            eq(batchRows.status, 'valid'),
          ),
        )
        .orderBy(asc(batchRows.rowNumber));
      const ctx = Context.current();
      const gateway = createCaseGateway(ctx.client, ctx.info.taskQueue);
      const result = { started: 0, failed: 0 };
      const fail = async (rowNumber: number, failure: string) => {
        await db
          .update(batchRows)
          .set({ status: 'failed', failure, updatedAt: new Date() })
          .where(and(eq(batchRows.batchId, batchId), eq(batchRows.rowNumber, rowNumber)));
        result.failed += 1;
      };
      const startOne = async (row: (typeof rows)[number]) => {
        ctx.heartbeat(row.rowNumber);
        const stored = contentCipher.open(
          sealId(batchId, row.rowNumber),
          row.content,
        ) as unknown as StoredRow;
        if (!item) return fail(row.rowNumber, '证明事项不存在或已停用');
        // The same rules again: the item may have changed since the file was checked.
        const fixed = validateFixed(
          item,
          unitCode,
          new Map([
            [COL_NAME, stored.subject.name],
            [COL_ID_KIND, ID_KIND_NAMES[stored.subject.kind]],
            [COL_ID, stored.subject.idNumber],
            [COL_PURPOSE, stored.purpose],
          ]),
        );
        const errors = [...fixed.errors, ...fieldErrors(item, stored.fields)];
        if (errors.length) return fail(row.rowNumber, errorText(errors));
        const key = batchRowCaseKey(batch.catalogCode, batch.fileHash as string, row.rowNumber);
        const caseId = caseWorkflowId(unitCode, key);
        const requestedAt = new Date().toISOString();
        const input: CaseInput = {
          caseId,
          requestingUnit: unitCode,
          issuingUnit: item.issuingUnitCodes[0] as string,
          catalog: { code: item.code, version: item.version, name: item.name },
          subject: stored.subject,
          fields: stored.fields,
          purpose: stored.purpose,
          tier: item.defaultTier,
          createdBy: { staffId: actor.id, name: actor.name, unitCode: actor.unitCode, role: actor.role },
          requestedAt,
          ...(item.connector && connectors?.has(item.connector) ? { connector: item.connector } : {}),
        };
        input.opening = {
          docNumber: await allocateDocNumber(db, { caseId, unitCode, at: requestedAt }),
          deadline: await caseDeadline({
            receivedAt: requestedAt,
            tier: item.defaultTier,
            reminderFractions: [...DEFAULT_REMINDER_FRACTIONS],
          }),
        };
        const base = {
          actorId: actor.id,
          actorUnit: unitCode,
          action: 'case.start',
          caseId,
          purpose: stored.purpose,
          sourceIp,
        };
        const attemptId = await recordAudit(db, {
          ...base,
          outcome: 'attempted',
          detail: { batchId, row: row.rowNumber },
        });
        try {
          const snapshot = await gateway.start(input, key);
          await recordAudit(db, {
            ...base,
            outcome: 'allowed',
            detail: { batchId, row: row.rowNumber, attemptId },
          });
          await db
            .update(batchRows)
            .set({
              status: 'started',
              caseId: snapshot.caseId,
              docNumber: input.opening.docNumber,
              updatedAt: new Date(),
            })
            .where(and(eq(batchRows.batchId, batchId), eq(batchRows.rowNumber, row.rowNumber)));
          result.started += 1;
        } catch (err) {
          const refused = err instanceof Problem && err.code !== CASE_TIMEOUT;
          await recordAudit(db, {
            ...base,
            outcome: refused ? 'denied' : 'error',
            detail: { batchId, row: row.rowNumber, attemptId },
          }).catch(() => {});
          if (refused) return fail(row.rowNumber, (err as Problem).detail);
          throw err; // retried by the activity's policy: the same key finds the same case
        }
      };
      for (let i = 0; i < rows.length; i += 5) await Promise.all(rows.slice(i, i + 5).map(startOne));
      return result;
    },
    async failBatchRows({ batchId, rowNumbers, reason }) {
      await db
        .update(batchRows)
        .set({ status: 'failed', failure: reason, updatedAt: new Date() })
        .where(
          and(
            eq(batchRows.batchId, batchId),
            inArray(batchRows.rowNumber, rowNumbers),
            eq(batchRows.status, 'valid'),
          ),
        );
    },
    async finishBatch({ batchId }) {
      await db
        .update(batches)
        .set({ status: 'completed', completedAt: new Date() })
        .where(and(eq(batches.id, batchId), eq(batches.status, 'submitted')));
    },
  };
}
