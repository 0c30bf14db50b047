/**
 * List adjustment (清单动态调整, Zibo attachment 3, Art. 6–10): a unit records the cause (调整事由) and files its
 * written request within 7 working days of it; the joint-meeting office decides; an approval publishes the
 * change to the catalog. The workflow (workflows/catalog-change.ts) keeps the deadlines; these routes check who
 * may act, validate the proposal against the admin catalog's rules, and read the `catalog_changes` read model.
 * A unit sees its own; the office sees all; every refusal is audited. Also the current list as XLSX.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import { catalogChanges, catalogItems, units } from '../../db/schema.ts';
import { shanghaiDateOf } from '../../domain/working-time/index.ts';
import {
  CAUSE_KINDS,
  CAUSE_LABELS,
  type CatalogChangeSnapshot,
  type CauseKind,
  CHANGE_TYPE_LABELS,
  CHANGE_TYPES,
  type ChangeType,
  DEFAULT_DECISION_DAYS,
  FILING_DAYS,
  type ItemProposal,
} from '../../workflows/catalog-change.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { conflict, forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { Tier } from '../schemas/cases.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { currentCatalogItem } from '../services/catalog.ts';
import {
  catalogExportDisposition,
  newCatalogChangeId,
  writeCatalogXlsx,
} from '../services/catalog-changes.ts';
import { auditedWrite } from '../services/reference-data.ts';
import { XLSX_TYPE } from '../services/stats-export.ts';
import { checkItem } from './admin-catalog.ts';
import { actorOf, type CaseRouteDeps } from './verifications.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Person = Type.Object({ id: Type.String(), name: Type.String() });

const CauseKindSchema = Type.Union(
  CAUSE_KINDS.map((k) => Type.Literal(k)),
  { description: `调整事由：${CAUSE_KINDS.map((k) => `${k} ${CAUSE_LABELS[k]}`).join('，')}` },
);
const ChangeTypeSchema = Type.Union(
  CHANGE_TYPES.map((k) => Type.Literal(k)),
  { description: '调整类型：add 新增，change 变更，remove 取消' },
);
const ItemCode = Type.String({ pattern: '^[A-Z0-9][A-Z0-9-]{1,31}$', description: '事项代码，如 HJ-001' });

const ItemSchema = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 100 }),
    serviceItemName: Type.String({ minLength: 2, maxLength: 200 }),
    serviceItemCode: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    legalBasis: Type.String({ minLength: 2, maxLength: 500 }),
    issuingUnitCodes: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 20 }),
    defaultTier: Tier,
    exemptionMethod: Type.String({
      minLength: 2,
      maxLength: 100,
      description: '免提交方式（共享、告知承诺、核验等）',
    }),
    requestSchema: Type.Record(Type.String(), Type.Unknown()),
    responseSchema: Type.Record(Type.String(), Type.Unknown()),
    subjectKinds: Type.Optional(
      Type.Array(Type.Union([Type.Literal('person'), Type.Literal('company')]), {
        minItems: 1,
        maxItems: 2,
        uniqueItems: true,
      }),
    ),
  },
  { additionalProperties: false, description: '拟调整后的证明事项内容（新增、变更时必填）' },
);

const CauseBody = Type.Object(
  {
    causeKind: CauseKindSchema,
    causeDate: Type.String({ format: 'date', description: '调整事由发生之日（北京时间 YYYY-MM-DD）' }),
    description: Type.String({ minLength: 2, maxLength: 1000, description: '事由说明（如 某法规修订）' }),
    itemCode: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  },
  { additionalProperties: false },
);
const FileBody = Type.Object(
  {
    changeType: ChangeTypeSchema,
    itemCode: ItemCode,
    item: Type.Optional(ItemSchema),
    basis: Type.String({ minLength: 2, maxLength: 1000, description: '调整依据' }),
  },
  { additionalProperties: false },
);
const DecideBody = Type.Object(
  {
    approve: Type.Boolean({ description: 'true 审核通过（发布新版本清单），false 不予通过' }),
    reason: Type.Optional(Type.String({ maxLength: 1000, description: '审核意见；不予通过时必填' })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const ChangeView = Type.Object({
  id: Type.String(),
  unitCode: Type.String(),
  unitName: Type.String(),
  causeKind: Type.String(),
  causeKindLabel: Type.String(),
  causeDate: Type.String({ format: 'date' }),
  causeDescription: Type.String(),
  itemCode: Nullable(Type.String()),
  recordedBy: Person,
  recordedAt: DateTime,
  status: Type.String({
    description: 'awaiting_filing 待申报，filed 待审核，approved 已通过，rejected 未通过',
  }),
  statusLabel: Type.String(),
  filingDueAt: DateTime,
  filingRemindAt: DateTime,
  reminderSentAt: Nullable(DateTime),
  filingOverdueAt: Nullable(DateTime),
  filedLate: Type.Boolean({ description: '逾期申报' }),
  changeType: Nullable(Type.String()),
  changeTypeLabel: Nullable(Type.String()),
  request: Nullable(Type.Record(Type.String(), Type.Unknown())),
  filedBy: Nullable(Person),
  filedAt: Nullable(DateTime),
  decisionDueAt: Nullable(DateTime),
  decisionOverdueAt: Nullable(DateTime),
  decidedBy: Nullable(Person),
  decidedAt: Nullable(DateTime),
  decisionReason: Nullable(Type.String()),
  publishedVersion: Nullable(Type.Integer()),
  publishedAt: Nullable(DateTime),
});
type ChangeViewT = Static<typeof ChangeView>;

export const STATUS_LABELS: Record<string, string> = {
  awaiting_filing: '待申报',
  filed: '待审核',
  approved: '已通过',
  rejected: '未通过',
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const person = (a: { staffId: string; name: string } | null | undefined) =>
  a ? { id: a.staffId, name: a.name } : null;

function viewOf(r: typeof catalogChanges.$inferSelect, unitName: string): ChangeViewT {
  const s = r.snapshot as unknown as CatalogChangeSnapshot;
  return {
    id: r.id,
    unitCode: r.unitCode,
    unitName,
    causeKind: r.causeKind,
    causeKindLabel: CAUSE_LABELS[r.causeKind as CauseKind] ?? r.causeKind,
    causeDate: r.causeDate,
    causeDescription: r.causeDescription,
    itemCode: r.itemCode,
    recordedBy: person(s.recordedBy) ?? { id: r.recordedBy, name: r.recordedBy },
    recordedAt: r.recordedAt.toISOString(),
    status: r.status,
    statusLabel: STATUS_LABELS[r.status] ?? r.status,
    filingDueAt: r.filingDueAt.toISOString(),
    filingRemindAt: r.filingRemindAt.toISOString(),
    reminderSentAt: iso(r.reminderSentAt),
    filingOverdueAt: iso(r.filingOverdueAt),
    filedLate: r.filedLate,
    changeType: r.changeType,
    changeTypeLabel: r.changeType ? (CHANGE_TYPE_LABELS[r.changeType as ChangeType] ?? r.changeType) : null,
    request: r.request ?? null,
    filedBy: person(s.filedBy),
    filedAt: iso(r.filedAt),
    decisionDueAt: iso(r.decisionDueAt),
    decisionOverdueAt: iso(r.decisionOverdueAt),
    decidedBy: person(s.decidedBy),
    decidedAt: iso(r.decidedAt),
    decisionReason: r.decisionReason,
    publishedVersion: r.publishedVersion,
    publishedAt: iso(r.publishedAt),
  };
}

const isOffice = (who: StaffContext) => who.unitKind === 'office';

export interface CatalogChangeRouteDeps extends CaseRouteDeps {
  /** Working days the office has to decide (CATALOG_DECISION_DAYS); DEFAULT_DECISION_DAYS if absent. */
  decisionDays?: number;
}

