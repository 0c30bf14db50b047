/**
 * Verification cases: start (协查函), list (inbox / outbox / escalated), detail with timeline, search by
 * subject ID. Reads are isolated by unit and audited; starts are idempotent on the client's key.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Notifier } from '../../activities/case-activities.ts';
import { allocateDocNumber, type CaseDeadline } from '../../activities/opening.ts';
import type { Db } from '../../db/client.ts';
import { units } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import { subjectIdError } from '../../domain/identifiers.ts';
import { subjectIdHashes } from '../../domain/personal-data.ts';
import {
  type Actor,
  type CaseInput,
  DEFAULT_REMINDER_FRACTIONS,
  TIER_ORDER,
} from '../../workflows/definitions.ts';
import { beijingTime, statusLabel, tierLabel } from '../../workflows/labels.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { badRequest, forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { CaseDetail, CaseList, CaseSummary, StartBody, Tier } from '../schemas/cases.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { caseExportDisposition, writeCaseListXlsx } from '../services/case-export.ts';
import { CASE_TIMEOUT, type CaseGateway, caseWorkflowId } from '../services/case-gateway.ts';
import {
  CASE_STATUSES,
  type CaseRow,
  caseAccess,
  caseDetail,
  countCases,
  findCase,
  handlesCase,
  type ListFilters,
  listAllCases,
  listCases,
  listConditions,
  summary,
} from '../services/case-reads.ts';
import { currentCatalogItem, validateAgainst } from '../services/catalog.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';
import { XLSX_TYPE } from '../services/stats-export.ts';

export interface CaseRouteDeps {
  db: Db;
  gateway: CaseGateway;
  subjectKey: Buffer;
  contentCipher: ContentCipher;
  /** The new case's first deadline (the calendar's, or DEV_SLA_SECONDS's; api/app.ts). */
  caseDeadline: CaseDeadline;
  /**
   * Delivery of notices the API itself writes (the office's level-2 judgement): the live stream, then the
   * configured channel, as the worker delivers a case's notices. Absent: the in-app records only.
   */
  notices?: Notifier;
  /** The configured connectors' names (automatic answers); none by default. */
  connectors?: ReadonlySet<string>;
}

/**
 * The role a person acts on a case in. The city government's reviewer never acts (the auth hook stops them
 * before any case route, REVIEWER_ROUTES); this is the type's guarantee of it.
 */
export function caseRole(s: StaffContext): Actor['role'] {
  if (s.role === 'reviewer') throw forbidden('市政府督查人员只能查阅督办事项及其记录');
  return s.role;
}

export const actorOf = (s: StaffContext): Actor => ({
  staffId: s.id,
  name: s.name,
  unitCode: s.unitCode,
  role: caseRole(s),
});

/** Loads a case the caller may see, or answers 404 (and audits the attempt) — never 403, no existence leak. */
export async function visibleCase(
  db: Db,
  req: FastifyRequest,
  id: string,
  action: string,
): Promise<{ row: CaseRow; who: StaffContext; access: 'full' | 'returned_part' }> {
  return visibleCaseAs(db, staffOf(req), req.ip, id, action);
}

/** visibleCase for a person acting outside an HTTP request (a bulk action's workflow). */
export async function visibleCaseAs(
  db: Db,
  who: StaffContext,
  sourceIp: string,
  id: string,
  action: string,
): Promise<{ row: CaseRow; who: StaffContext; access: 'full' | 'returned_part' }> {
  const row = await findCase(db, id);
  const access = row ? await caseAccess(db, who, row) : 'none';
  if (!row || access === 'none') {
    await recordAudit(db, {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      caseId: id,
      sourceIp,
      outcome: 'denied',
      detail: { reason: row ? 'not_your_case' : 'no_such_case' },
    });
    throw notFound('未找到该协查，或您无权查看');
  }
  return { row, who, access };
}

const subjectKindLabel = (k: string) => (k === 'company' ? '企业' : '个人');

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

/** At most this many rows in one export (more is a 422 asking to narrow the filters). */
export const EXPORT_MAX_ROWS = 50_000;

