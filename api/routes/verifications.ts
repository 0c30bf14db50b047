/**
 * Verification cases: start (协查函), list (inbox / outbox / escalated), detail with timeline, search by
 * subject ID. Reads are isolated by unit and audited; starts are idempotent on the client's key.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { allocateDocNumber, type CaseDeadline } from '../../activities/opening.ts';
import type { Db } from '../../db/client.ts';
import { units } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import { isValidCreditCode, isValidResidentId, subjectIdHash } from '../../domain/personal-data.ts';
import {
  type Actor,
  type CaseInput,
  DEFAULT_REMINDER_FRACTIONS,
  TIER_ORDER,
} from '../../workflows/definitions.ts';
import { tierLabel } from '../../workflows/labels.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { CaseDetail, CaseList, CaseSummary, StartBody, Tier } from '../schemas/cases.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { CASE_TIMEOUT, type CaseGateway, caseWorkflowId } from '../services/case-gateway.ts';
import {
  type CaseRow,
  caseAccess,
  caseDetail,
  findCase,
  handlesCase,
  listCases,
  summary,
} from '../services/case-reads.ts';
import { currentCatalogItem, validateAgainst } from '../services/catalog.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';

export interface CaseRouteDeps {
  db: Db;
  gateway: CaseGateway;
  subjectKey: Buffer;
  contentCipher: ContentCipher;
  /** The new case's first deadline (the calendar's, or DEV_SLA_SECONDS's; api/app.ts). */
  caseDeadline: CaseDeadline;
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

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

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
        throw forbidden('只有需求单位的联络员或代办员可以发起协查（第五条）');
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
      const idOk =
        body.subject.kind === 'person'
          ? isValidResidentId(body.subject.idNumber)
          : isValidCreditCode(body.subject.idNumber);
      if (!idOk) {
        throw unprocessable(
          body.subject.kind === 'person'
            ? '公民身份号码无效（校验位不符）'
            : '统一社会信用代码无效（校验位不符）',
          [
            {
              pointer: '/body/subject/idNumber',
              detail:
                body.subject.kind === 'person' ? '不是有效的公民身份号码' : '不是有效的统一社会信用代码',
            },
          ],
        );
      }
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
            box: Type.Union([Type.Literal('inbox'), Type.Literal('outbox'), Type.Literal('escalated')]),
            status: Type.Optional(Type.String({ maxLength: 200, description: '逗号分隔的状态' })),
            open: Type.Optional(Type.Boolean({ description: '只看未办结' })),
            tier: Type.Optional(Tier),
            overdue: Type.Optional(Type.Boolean()),
            dueBefore: Type.Optional(Type.String({ format: 'date-time' })),
            assignedToMe: Type.Optional(Type.Boolean()),
            unregistered: Type.Optional(Type.Boolean()),
            catalogCode: Type.Optional(Type.String({ maxLength: 64 })),
            createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
            createdTo: Type.Optional(Type.String({ format: 'date-time' })),
            docNumber: Type.Optional(Type.String({ maxLength: 64 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: CaseList, ...errorResponses(403) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const q = req.query;
      if (who.role === 'admin') throw forbidden('管理员不查看协查内容');
      if (q.box === 'escalated' && who.role !== 'supervisor')
        throw forbidden('只有联席会议办公室可以查看督办列表');
      if (q.box !== 'escalated' && who.unitKind === 'office')
        throw forbidden('联席会议办公室请查看督办列表（box=escalated）');
      return listCases(db, who, { ...q, status: q.status?.split(',').filter(Boolean), limit: q.limit ?? 50 });
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
      const hash = subjectIdHash(subjectKey, req.body.idNumber);
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