export const catalogChangeRoutes: FastifyPluginAsyncTypebox<CatalogChangeRouteDeps> = async (
  app,
  { db, gateway, decisionDays = DEFAULT_DECISION_DAYS },
) => {
  const unitName = async (code: string) =>
    (await db.select({ name: units.name }).from(units).where(eq(units.code, code)))[0]?.name ?? code;

  async function loadRow(id: string) {
    const [row] = await db.select().from(catalogChanges).where(eq(catalogChanges.id, id));
    if (!row) throw notFound('未找到该清单调整记录');
    return row;
  }
  /** The change if the caller may see it: its own unit's, or any for the office. */
  async function visible(who: StaffContext, id: string) {
    const row = await loadRow(id);
    if (!isOffice(who) && row.unitCode !== who.unitCode) throw forbidden('只能查看本单位的清单调整记录');
    return row;
  }
  const view = async (id: string) => {
    const row = await loadRow(id);
    return viewOf(row, await unitName(row.unitCode));
  };

  app.post(
    '/api/v1/catalog-changes',
    {
      schema: {
        tags: ['清单调整'],
        summary: `登记清单调整事由（单位联络员；须在事由发生之日起 ${FILING_DAYS} 个工作日内提交书面申请）`,
        security: [{ bearer: [] }],
        body: CauseBody,
        response: { 201: ChangeView, ...errorResponses(403, 415, 422, 504) },
      },
    },
    async (req, reply) =>
      auditedWrite(db, req, 'catalog_change.cause', { causeKind: req.body.causeKind }, async (who) => {
        if (who.role !== 'liaison' || isOffice(who)) throw forbidden('只有单位的联络员可以登记清单调整事由');
        const b = req.body;
        const now = new Date();
        if (b.causeDate > shanghaiDateOf(now))
          throw unprocessable('调整事由发生之日不能晚于今天', [
            { pointer: '/body/causeDate', detail: '调整事由发生之日不能晚于今天' },
          ]);
        if (b.itemCode) {
          const [exists] = await db
            .select({ code: catalogItems.code })
            .from(catalogItems)
            .where(eq(catalogItems.code, b.itemCode))
            .limit(1);
          if (!exists)
            throw unprocessable(`证明事项 ${b.itemCode} 不存在`, [
              { pointer: '/body/itemCode', detail: '证明事项不存在' },
            ]);
        }
        const changeId = newCatalogChangeId();
        await gateway.recordCause({
          changeId,
          unitCode: who.unitCode,
          cause: {
            kind: b.causeKind,
            date: b.causeDate,
            description: b.description.trim(),
            itemCode: b.itemCode ?? null,
          },
          recordedBy: actorOf(who),
          recordedAt: now.toISOString(),
          filingDays: FILING_DAYS,
          decisionDays,
        });
        return reply.code(201).send(await view(changeId));
      }),
  );

  app.post(
    '/api/v1/catalog-changes/:id/file',
    {
      schema: {
        tags: ['清单调整'],
        summary: '提交书面申请（新增、变更或取消证明事项；本单位联络员或代办员；逾期提交记为逾期申报）',
        security: [{ bearer: [] }],
        params: IdParams,
        body: FileBody,
        response: { 200: ChangeView, ...errorResponses(403, 404, 409, 415, 422, 504) },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'catalog_change.file', { id: req.params.id }, async (who) => {
        const row = await visible(who, req.params.id);
        if (row.unitCode !== who.unitCode) throw forbidden('只有提出调整事由的单位可以提交申请');
        if (row.status !== 'awaiting_filing') throw conflict('该调整事由已提交申请', 'invalid_state');
        const b = req.body;
        const current = await currentCatalogItem(db, b.itemCode);
        if (b.changeType === 'add') {
          if (current)
            throw unprocessable(`事项代码 ${b.itemCode} 已在清单中，请选择“变更”`, [
              { pointer: '/body/itemCode', detail: '事项代码已在清单中' },
            ]);
        } else if (!current) {
          throw unprocessable(`清单中没有在用的证明事项 ${b.itemCode}`, [
            { pointer: '/body/itemCode', detail: '清单中没有该证明事项' },
          ]);
        }
        if (b.changeType !== 'remove') {
          if (!b.item)
            throw unprocessable('新增或变更须填写拟调整的事项内容', [
              { pointer: '/body/item', detail: '请填写拟调整的事项内容' },
            ]);
          await checkItem(db, b.item);
        }
        await gateway.fileRequest(row.id, {
          actor: actorOf(who),
          request: {
            changeType: b.changeType,
            itemCode: b.itemCode,
            item: b.changeType === 'remove' ? null : ((b.item ?? null) as ItemProposal | null),
            basis: b.basis.trim(),
          },
        });
        return view(row.id);
      }),
  );

  app.post(
    '/api/v1/catalog-changes/:id/decide',
    {
      schema: {
        tags: ['清单调整'],
        summary:
          '审核清单调整申请（联席会议办公室督办人员或管理员；通过即发布新版本清单，不予通过须说明理由）',
        security: [{ bearer: [] }],
        params: IdParams,
        body: DecideBody,
        response: { 200: ChangeView, ...errorResponses(403, 404, 409, 415, 422, 504) },
      },
    },
    async (req) =>
      auditedWrite(
        db,
        req,
        'catalog_change.decide',
        { id: req.params.id, approve: req.body.approve },
        async (who) => {
          if (!isOffice(who) || (who.role !== 'supervisor' && who.role !== 'admin'))
            throw forbidden('只有联席会议办公室的督办人员或管理员可以审核清单调整申请');
          const row = await loadRow(req.params.id);
          // A decided request's workflow has ended: the read model answers.
          if (row.status === 'approved' || row.status === 'rejected')
            throw conflict('该申请已审核', 'invalid_state');
          if (row.status === 'awaiting_filing') throw conflict('该调整事由尚未提交申请', 'invalid_state');
          const reason = req.body.reason?.trim();
          if (!req.body.approve && (!reason || reason.length < 2))
            throw unprocessable('不予通过须说明理由', [
              { pointer: '/body/reason', detail: '请填写不予通过的理由' },
            ]);
          await gateway.decide(row.id, {
            actor: actorOf(who),
            approve: req.body.approve,
            ...(reason ? { reason } : {}),
          });
          return view(row.id);
        },
      ),
  );

  app.get(
    '/api/v1/catalog-changes',
    {
      schema: {
        tags: ['清单调整'],
        summary: '清单调整记录（本单位的；联席会议办公室看全部）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([
                Type.Literal('awaiting_filing'),
                Type.Literal('filed'),
                Type.Literal('approved'),
                Type.Literal('rejected'),
              ]),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(ChangeView) }), ...errorResponses(403) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const where: SQL[] = [];
      if (!isOffice(who)) where.push(eq(catalogChanges.unitCode, who.unitCode));
      if (req.query.status) where.push(eq(catalogChanges.status, req.query.status));
      const rows = await db
        .select()
        .from(catalogChanges)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(catalogChanges.recordedAt))
        .limit(req.query.limit ?? 100);
      const names = new Map((await db.select().from(units)).map((u) => [u.code, u.name] as const));
      return { items: rows.map((r) => viewOf(r, names.get(r.unitCode) ?? r.unitCode)) };
    },
  );

  app.get(
    '/api/v1/catalog-changes/:id',
    {
      schema: {
        tags: ['清单调整'],
        summary: '一条清单调整记录（本单位的；联席会议办公室看全部）',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: ChangeView, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      try {
        const row = await visible(who, req.params.id);
        return viewOf(row, await unitName(row.unitCode));
      } catch (err) {
        if (err instanceof Problem && err.status === 403)
          await recordAudit(db, {
            actorId: who.id,
            actorUnit: who.unitCode,
            action: 'catalog_change.read',
            outcome: 'denied',
            sourceIp: req.ip,
            detail: { id: req.params.id },
          });
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/catalog/export.xlsx',
    {
      schema: {
        tags: ['证明事项'],
        summary: '导出当前证明事项清单（XLSX，在用事项的最新版本；导出留痕）',
        security: [{ bearer: [] }],
        produces: [XLSX_TYPE],
        response: {
          200: {
            description: '证明事项清单工作簿',
            content: { [XLSX_TYPE]: { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) } },
          },
          ...errorResponses(403),
        },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'catalog.export',
        outcome: 'allowed',
        sourceIp: req.ip,
        detail: {},
      });
      const now = new Date();
      const body = new PassThrough();
      writeCatalogXlsx(db, body, now).catch((err: unknown) => {
        req.log.error({ err }, 'catalog export failed');
        body.destroy(err instanceof Error ? err : new Problem(500, '导出失败', '导出失败'));
      });
      return reply
        .header('content-type', XLSX_TYPE)
        .header('content-disposition', catalogExportDisposition(now))
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  );
};