/** The filters of a case list, shared by the list, its tab counts and its export. */
const ListQueryFields = {
  box: Type.Union([Type.Literal('inbox'), Type.Literal('outbox'), Type.Literal('escalated')]),
  status: Type.Optional(
    Type.String({ maxLength: 200, description: `逗号分隔的状态：${CASE_STATUSES.join('、')}` }),
  ),
  open: Type.Optional(Type.Boolean({ description: '只看待办（出具单位的待办不含已退回）' })),
  done: Type.Optional(Type.Boolean({ description: '只看已办（不再待办的）' })),
  tier: Type.Optional(Tier),
  overdue: Type.Optional(Type.Boolean()),
  dueBefore: Type.Optional(Type.String({ format: 'date-time' })),
  assignedToMe: Type.Optional(Type.Boolean()),
  unregistered: Type.Optional(Type.Boolean()),
  catalogCode: Type.Optional(Type.String({ maxLength: 64, description: '事项编码' })),
  createdFrom: Type.Optional(Type.String({ format: 'date-time', description: '发起时间起（含）' })),
  createdTo: Type.Optional(Type.String({ format: 'date-time', description: '发起时间止（不含）' })),
  docNumber: Type.Optional(Type.String({ maxLength: 64, description: '文号（部分即可）' })),
  subject: Type.Optional(
    Type.String({
      maxLength: 64,
      description:
        '核验对象：脱敏后显示的部分，如姓氏「张」或证件号末四位（完整证件号请用 search-by-subject）',
    }),
  ),
};

type ListQuery = {
  box: 'inbox' | 'outbox' | 'escalated';
  status?: string;
  open?: boolean;
  done?: boolean;
  tier?: ListFilters['tier'];
  overdue?: boolean;
  dueBefore?: string;
  assignedToMe?: boolean;
  unregistered?: boolean;
  catalogCode?: string;
  createdFrom?: string;
  createdTo?: string;
  docNumber?: string;
  subject?: string;
};

/** Who may list which box, and the query as filters; an unknown status is a 400 naming the field. */
function listFilters(who: StaffContext, q: ListQuery): Omit<ListFilters, 'limit' | 'cursor'> {
  if (who.role === 'admin') throw forbidden('管理员不查看协查内容');
  if (q.box === 'escalated' && who.role !== 'supervisor')
    throw forbidden('只有联席会议办公室可以查看督办列表');
  if (q.box !== 'escalated' && who.unitKind === 'office')
    throw forbidden('联席会议办公室请查看督办列表（box=escalated）');
  const status = q.status
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const unknown = status?.filter((x) => !(CASE_STATUSES as readonly string[]).includes(x)) ?? [];
  if (unknown.length)
    throw badRequest(`未知的状态：${unknown.join('、')}`, [
      { pointer: '/querystring/status', detail: `可选：${CASE_STATUSES.join('、')}` },
    ]);
  if (q.createdFrom && q.createdTo && Date.parse(q.createdFrom) > Date.parse(q.createdTo))
    throw badRequest('发起时间的起点晚于终点', [
      { pointer: '/querystring/createdTo', detail: '终点须不早于起点' },
    ]);
  const { status: _s, ...rest } = q;
  return { ...rest, ...(status?.length ? { status } : {}) };
}

/** The filters as a sentence for the export's 说明 sheet. */
function filterText(q: ListQuery): string {
  const parts: string[] = [];
  if (q.docNumber) parts.push(`文号含「${q.docNumber}」`);
  if (q.subject) parts.push(`核验对象含「${q.subject}」`);
  if (q.catalogCode) parts.push(`事项：${q.catalogCode}`);
  if (q.status) parts.push(`状态：${q.status.split(',').map(statusLabel).join('、')}`);
  if (q.open) parts.push('待办');
  if (q.done) parts.push('已办');
  if (q.unregistered) parts.push('待认领');
  if (q.assignedToMe) parts.push('我承办的');
  if (q.tier) parts.push(`时限：${tierLabel(q.tier)}`);
  if (q.overdue) parts.push('已超时');
  if (q.createdFrom) parts.push(`发起不早于 ${beijingTime(q.createdFrom)}`);
  if (q.createdTo) parts.push(`发起早于 ${beijingTime(q.createdTo)}`);
  return parts.join('；');
}

