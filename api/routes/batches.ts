/**
 * Batches from Excel (批量发起): a requesting unit downloads the template of a catalog item, uploads the filled
 * list (the .xlsx itself as the request body, like attachments; read as it arrives, never held whole), reads
 * the validation report, then submits: a `batchStart` workflow starts one case per valid row. Only the
 * uploading unit sees its batches (another unit's is a 403, audited); the same file uploaded again is the same
 * batch, and its rows' cases are keyed by (unit, item, file hash, row), so nothing is ever started twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { batches, batchRows, units } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import {
  BATCH_MAX_BYTES,
  BATCH_MAX_ROWS,
  BATCH_STATUS_LABELS,
  type BatchRow,
  batchDisposition,
  batchProgress,
  notXlsx,
  readBatchRows,
  storeRows,
  writeBatchXlsx,
  writeTemplate,
} from '../services/batches.ts';
import type { CaseGateway } from '../services/case-gateway.ts';
import { type CatalogItem, catalogItemVersion, currentCatalogItem } from '../services/catalog.ts';
import { XLSX_TYPE } from '../services/stats-export.ts';

export interface BatchRouteDeps {
  db: Db;
  gateway: CaseGateway;
  contentCipher: ContentCipher;
}

const queryAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(queryAjv);

/** At most this many rows with errors in `GET batches/:id` (all of them are in report.xlsx). */
const ERROR_ROWS_SHOWN = 500;

const RowErrorSchema = Type.Object({ column: Type.String(), detail: Type.String() });
const BatchView = Type.Object({
  id: Type.String(),
  catalogCode: Type.String(),
  catalogName: Type.String(),
  fileName: Type.String(),
  status: Type.String({ description: 'validated 已校验待提交 · submitted 发起中 · completed 已完成' }),
  statusLabel: Type.String(),
  total: Type.Integer(),
  valid: Type.Integer(),
  invalid: Type.Integer(),
  submitted: Type.Integer({ description: '已提交发起的行数（提交后等于 valid）' }),
  started: Type.Integer(),
  failed: Type.Integer(),
  pending: Type.Integer({ description: '已提交、尚未发起的行数' }),
  createdAt: Type.String({ format: 'date-time' }),
  submittedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  errorRows: Type.Array(
    Type.Object({ row: Type.Integer(), subject: Type.String(), errors: Type.Array(RowErrorSchema) }),
    { description: `校验未通过的行（至多 ${ERROR_ROWS_SHOWN} 行；完整报告见 report.xlsx）` },
  ),
});
const BatchSummary = Type.Omit(BatchView, ['errorRows']);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const XlsxResponse = (description: string) => ({
  200: {
    description,
    content: { [XLSX_TYPE]: { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) } },
  },
});

/** Who may start cases: the liaison or an agent of a requesting unit (Art. 5). */
async function mayRequest(db: Db, who: StaffContext): Promise<boolean> {
  if (who.role !== 'agent' && who.role !== 'liaison') return false;
  const [unit] = await db
    .select({ canRequest: units.canRequest })
    .from(units)
    .where(eq(units.code, who.unitCode));
  return !!unit?.canRequest;
}

async function summaryOf(db: Db, b: BatchRow, catalogName: string) {
  const p = await batchProgress(db, b.id);
  const submitted = b.status === 'submitted' || b.status === 'completed';
  return {
    id: b.id,
    catalogCode: b.catalogCode,
    catalogName,
    fileName: b.fileName,
    status: b.status,
    statusLabel: BATCH_STATUS_LABELS[b.status] ?? b.status,
    total: b.total,
    valid: b.valid,
    invalid: b.invalid,
    submitted: submitted ? b.valid : 0,
    started: p.started,
    failed: p.failed,
    pending: submitted ? p.pending : 0,
    createdAt: b.createdAt.toISOString(),
    submittedAt: b.submittedAt?.toISOString() ?? null,
    completedAt: b.completedAt?.toISOString() ?? null,
  };
}

async function viewOf(db: Db, b: BatchRow, catalogName: string) {
  const rows = await db
    .select({ row: batchRows.rowNumber, subject: batchRows.subjectMasked, errors: batchRows.errors })
    .from(batchRows)
    .where(and(eq(batchRows.batchId, b.id), eq(batchRows.status, 'invalid')))
    .orderBy(batchRows.rowNumber)
    .limit(ERROR_ROWS_SHOWN);
  return { ...(await summaryOf(db, b, catalogName)), errorRows: rows };
}

