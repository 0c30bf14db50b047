/**
 * 告知承诺 (seed 004): the requesting unit records a commitment signed instead of a certificate; the engine checks it
 * afterwards (workflows/commitment.ts: a verification case when the check is due); a commitment confirmed false
 * becomes a credit record (信用记录) that bars the subject from 告知承诺 for the configured period. Units see their
 * own, the office's supervisors every unit's; refusals are audited.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, lt, or } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { commitments } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import { subjectIdError } from '../../domain/identifiers.ts';
import { maskSubject, subjectIdHash } from '../../domain/personal-data.ts';
import { COMMITMENT_STATUSES, type CommitmentInput } from '../../workflows/commitment-definitions.ts';
import { staffOf } from '../plugins/auth.ts';
import { conflict, forbidden, notFound, unprocessable } from '../problem.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import type { CaseGateway } from '../services/case-gateway.ts';
import { currentCatalogItem, validateAgainst } from '../services/catalog.ts';
import {
  beijingDate,
  COMMITMENT_STATUS_LABELS,
  type CommitmentPeriods,
  type CommitmentRow,
  commitmentScope,
  commitmentView,
  creditView,
  currentBar,
  listCreditRecords,
  type Scope,
  unitNames,
  writeCreditRecordsXlsx,
} from '../services/commitments.ts';
import { decodeCursor, encodeCursor } from '../services/cursor.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';
import { XLSX_TYPE } from '../services/stats-export.ts';
import { actorOf } from './verifications.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Text = (min: number, max: number, description: string) =>
  Type.String({ minLength: min, maxLength: max, pattern: '\\S', description });

const RecordBody = Type.Object(
  {
    subject: Type.Object(
      {
        kind: Type.Union([Type.Literal('person'), Type.Literal('company')]),
        name: Text(1, 100, '承诺人姓名或企业名称'),
        idNumber: Type.String({
          minLength: 18,
          maxLength: 18,
          description: '公民身份号码或统一社会信用代码',
        }),
      },
      { additionalProperties: false },
    ),
    catalogCode: Type.String({ minLength: 1, maxLength: 64, description: '承诺替代的证明事项编码' }),
    issuingUnit: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: '核查时请求协助的出具单位' }),
    ),
    promise: Text(2, 2000, '承诺内容'),
    applicationNumber: Text(1, 64, '办件号'),
    serviceName: Text(2, 200, '申请办理的事项'),
    signedAt: Type.String({ format: 'date-time', description: '承诺书签署时间' }),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: '核查时协查函的字段（按事项模板）' }),
    ),
  },
  { additionalProperties: false },
);

const Commitment = Type.Object({
  id: Type.String(),
  requestingUnit: Type.String(),
  requestingUnitName: Type.String(),
  issuingUnit: Type.String(),
  issuingUnitName: Type.String(),
  catalogCode: Type.String(),
  catalogName: Type.String(),
  subjectKind: Type.String(),
  subject: Type.String({ description: '脱敏后的承诺人' }),
  promise: Type.String(),
  applicationNumber: Type.String(),
  serviceName: Type.String(),
  signedAt: DateTime,
  recordedBy: Type.String(),
  recordedAt: DateTime,
  status: Type.String(),
  statusLabel: Type.String(),
  checkDueAt: Nullable(DateTime),
  caseId: Nullable(Type.String()),
  caseDocNumber: Nullable(Type.String()),
  checkOutcome: Nullable(Type.String()),
  checkNote: Nullable(Type.String({ description: '被请求单位的书面答复或退回理由' })),
  checkedAt: Nullable(DateTime),
  decision: Nullable(Type.String()),
  decisionReason: Nullable(Type.String()),
  decidedBy: Nullable(Type.String()),
  decidedAt: Nullable(DateTime),
});

const CreditRecord = Type.Object({
  id: Type.String(),
  commitmentId: Type.String(),
  requestingUnit: Type.String(),
  requestingUnitName: Type.String(),
  subjectKind: Type.String(),
  subject: Type.String({ description: '脱敏后的承诺人' }),
  catalogName: Type.String(),
  applicationNumber: Type.String(),
  reason: Type.String(),
  recordedBy: Type.String(),
  recordedByName: Nullable(Type.String()),
  recordedAt: DateTime,
  barredUntil: DateTime,
  barred: Type.Boolean(),
});

/** At most this many credit records in one export. */
const EXPORT_MAX = 50_000;

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const ReasonBody = Type.Object({ reason: Text(2, 2000, '书面理由') }, { additionalProperties: false });
const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 400, description: '上一页的 nextCursor' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
};

/** A template's field titles by field name (the written findings read 登记的户籍地址, not registeredAddress). */
function fieldTitles(schema: Record<string, unknown>): Record<string, string> {
  const props = (schema.properties ?? {}) as Record<string, { title?: unknown }>;
  return Object.fromEntries(
    Object.entries(props).flatMap(([k, p]) => (typeof p?.title === 'string' ? [[k, p.title]] : [])),
  );
}