export const verificationRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (
  app,
  { db, gateway, subjectKey, contentCipher, caseDeadline, connectors },
) => {
  app.post(
    '/api/v1/verifications',
    {
      schema: {
        tags: ['协查'],
        summary: '发起协查（协查函）',
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: StartBody,
        response: { 201: CaseSummary, 200: CaseSummary, ...errorResponses(403, 409, 413, 415, 422, 504) },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      if (who.role !== 'agent' && who.role !== 'liaison')
        throw forbidden('只有需求单位的联络员或经办人可以发起协查（第五条）');
      const [unit] = await db.select().from(units).where(eq(units.code, who.unitCode));
      if (!unit?.canRequest) throw forbidden('本单位不是协查需求单位');
      const body = req.body;
      const item = await currentCatalogItem(db, body.catalogCode);
      if (!item)
        throw unprocessable('未知的证明事项', [
          { pointer: '/body/catalogCode', detail: '证明事项不存在或已停用' },
        ]);
      const issuingUnit = body.issuingUnit ?? item.issuingUnitCodes[0];
      if (!issuingUnit || !item.issuingUnitCodes.includes(issuingUnit)) {
        throw unprocessable('该事项不能向此单位发起协查', [
          { pointer: '/body/issuingUnit', detail: `可选出具单位：${item.issuingUnitCodes.join('、')}` },
        ]);
      }
      if (issuingUnit === who.unitCode)
        throw unprocessable('不能向本单位发起协查', [
          { pointer: '/body/issuingUnit', detail: '不能是本单位' },
        ]);
      const idError = subjectIdError(body.subject.kind, body.subject.idNumber);
      if (idError) {
        throw unprocessable(
          body.subject.kind === 'person'
            ? '公民身份号码无效（校验位不符）'
            : '统一社会信用代码无效（校验位不符）',
          [{ pointer: '/body/subject/idNumber', detail: idError }],
        );
      }
      // A person-only item (户籍, 无犯罪记录 …) does not take a company as its subject, and the reverse.
      const kinds = item.subjectKinds ?? ['person', 'company'];
      if (!kinds.includes(body.subject.kind))
        throw unprocessable(`「${item.name}」的核验对象只能是${kinds.map(subjectKindLabel).join('或')}`, [
          { pointer: '/body/subject/kind', detail: `可选：${kinds.map(subjectKindLabel).join('、')}` },
        ]);
      const fieldErrors = validateAgainst(item.requestSchema, body.fields, '/body/fields');
      if (fieldErrors.length)
        throw unprocessable(
          `协查函内容不符合「${item.name}」的模板：${fieldErrors.map((e) => e.detail).join('；')}`,
          fieldErrors,
        );

      // Art. 4: the item's tier or a faster one; a slower one only with a reason, which the issuer sees.
      const tier = body.tier ?? item.defaultTier;
      if (TIER_ORDER.indexOf(tier) > TIER_ORDER.indexOf(item.defaultTier) && !body.tierReason?.trim())
        throw unprocessable(
          `「${item.name}」的时限为${tierLabel(item.defaultTier)}；要求更长的时限（${tierLabel(tier)}）须说明理由`,
          [
            {
              pointer: '/body/tier',
              detail: `比事项默认时限（${tierLabel(item.defaultTier)}）更长，须填写理由`,
            },
          ],
        );
      const { key, retry } = await claimIdempotencyKey(db, req, who);
      const input: CaseInput = {
        caseId: caseWorkflowId(who.unitCode, key),
        requestingUnit: who.unitCode,
        issuingUnit,
        catalog: { code: item.code, version: item.version, name: item.name },
        subject: { ...body.subject, idNumber: body.subject.idNumber.toUpperCase() },
        fields: body.fields,
        purpose: body.purpose,
        tier,
        ...(body.applicationNumber ? { applicationNumber: body.applicationNumber } : {}),
        ...(body.tierReason?.trim() && tier !== item.defaultTier
          ? { tierReason: body.tierReason.trim() }
          : {}),
        createdBy: actorOf(who),
        requestedAt: new Date().toISOString(),
        // Data first (Art. 3): the item's data source answers if it can, only when it is configured here.
        ...(item.connector && connectors?.has(item.connector) ? { connector: item.connector } : {}),
      };
      // Worked out here, not by the workflow's activities one after the other: the case opens in one
      // workflow task (a retry with the same key gets the same number; the deadline of a retry is unused).
      input.opening = {
        docNumber: await allocateDocNumber(db, {
          caseId: input.caseId,
          unitCode: input.requestingUnit,
          at: input.requestedAt,
        }),
        deadline: await caseDeadline({
          receivedAt: input.requestedAt,
          tier,
          reminderFractions: [...DEFAULT_REMINDER_FRACTIONS],
        }),
      };
      // `attempted` before the workflow starts, the outcome after (see case-actions.ts `audited`): a
      // crash in between still leaves who started which case.
      const base = {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'case.start',
        caseId: input.caseId,
        purpose: body.purpose,
        sourceIp: req.ip,
      };
      const attemptId = await recordAudit(db, { ...base, outcome: 'attempted', detail: { retry } });
      let snapshot: Awaited<ReturnType<CaseGateway['start']>>;
      try {
        snapshot = await gateway.start(input, key);
      } catch (err) {
        // A timeout is no refusal: the case may still open (a retry with the same key finds it).
        const outcome = err instanceof Problem && err.code !== CASE_TIMEOUT ? 'denied' : 'error';
        await recordAudit(db, {
          ...base,
          outcome,
          detail: { attemptId, error: err instanceof Problem ? err.code : ((err as Error)?.name ?? 'Error') },
        }).catch(() => {});
        throw err;
      }
      await recordAudit(db, {
        ...base,
        caseId: snapshot.caseId,
        outcome: 'allowed',
        detail: { retry, attemptId },
      });
      const row = await findCase(db, snapshot.caseId);
      if (!row) throw new Error(`case ${snapshot.caseId} missing from the read model after start`);
      return reply.code(retry ? 200 : 201).send(summary({ ...row, catalogName: item.name }));
    },
  );

  app.get(
    '/api/v1/verifications',
    {
      schema: {
        tags: ['协查'],
        summary: '协查列表：inbox（本单位待办）、outbox（本单位发起）、escalated（督办，仅联席办）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            ...ListQueryFields,
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: CaseList, ...errorResponses(403) },
      },
    },
    async (req) => {
      const { cursor, limit, ...q } = req.query;
      const f = listFilters(staffOf(req), q);
      return listCases(db, staffOf(req), {
        ...f,
        ...(cursor !== undefined ? { cursor } : {}),
        limit: limit ?? 50,
      });
    },
  );

  app.get(
    '/api/v1/verifications/counts',
    {
      schema: {
        tags: ['协查'],
        summary: '列表各页签的条数（待办、待认领、我承办的、已办、全部），按同样的筛选条件',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { ...ListQueryFields, box: Type.Union([Type.Literal('inbox'), Type.Literal('outbox')]) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            open: Type.Integer({ description: '待办（出具单位：待登记和办理中；需求单位：含被退回）' }),
            unclaimed: Type.Integer({ description: '待认领（待登记）' }),
            mine: Type.Integer({ description: '我承办的（未办结）' }),
            done: Type.Integer({ description: '已办' }),
            all: Type.Integer({ description: '全部' }),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      // The tabs set these themselves; the search filters apply to every tab.
      const { open: _o, done: _d, unregistered: _u, assignedToMe: _m, ...q } = req.query;
      const f = listFilters(who, q);
      const n = (extra: Partial<ListFilters>) => countCases(db, listConditions(who, { ...f, ...extra }));
      const [open, unclaimed, mine, done, all] = await Promise.all([
        n({ open: true }),
        n({ unregistered: true }),
        n({ open: true, assignedToMe: true }),
        n({ done: true }),
        n({}),
      ]);
      return { open, unclaimed, mine, done, all };
    },
  );

  app.get(
    '/api/v1/verifications/export.xlsx',
    {
      schema: {
        tags: ['协查'],
        summary: `导出当前列表（XLSX，按同样的筛选条件和排序；至多 ${EXPORT_MAX_ROWS} 条，导出留痕）`,
        security: [{ bearer: [] }],
        produces: [XLSX_TYPE],
        querystring: Type.Object(ListQueryFields, { additionalProperties: false }),
        response: {
          200: {
            description: '协查列表工作簿',
            content: {
              [XLSX_TYPE]: { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) },
            },
          },
          ...errorResponses(403, 422),
        },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      const base = {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'cases.export',
        sourceIp: req.ip,
      };
      let f: ReturnType<typeof listFilters>;
      try {
        f = listFilters(who, req.query);
      } catch (err) {
        await recordAudit(db, { ...base, outcome: 'denied', detail: { box: req.query.box } });
        throw err;
      }
      const total = await countCases(db, listConditions(who, f));
      if (total > EXPORT_MAX_ROWS) {
        await recordAudit(db, { ...base, outcome: 'denied', detail: { ...req.query, rows: total } });
        throw unprocessable(
          `符合条件的协查有 ${total} 条，一次至多导出 ${EXPORT_MAX_ROWS} 条：请缩小筛选范围`,
        );
      }
      await recordAudit(db, { ...base, outcome: 'allowed', detail: { ...req.query, rows: total } });
      const names = new Map(
        (await db.select({ code: units.code, name: units.name }).from(units)).map((u) => [u.code, u.name]),
      );
      const now = new Date();
      const body = new PassThrough();
      // Rows go out as they are read; a failure half-way cuts the download (the status is sent).
      writeCaseListXlsx(body, listAllCases(db, who, f, EXPORT_MAX_ROWS), {
        box: f.box,
        filters: filterText(req.query),
        generatedAt: now,
        unitName: (c) => names.get(c) ?? c,
      }).catch((err: unknown) => {
        req.log.error({ err }, 'case list export failed');
        body.destroy(err instanceof Error ? err : new Problem(500, '导出失败', '导出失败'));
      });
      return reply
        .header('content-type', XLSX_TYPE)
        .header('content-disposition', caseExportDisposition(f.box, now))
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  );

  app.post(
    '/api/v1/verifications/search-by-subject',
    {
      schema: {
        tags: ['协查'],
        summary: '按证件号码精确查找本单位的协查（不回显号码）',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            idNumber: Type.String({ minLength: 18, maxLength: 18 }),
            purpose: Type.String({ minLength: 2, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: CaseList, ...errorResponses(403, 415) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      if (who.unitKind === 'office' || who.role === 'admin')
        throw forbidden('只有需求单位或出具单位可以按证件号码查找');
      const hash = subjectIdHashes(subjectKey, req.body.idNumber);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'case.search_subject',
        purpose: req.body.purpose,
        sourceIp: req.ip,
        outcome: 'allowed',
      });
      const [outbox, inbox] = await Promise.all([
        listCases(db, who, { box: 'outbox', subjectIdHash: hash, limit: 100 }),
        listCases(db, who, { box: 'inbox', subjectIdHash: hash, limit: 100 }),
      ]);
      const items = [...outbox.items, ...inbox.items.filter((i) => !outbox.items.some((o) => o.id === i.id))];
      return { items, nextCursor: null };
    },
  );

  app.get(
    '/api/v1/verifications/:id',
    {
      schema: {
        tags: ['协查'],
        summary: '协查详情与时间线（查阅留痕）',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object(
          {
            purpose: Type.Optional(
              Type.String({ minLength: 2, maxLength: 200, description: '查阅目的（联席办查阅时必填）' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: CaseDetail, ...errorResponses(404, 422) },
      },
    },
    async (req) => {
      const { row, who, access } = await visibleCase(db, req, req.params.id, 'case.read');
      const ownUnit = who.unitCode === row.requestingUnit || who.unitCode === row.issuingUnit;
      if (!ownUnit && who.role === 'supervisor' && !req.query.purpose) {
        throw unprocessable('联席会议办公室查阅协查须说明目的', [
          { pointer: '/querystring/purpose', detail: '请填写查阅目的' },
        ]);
      }
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'case.read',
        caseId: row.id,
        purpose: ownUnit ? row.purpose : (req.query.purpose ?? null),
        sourceIp: req.ip,
        outcome: 'allowed',
        // Whether this read showed the full ID number (only to the person handling the case).
        detail: { access, idNumber: access === 'full' && handlesCase(who, row) ? 'full' : 'masked' },
      });
      return caseDetail(db, row, access, who, contentCipher);
    },
  );
};