const nameOf = async (db: Db, b: BatchRow) =>
  (await catalogItemVersion(db, b.catalogCode, b.catalogVersion))?.name ?? b.catalogCode;

const unknownItem = () =>
  unprocessable('未知的证明事项', [
    { pointer: '/querystring/catalogItem', detail: '证明事项不存在或已停用' },
  ]);

/**
 * The request's bytes as they arrive, checked on the way: an .xlsx starts like a ZIP archive, and at most
 * BATCH_MAX_BYTES. On a violation the stream ends early (the reader then fails) and `state` says why.
 */
function checkedUpload(src: AsyncIterable<Buffer>) {
  const state = { hash: createHash('sha256'), bytes: 0, notXlsx: false, tooLarge: false };
  async function* pass() {
    for await (const chunk of src) {
      if (state.bytes === 0 && !(chunk[0] === 0x50 && chunk[1] === 0x4b)) {
        state.notXlsx = true;
        return;
      }
      state.bytes += chunk.length;
      if (state.bytes > BATCH_MAX_BYTES) {
        state.tooLarge = true;
        return;
      }
      state.hash.update(chunk);
      yield chunk;
    }
  }
  return { stream: Readable.from(pass(), { objectMode: false }), state };
}

export const batchRoutes: FastifyPluginAsyncTypebox<BatchRouteDeps> = async (
  app,
  { db, gateway, contentCipher },
) => {
  // The upload's body is read by the handler as it arrives (never buffered by a parser).
  const uploads = new WeakMap<FastifyRequest, IncomingMessage>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    uploads.set(req, payload as IncomingMessage);
    done(null, undefined);
  });

  const audit = (
    req: FastifyRequest,
    who: StaffContext,
    action: string,
    outcome: 'allowed' | 'denied',
    detail: Record<string, unknown>,
  ) =>
    recordAudit(db, { actorId: who.id, actorUnit: who.unitCode, action, sourceIp: req.ip, outcome, detail });

  /** The caller's own batch, or 404 (none) / 403 (another unit's, audited). */
  async function ownBatch(req: FastifyRequest, id: string, action: string): Promise<BatchRow> {
    const who = staffOf(req);
    const [b] = await db.select().from(batches).where(eq(batches.id, id));
    if (!b || b.status === 'reading') {
      await audit(req, who, action, 'denied', { batchId: id, reason: 'no_such_batch' });
      throw notFound('未找到该批次');
    }
    if (b.unitCode !== who.unitCode || !(await mayRequest(db, who))) {
      await audit(req, who, action, 'denied', { batchId: id, reason: 'not_your_batch' });
      throw forbidden('只有上传该批次的需求单位可以查看或提交该批次');
    }
    return b;
  }

  async function requester(req: FastifyRequest, action: string): Promise<StaffContext> {
    const who = staffOf(req);
    if (!(await mayRequest(db, who))) {
      await audit(req, who, action, 'denied', { reason: 'not_a_requester' });
      throw forbidden('只有需求单位的联络员或经办人可以批量发起协查（第五条）');
    }
    return who;
  }

  app.get(
    '/api/v1/batches/template.xlsx',
    {
      schema: {
        tags: ['批量发起'],
        summary: '下载批量发起模板（XLSX，中文表头：核验对象姓名、证件类型、证件号码、用途及事项字段）',
        security: [{ bearer: [] }],
        produces: [XLSX_TYPE],
        querystring: Type.Object(
          { catalogItem: Type.String({ minLength: 1, maxLength: 64, description: '证明事项编码' }) },
          { additionalProperties: false },
        ),
        response: { ...XlsxResponse('批量发起模板'), ...errorResponses(403, 422) },
      },
    },
    async (req, reply) => {
      await requester(req, 'batch.template');
      const item = await currentCatalogItem(db, req.query.catalogItem);
      if (!item) throw unknownItem();
      const body = new PassThrough();
      writeTemplate(body, item).catch((err: unknown) => body.destroy(err as Error));
      return reply
        .header('content-type', XLSX_TYPE)
        .header(
          'content-disposition',
          batchDisposition(`batch-template-${item.code}.xlsx`, `批量发起模板-${item.name}.xlsx`),
        )
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  );

  app.post(
    '/api/v1/batches',
    {
      // The body is the .xlsx itself, read as a stream below; the query is validated as everywhere else.
      validatorCompiler: ({ schema, httpPart }) =>
        httpPart === 'body' ? () => true : queryAjv.compile(schema),
      schema: {
        tags: ['批量发起'],
        summary: `上传批量发起文件（.xlsx，请求体为文件本身，至多 ${BATCH_MAX_ROWS} 行）：逐行校验，返回校验报告，尚不发起`,
        security: [{ bearer: [] }],
        consumes: [XLSX_TYPE, 'application/octet-stream'],
        querystring: Type.Object(
          {
            catalogItem: Type.String({ minLength: 1, maxLength: 64, description: '证明事项编码' }),
            filename: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                pattern: '^[^\\\\/\\x00-\\x1f\\x7f]+$',
                description: '原文件名（不含路径）',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        body: Type.Unsafe<undefined>({ type: 'string', format: 'binary', description: '.xlsx 文件内容' }),
        response: { 201: BatchView, 200: BatchView, ...errorResponses(403, 413, 422) },
      },
    },
    async (req, reply) => {
      const who = await requester(req, 'batch.upload');
      const item: CatalogItem | undefined = await currentCatalogItem(db, req.query.catalogItem);
      if (!item) throw unknownItem();
      if (item.issuingUnitCodes[0] === who.unitCode)
        throw unprocessable('不能向本单位发起协查', [
          { pointer: '/querystring/catalogItem', detail: '该事项的出具单位是本单位' },
        ]);
      const raw = uploads.get(req);
      if (!raw) throw notXlsx();
      const { stream, state } = checkedUpload(raw);
      const id = `batch-${randomUUID()}`;
      const fileName = req.query.filename ?? '批量发起.xlsx';
      await db.insert(batches).values({
        id,
        unitCode: who.unitCode,
        catalogCode: item.code,
        catalogVersion: item.version,
        fileName,
        status: 'reading',
        createdBy: who.id,
      });
      const discard = async () => {
        await db.delete(batchRows).where(eq(batchRows.batchId, id));
        await db.delete(batches).where(eq(batches.id, id));
      };
      let counts: Awaited<ReturnType<typeof storeRows>>;
      try {
        counts = await storeRows(db, contentCipher, id, readBatchRows(stream, item, who.unitCode));
      } catch (err) {
        await discard();
        const why = state.tooLarge
          ? new Problem(413, '文件过大', `文件不能超过 ${BATCH_MAX_BYTES / 1024 / 1024} MB，请拆分后再上传`)
          : state.notXlsx
            ? notXlsx()
            : err;
        await audit(req, who, 'batch.upload', 'denied', {
          catalogCode: item.code,
          reason: why instanceof Problem ? why.detail : 'error',
        });
        throw why;
      }
      const fileHash = state.hash.digest('hex');
      const same = and(
        eq(batches.unitCode, who.unitCode),
        eq(batches.catalogCode, item.code),
        eq(batches.fileHash, fileHash),
      );
      const [existing] = await db.select().from(batches).where(same);
      let batch: BatchRow | undefined = existing;
      if (!existing) {
        try {
          [batch] = await db
            .update(batches)
            .set({ fileHash, status: 'validated', ...counts })
            .where(eq(batches.id, id))
            .returning();
        } catch {
          // The same file, uploaded at the same moment by a colleague: theirs is the batch.
          [batch] = await db.select().from(batches).where(same);
          if (!batch) throw new Error('batch upload lost both ways');
        }
      }
      if (batch?.id !== id) await discard();
      if (!batch) throw new Error('batch missing after upload');
      await audit(req, who, 'batch.upload', 'allowed', {
        batchId: batch.id,
        catalogCode: item.code,
        sha256: fileHash,
        sizeBytes: state.bytes,
        ...counts,
        sameFile: batch.id !== id,
      });
      return reply.code(batch.id === id ? 201 : 200).send(await viewOf(db, batch, item.name));
    },
  );

  app.get(
    '/api/v1/batches',
    {
      schema: {
        tags: ['批量发起'],
        summary: '本单位的批量发起批次（最近 50 个）',
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ items: Type.Array(BatchSummary) }), ...errorResponses(403) },
      },
    },
    async (req) => {
      const who = await requester(req, 'batch.list');
      const rows = await db
        .select()
        .from(batches)
        .where(eq(batches.unitCode, who.unitCode))
        .orderBy(desc(batches.createdAt))
        .limit(50);
      const items = [];
      for (const b of rows)
        if (b.status !== 'reading') items.push(await summaryOf(db, b, await nameOf(db, b)));
      return { items };
    },
  );

  app.get(
    '/api/v1/batches/:id',
    {
      schema: {
        tags: ['批量发起'],
        summary: '批次的校验报告与发起进度（已提交、已发起、失败）',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: BatchView, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const b = await ownBatch(req, req.params.id, 'batch.read');
      return viewOf(db, b, await nameOf(db, b));
    },
  );

  for (const kind of ['report', 'result'] as const) {
    app.get(
      `/api/v1/batches/:id/${kind}.xlsx`,
      {
        schema: {
          tags: ['批量发起'],
          summary:
            kind === 'report'
              ? '下载校验报告（XLSX：行号、核验对象（脱敏）、校验结果、错误说明）'
              : '下载发起结果（XLSX：行号、核验对象（脱敏）、文号、发起状态、协查状态、错误说明）',
          security: [{ bearer: [] }],
          params: IdParams,
          produces: [XLSX_TYPE],
          response: {
            ...XlsxResponse(kind === 'report' ? '校验报告' : '发起结果'),
            ...errorResponses(403, 404),
          },
        },
      },
      async (req, reply) => {
        const b = await ownBatch(req, req.params.id, `batch.${kind}`);
        const name = await nameOf(db, b);
        await audit(req, staffOf(req), `batch.${kind}`, 'allowed', { batchId: b.id });
        const body = new PassThrough();
        writeBatchXlsx(body, db, b, kind, name).catch((err: unknown) => {
          req.log.error({ err }, 'batch workbook failed');
          body.destroy(err instanceof Error ? err : new Error('batch workbook failed'));
        });
        const label = kind === 'report' ? '校验报告' : '发起结果';
        return reply
          .header('content-type', XLSX_TYPE)
          .header(
            'content-disposition',
            batchDisposition(`batch-${kind}.xlsx`, `批量发起${label}-${b.fileName}`),
          )
          .header('cache-control', 'private, no-store')
          .send(body);
      },
    );
  }

  app.post(
    '/api/v1/batches/:id/submit',
    {
      schema: {
        tags: ['批量发起'],
        summary: '提交批次：为每个校验通过的行发起一件协查（后台工作流执行；重复提交不会重复发起）',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 202: BatchView, ...errorResponses(403, 404, 422) },
      },
    },
    async (req, reply) => {
      const b = await ownBatch(req, req.params.id, 'batch.submit');
      const who = staffOf(req);
      if (b.valid === 0) throw unprocessable('该批次没有校验通过的行，无可发起的协查：请修改文件后重新上传');
      let batch = b;
      if (b.status === 'validated') {
        const [updated] = await db
          .update(batches)
          .set({ status: 'submitted', submittedBy: who.id, submittedAt: new Date() })
          .where(and(eq(batches.id, b.id), eq(batches.status, 'validated')))
          .returning();
        batch = updated ?? (await db.select().from(batches).where(eq(batches.id, b.id)))[0] ?? b;
      }
      // Submitted (now or before) and not completed: (re)start the workflow; it runs once per batch.
      if (batch.status === 'submitted')
        await gateway.startBatch({
          batchId: batch.id,
          unitCode: batch.unitCode,
          actor: {
            id: who.id,
            username: who.username,
            name: who.name,
            unitCode: who.unitCode,
            unitKind: who.unitKind,
            // mayRequest: an agent or a liaison
            role: who.role === 'liaison' ? 'liaison' : 'agent',
            partnerId: who.partnerId,
            isDemo: who.isDemo,
            mustChangePassword: who.mustChangePassword,
          },
          sourceIp: req.ip,
        });
      await audit(req, who, 'batch.submit', 'allowed', { batchId: batch.id, rows: batch.valid });
      return reply.code(202).send(await viewOf(db, batch, await nameOf(db, batch)));
    },
  );
};