/** Same unit + same client key → same commitment (and the same check workflow). */
export const commitmentId = (unit: string, key: string): string =>
  `commitment-${unit}-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;

export interface CommitmentRouteDeps {
  db: Db;
  gateway: CaseGateway;
  subjectKey: Buffer;
  contentCipher: ContentCipher;
  periods: CommitmentPeriods;
  clock: () => Date;
}

export const commitmentRoutes: FastifyPluginAsyncTypebox<CommitmentRouteDeps> = async (
  app,
  { db, gateway, subjectKey, contentCipher, periods, clock },
) => {
  /** The caller's scope; a refusal is audited before the 403. */
  async function scopeOf(req: FastifyRequest, action: string): Promise<Scope> {
    const who = staffOf(req);
    try {
      return await commitmentScope(db, who);
    } catch (err) {
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action,
        sourceIp: req.ip,
        outcome: 'denied',
        detail: { role: who.role },
      });
      throw err;
    }
  }

  /** The commitment if the caller may see it; otherwise a 404 (audited), never whether it exists. */
  async function visible(
    req: FastifyRequest,
    id: string,
    scope: Scope,
    action: string,
  ): Promise<CommitmentRow> {
    const [row] = await db.select().from(commitments).where(eq(commitments.id, id));
    if (row && (scope.all || row.requestingUnit === scope.unit)) return row;
    const who = staffOf(req);
    await recordAudit(db, {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      sourceIp: req.ip,
      outcome: 'denied',
      detail: { commitmentId: id, reason: row ? 'not_your_commitment' : 'no_such_commitment' },
    });
    throw notFound('未找到该告知承诺，或您无权查看');
  }

  app.post(
    '/api/v1/commitments',
    {
      schema: {
        tags: ['告知承诺'],
        summary: '登记告知承诺（以承诺代替证明），并安排事后核查',
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: RecordBody,
        response: { 201: Commitment, ...errorResponses(403, 409, 422, 504) },
      },
    },
    async (req, reply) => {
      const scope = await scopeOf(req, 'commitment.record');
      const who = staffOf(req);
      if (scope.all) {
        await recordAudit(db, {
          actorId: who.id,
          actorUnit: who.unitCode,
          action: 'commitment.record',
          sourceIp: req.ip,
          outcome: 'denied',
          detail: { role: who.role },
        });
        throw forbidden('只有需求单位的联络员或经办人可以登记告知承诺');
      }
      const body = req.body;
      const item = await currentCatalogItem(db, body.catalogCode);
      if (!item)
        throw unprocessable('未知的证明事项', [
          { pointer: '/body/catalogCode', detail: '证明事项不存在或已停用' },
        ]);
      const issuingUnit = body.issuingUnit ?? item.issuingUnitCodes[0];
      if (!issuingUnit || !item.issuingUnitCodes.includes(issuingUnit) || issuingUnit === who.unitCode)
        throw unprocessable('核查时不能向此单位请求协助', [
          { pointer: '/body/issuingUnit', detail: `可选出具单位：${item.issuingUnitCodes.join('、')}` },
        ]);
      const idNumber = body.subject.idNumber.toUpperCase();
      const idError = subjectIdError(body.subject.kind, idNumber);
      if (idError)
        throw unprocessable(
          body.subject.kind === 'person'
            ? '公民身份号码无效（校验位不符）'
            : '统一社会信用代码无效（校验位不符）',
          [{ pointer: '/body/subject/idNumber', detail: idError }],
        );
      const kinds = item.subjectKinds ?? ['person', 'company'];
      if (!kinds.includes(body.subject.kind))
        throw unprocessable(
          `「${item.name}」的承诺人只能是${kinds.map((k) => (k === 'company' ? '企业' : '个人')).join('或')}`,
          [{ pointer: '/body/subject/kind', detail: '承诺人类型与事项不符' }],
        );
      const fields = body.fields ?? {};
      const fieldErrors = validateAgainst(item.requestSchema, fields, '/body/fields');
      if (fieldErrors.length)
        throw unprocessable(
          `核查协查函的内容不符合「${item.name}」的模板：${fieldErrors.map((e) => e.detail).join('；')}`,
          fieldErrors,
        );
      const now = clock();
      if (Date.parse(body.signedAt) > now.getTime() + 5 * 60_000)
        throw unprocessable('承诺书的签署时间不能晚于现在', [
          { pointer: '/body/signedAt', detail: '签署时间晚于当前时间' },
        ]);
      // Seed 004 (二): a subject with a false commitment is not offered 告知承诺 until its credit is repaired.
      const bar = await currentBar(db, subjectKey, idNumber, now);
      if (bar) {
        await recordAudit(db, {
          actorId: who.id,
          actorUnit: who.unitCode,
          action: 'commitment.record',
          sourceIp: req.ip,
          outcome: 'denied',
          detail: { reason: 'subject_barred', barredUntil: bar.barredUntil.toISOString() },
        });
        throw unprocessable(
          `该${body.subject.kind === 'company' ? '企业' : '申请人'}曾作出虚假承诺（${beijingDate(bar.recordedAt.toISOString())}记入信用记录），` +
            `${beijingDate(bar.barredUntil.toISOString())}前不适用告知承诺制，请提交证明材料`,
          [{ pointer: '/body/subject/idNumber', detail: '承诺人在信用记录限制期内' }],
        );
      }
      const { key } = await claimIdempotencyKey(db, req, who);
      const id = commitmentId(who.unitCode, key);
      const subject = { kind: body.subject.kind, name: body.subject.name.trim(), idNumber };
      await db
        .insert(commitments)
        .values({
          id,
          requestingUnit: who.unitCode,
          issuingUnit,
          catalogCode: item.code,
          catalogName: item.name,
          subjectKind: subject.kind,
          subjectMasked: maskSubject(subject),
          subjectIdHash: subjectIdHash(subjectKey, idNumber, contentCipher.profile),
          promise: body.promise.trim(),
          applicationNumber: body.applicationNumber.trim(),
          serviceName: body.serviceName.trim(),
          signedAt: new Date(body.signedAt),
          recordedBy: who.id,
          recordedAt: now,
          status: 'scheduled',
          content: contentCipher.seal(id, { subject, fields }) as unknown as Record<string, unknown>,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: commitments.id });
      const [row] = await db.select().from(commitments).where(eq(commitments.id, id));
      if (!row) throw new Error('the commitment row was not written');
      const input: CommitmentInput = {
        commitmentId: id,
        requestingUnit: row.requestingUnit,
        recordedAt: row.recordedAt.toISOString(),
        checkWorkingDays: periods.checkWorkingDays,
        barDays: periods.barDays,
        responseTitles: fieldTitles(item.responseSchema),
        check: {
          requestingUnit: row.requestingUnit,
          issuingUnit: row.issuingUnit,
          catalog: { code: item.code, version: item.version, name: item.name },
          subject,
          fields,
          purpose: `告知承诺事后核查：${row.serviceName}（办件号 ${row.applicationNumber}）`,
          tier: item.defaultTier,
          applicationNumber: row.applicationNumber,
          createdBy: actorOf(who),
        },
      };
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'commitment.record',
        purpose: input.check.purpose,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { commitmentId: id, catalogCode: item.code, applicationNumber: row.applicationNumber },
      });
      await gateway.startCommitment(input);
      const [started] = await db.select().from(commitments).where(eq(commitments.id, id));
      return reply.code(201).send(commitmentView(started ?? row, await unitNames(db)));
    },
  );

  app.get(
    '/api/v1/commitments',
    {
      schema: {
        tags: ['告知承诺'],
        summary: '告知承诺列表（本单位的；联席会议办公室可看全部），按登记时间倒序，游标分页',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union(
                COMMITMENT_STATUSES.map((s) => Type.Literal(s)),
                { description: '状态' },
              ),
            ),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Commitment), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const scope = await scopeOf(req, 'commitments.list');
      const limit = req.query.limit ?? 50;
      const after = req.query.cursor ? decodeCursor(req.query.cursor) : undefined;
      const rows = await db
        .select()
        .from(commitments)
        .where(
          and(
            scope.all ? undefined : eq(commitments.requestingUnit, scope.unit),
            req.query.status ? eq(commitments.status, req.query.status) : undefined,
            after
              ? or(
                  lt(commitments.recordedAt, after[0]),
                  and(eq(commitments.recordedAt, after[0]), lt(commitments.id, after[1])),
                )
              : undefined,
          ),
        )
        .orderBy(desc(commitments.recordedAt), desc(commitments.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const names = await unitNames(db);
      return {
        items: page.map((r) => commitmentView(r, names)),
        nextCursor: rows.length > limit && last ? encodeCursor(last.recordedAt, last.id) : null,
      };
    },
  );

  app.get(
    '/api/v1/commitments/:id',
    {
      schema: {
        tags: ['告知承诺'],
        summary: '告知承诺详情（含核查协查的书面答复），查阅留痕',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Commitment, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const scope = await scopeOf(req, 'commitment.read');
      const row = await visible(req, req.params.id, scope, 'commitment.read');
      const who = staffOf(req);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'commitment.read',
        caseId: row.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { commitmentId: row.id },
      });
      return commitmentView(row, await unitNames(db));
    },
  );

  for (const verdict of ['false', 'true'] as const) {
    app.post(
      `/api/v1/commitments/:id/confirm-${verdict}`,
      {
        schema: {
          tags: ['告知承诺'],
          summary:
            verdict === 'false'
              ? '确认承诺不实（书面理由）：记入信用记录，限制期内不适用告知承诺'
              : '确认承诺属实（书面理由）',
          security: [{ bearer: [] }],
          headers: IdempotencyHeaders,
          params: IdParams,
          body: ReasonBody,
          response: { 200: Commitment, ...errorResponses(403, 404, 409, 422, 504) },
        },
      },
      async (req) => {
        const action = `commitment.confirm_${verdict}`;
        const scope = await scopeOf(req, action);
        const row = await visible(req, req.params.id, scope, action);
        const who = staffOf(req);
        const base = {
          actorId: who.id,
          actorUnit: who.unitCode,
          action,
          caseId: row.caseId,
          sourceIp: req.ip,
        };
        if (scope.all || row.requestingUnit !== who.unitCode) {
          await recordAudit(db, { ...base, outcome: 'denied', detail: { commitmentId: row.id } });
          throw forbidden('只有登记该承诺的需求单位可以确认核查结论');
        }
        // A decision only when a check asks for one (the workflow checks again; an ended one cannot answer).
        if (row.status !== 'awaiting_confirmation') {
          await recordAudit(db, {
            ...base,
            outcome: 'denied',
            detail: { commitmentId: row.id, status: row.status },
          });
          throw conflict(
            `该承诺的状态为「${COMMITMENT_STATUS_LABELS[row.status] ?? row.status}」，当前不需要确认核查结论`,
            'invalid_state',
          );
        }
        const key = req.headers['idempotency-key'];
        await recordAudit(db, { ...base, outcome: 'attempted', detail: { commitmentId: row.id } });
        try {
          await gateway.confirmCommitment(
            row.id,
            { actor: actorOf(who), verdict, reason: req.body.reason },
            typeof key === 'string' ? `confirm-${who.unitCode}-${key}` : undefined,
          );
        } catch (err) {
          await recordAudit(db, { ...base, outcome: 'denied', detail: { commitmentId: row.id } });
          throw err;
        }
        await recordAudit(db, { ...base, outcome: 'allowed', detail: { commitmentId: row.id } });
        const [after] = await db.select().from(commitments).where(eq(commitments.id, row.id));
        return commitmentView(after ?? row, await unitNames(db));
      },
    );
  }

  app.get(
    '/api/v1/credit-records',
    {
      schema: {
        tags: ['告知承诺'],
        summary: '信用记录（虚假承诺）：本单位记录的；联席会议办公室可看全部；按记录时间倒序，游标分页',
        security: [{ bearer: [] }],
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: {
          200: Type.Object({ items: Type.Array(CreditRecord), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const scope = await scopeOf(req, 'credit_records.list');
      const limit = req.query.limit ?? 50;
      const after = req.query.cursor ? decodeCursor(req.query.cursor) : undefined;
      const rows = await listCreditRecords(db, scope, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const names = await unitNames(db);
      const now = clock();
      return {
        items: page.map((x) => creditView(x, names, now)),
        nextCursor: rows.length > limit && last ? encodeCursor(last.r.recordedAt, last.r.id) : null,
      };
    },
  );

  app.get(
    '/api/v1/credit-records/export.xlsx',
    {
      schema: {
        tags: ['告知承诺'],
        summary: `导出信用记录（XLSX，中文表头，北京时间；至多 ${EXPORT_MAX} 条，导出留痕）`,
        security: [{ bearer: [] }],
        produces: [XLSX_TYPE],
        response: {
          200: {
            description: '信用记录工作簿',
            content: { [XLSX_TYPE]: { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) } },
          },
          ...errorResponses(403),
        },
      },
    },
    async (req, reply) => {
      const scope = await scopeOf(req, 'credit_records.export');
      const who = staffOf(req);
      const rows = await listCreditRecords(db, scope, EXPORT_MAX);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'credit_records.export',
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { rows: rows.length, scope: scope.all ? 'all' : scope.unit },
      });
      const names = await unitNames(db);
      const now = clock();
      const body = new PassThrough();
      writeCreditRecordsXlsx(body, rows, {
        generatedAt: now,
        names,
        scopeText: scope.all ? '全部单位' : `${names.get(scope.unit) ?? scope.unit}记录的`,
      }).catch((err: unknown) => {
        req.log.error({ err }, 'credit record export failed');
        body.destroy(err instanceof Error ? err : new Error('export failed'));
      });
      const day = new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
      return reply
        .header('content-type', XLSX_TYPE)
        .header(
          'content-disposition',
          `attachment; filename="credit-records-${day}.xlsx"; filename*=UTF-8''${encodeURIComponent(`信用记录-${day}.xlsx`)}`,
        )
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  );
};
