/**
 * The joint-meeting office's escalation ladder (Art. 11): overdue cases, how late, and what the office does
 * about them — order the issuing unit to finish by a set time (责成限时办结), investigate (组织调查), judge the
 * level (raise to level 2 because the delay caused harm, or hold it at level 1), ask the city government to
 * interview (约谈) the responsible leaders and follow that request up, and close the ladder with one outcome.
 *
 * The workflow owns the mechanical ladder (level 1 at the deadline, level 2 when an ordered deadline is
 * missed, orders and closing). The office's records and judgements live in the read model
 * (`escalation_records`, `escalations.judged_*`) and the audit log: they decide nothing a case's timers
 * depend on. The city government's reviewer (`reviewer`) reads the list and the records, nothing else.
 */

import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, desc, eq, gte, inArray, isNull, lt, ne, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { NotificationRow } from '../../activities/case-activities.ts';
import { level2LeaderMessage, unitLeaders } from '../../activities/case-activities.ts';
import type { Db } from '../../db/client.ts';
import { attachments, cases, escalationRecords, escalations, notifications } from '../../db/schema.ts';
import { closeEscalationUpdate, orderDeadlineUpdate } from '../../workflows/definitions.ts';
import { requireRole, type StaffContext, type StaffRole, staffOf } from '../plugins/auth.ts';
import { conflict, notFound, Problem, unprocessable } from '../problem.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { decodeCursor, encodeCursor } from '../services/cursor.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';
import { actorOf, type CaseRouteDeps } from './verifications.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const CalendarDate = Type.String({ format: 'date', description: '北京时间日期 YYYY-MM-DD' });
const Text = (min: number, max: number, description?: string) =>
  Type.String({ minLength: min, maxLength: max, ...(description ? { description } : {}) });

const Person = Type.Object({ id: Type.String(), name: Type.String() });
const Responsible = Type.Object(
  {
    at: DateTime,
    assignee: Nullable(Person),
    liaisons: Type.Array(Person),
    backupActing: Type.Boolean(),
  },
  { description: '错过时限时的责任人：承办人与出具单位当时在岗的联络员（联络员均缺岗时为联络员B角）' },
);
const MissedOrder = Type.Object({ dueAt: DateTime, orderedAt: DateTime, note: Nullable(Type.String()) });

const EscalationView = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  docNumber: Type.String(),
  level: Type.Integer({ description: '流程的级别：1 = 逾期督办，2 = 逾期未在责成时限内办结（建议约谈）' }),
  effectiveLevel: Type.Integer({ description: '督办级别：流程的级别，或联席会议办公室认定提级后的级别' }),
  judgedLevel: Nullable(Type.Integer({ description: '联席会议办公室的认定：2 = 提级，1 = 维持第一级' })),
  judgedAt: Nullable(DateTime),
  status: Type.String(),
  issuingUnit: Type.String(),
  requestingUnit: Type.String(),
  openedAt: DateTime,
  missedDueAt: DateTime,
  minutesLate: Type.Integer({ description: '自错过的时限起至今（或至办结）的分钟数' }),
  orderedDueAt: Nullable(DateTime),
  orderNote: Nullable(Type.String()),
  missedOrders: Type.Array(MissedOrder, { description: '未在责成时限内办结的责成时限' }),
  responsible: Nullable(Responsible),
  caseStatus: Type.String(),
  caseCompletedAt: Nullable(DateTime),
  closedAt: Nullable(DateTime),
  outcome: Nullable(Type.String()),
});

const Recorded = {
  id: Type.String(),
  escalationId: Type.String(),
  recordedBy: Type.String(),
  recordedByName: Type.String(),
  recordedAt: DateTime,
};
const Investigator = Type.Object(
  { name: Text(1, 50, '姓名'), post: Type.Optional(Text(1, 100, '单位职务')) },
  { additionalProperties: false },
);
const DocumentRef = Type.Object(
  {
    title: Text(1, 200, '材料名称'),
    attachmentId: Type.Optional(Text(1, 128, '本案已有附件的 ID')),
    reference: Type.Optional(Text(1, 200, '文号或存放位置（线下材料）')),
  },
  { additionalProperties: false, description: '附件 ID 或文号，二者填其一' },
);
const InterviewPerson = Type.Object(
  { name: Text(1, 50, '姓名'), post: Text(1, 100, '职务') },
  { additionalProperties: false },
);
const InterviewOutcome = Type.Union(
  [Type.Literal('scheduled'), Type.Literal('interviewed'), Type.Literal('declined')],
  { description: 'scheduled 已安排约谈，interviewed 已约谈，declined 市政府未予约谈' },
);

const InvestigationView = Type.Object({
  ...Recorded,
  investigators: Type.Array(Type.Object({ name: Type.String(), post: Type.Optional(Type.String()) })),
  findings: Type.String(),
  documents: Type.Array(
    Type.Object({
      title: Type.String(),
      attachmentId: Type.Optional(Type.String()),
      reference: Type.Optional(Type.String()),
    }),
  ),
});
const JudgementView = Type.Object({
  ...Recorded,
  decision: Type.Union([Type.Literal('raise'), Type.Literal('hold')]),
  reason: Type.String(),
});
const FollowUpView = Type.Object({
  ...Recorded,
  date: Type.String(),
  note: Type.String(),
  outcome: Nullable(InterviewOutcome),
});
const InterviewRequestView = Type.Object({
  ...Recorded,
  requestedOn: Type.String(),
  persons: Type.Array(Type.Object({ name: Type.String(), post: Type.String() })),
  reason: Type.String(),
  outcome: Nullable(InterviewOutcome),
  followUps: Type.Array(FollowUpView),
});
const EscalationDetail = Type.Object({
  escalation: EscalationView,
  ladder: Type.Array(EscalationView, { description: '本案全部督办（各级）' }),
  investigations: Type.Array(InvestigationView),
  judgements: Type.Array(JudgementView),
  interviewRequests: Type.Array(InterviewRequestView),
});

const EscParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 160 }) });
const Reason = Type.Object({ reason: Text(2, 1000, '理由') }, { additionalProperties: false });

type EscRow = typeof escalations.$inferSelect;
type RecordRow = typeof escalationRecords.$inferSelect;
type CaseBits = { docNumber: string; status: string; completedAt: Date | null };

/** The level the office deals with: the workflow's, or 2 once the office raised it. */
const effectiveLevel = (e: Pick<EscRow, 'level' | 'judgedLevel'>) => Math.max(e.level, e.judgedLevel ?? 0);
const EFFECTIVE_LEVEL = sql`greatest(${escalations.level}, coalesce(${escalations.judgedLevel}, 0))`;

const view = (e: EscRow, c: CaseBits) => {
  const end = e.caseCompletedAt ?? c.completedAt ?? new Date();
  return {
    id: e.id,
    caseId: e.caseId,
    docNumber: c.docNumber,
    level: e.level,
    effectiveLevel: effectiveLevel(e),
    judgedLevel: e.judgedLevel,
    judgedAt: e.judgedAt?.toISOString() ?? null,
    status: e.status,
    issuingUnit: e.issuingUnit,
    requestingUnit: e.requestingUnit,
    openedAt: e.openedAt.toISOString(),
    missedDueAt: e.missedDueAt.toISOString(),
    minutesLate: Math.max(0, Math.round((end.getTime() - e.missedDueAt.getTime()) / 60000)),
    orderedDueAt: e.orderedDueAt?.toISOString() ?? null,
    orderNote: e.orderNote,
    missedOrders: e.missedOrders ?? [],
    responsible: e.responsible ?? null,
    caseStatus: c.status,
    caseCompletedAt: (e.caseCompletedAt ?? c.completedAt)?.toISOString() ?? null,
    closedAt: e.closedAt?.toISOString() ?? null,
    outcome: e.outcome,
  };
};

/** The columns of `cases` an escalation row shows: never the case content. */
const CASE_BITS = { docNumber: cases.docNumber, status: cases.status, completedAt: cases.completedAt };

/** Beijing calendar date → the instant its day starts (+08:00, no daylight saving). */
const beijingDayStart = (date: string) => new Date(`${date}T00:00:00+08:00`);

interface InvestigationData {
  investigators: { name: string; post?: string }[];
  findings: string;
  documents: { title: string; attachmentId?: string; reference?: string }[];
}
type Outcome = 'scheduled' | 'interviewed' | 'declined';
interface FollowUpData {
  date: string;
  note: string;
  outcome: Outcome | null;
}
interface InterviewRequestData {
  requestedOn: string;
  persons: { name: string; post: string }[];
  reason: string;
}

/** The records of an escalation ladder as the API shows them, grouped by kind (each oldest first). */
function recordViews(rows: RecordRow[]) {
  const base = (r: RecordRow) => ({
    id: r.id,
    escalationId: r.escalationId,
    recordedBy: r.recordedBy,
    recordedByName: r.recordedByName,
    recordedAt: r.recordedAt.toISOString(),
  });
  const data = <T>(r: RecordRow) => r.data as unknown as T;
  const followUps = rows
    .filter((r) => r.kind === 'interview_follow_up')
    .map((r) => {
      const f = data<FollowUpData>(r);
      return { ...base(r), parentId: r.parentId, date: f.date, note: f.note, outcome: f.outcome ?? null };
    });
  return {
    investigations: rows
      .filter((r) => r.kind === 'investigation')
      .map((r) => {
        const i = data<InvestigationData>(r);
        return { ...base(r), investigators: i.investigators, findings: i.findings, documents: i.documents };
      }),
    judgements: rows
      .filter((r) => r.kind === 'level_raised' || r.kind === 'level_held')
      .map((r) => ({
        ...base(r),
        decision: r.kind === 'level_raised' ? ('raise' as const) : ('hold' as const),
        reason: data<{ reason: string }>(r).reason,
      })),
    interviewRequests: rows
      .filter((r) => r.kind === 'interview_request')
      .map((r) => {
        const q = data<InterviewRequestData>(r);
        const mine = followUps.filter((f) => f.parentId === r.id).map(({ parentId: _p, ...f }) => f);
        const outcome = mine.findLast((f) => f.outcome)?.outcome ?? null;
        return {
          ...base(r),
          requestedOn: q.requestedOn,
          persons: q.persons,
          reason: q.reason,
          outcome,
          followUps: mine,
        };
      }),
  };
}

export const escalationRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (
  app,
  { db, gateway, notices: delivery },
) => {
  /** The role check of an office route: a refusal is audited, then 403. */
  const allow = async (
    req: FastifyRequest,
    action: string,
    roles: StaffRole[],
    escalationId?: string,
  ): Promise<StaffContext> => {
    const who = staffOf(req);
    if (roles.includes(who.role)) return who;
    // The case concerned, for the audit log only: the answer is the same 403 whether it exists or not.
    const [target] = escalationId
      ? await db
          .select({ caseId: escalations.caseId })
          .from(escalations)
          .where(eq(escalations.id, escalationId))
      : [];
    await recordAudit(db, {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      caseId: target?.caseId ?? null,
      sourceIp: req.ip,
      outcome: 'denied',
      detail: { reason: 'role', role: who.role, ...(escalationId ? { escalation: escalationId } : {}) },
    });
    return requireRole(req, ...roles);
  };

  const load = async (id: string) => {
    const [r] = await db
      .select({ e: escalations, c: CASE_BITS })
      .from(escalations)
      .innerJoin(cases, eq(cases.id, escalations.caseId))
      .where(eq(escalations.id, id));
    if (!r) throw notFound('未找到该督办');
    return r;
  };

  /**
   * An office record on an escalation: supervisors only; the escalation must exist; the outcome, allowed or
   * refused (with the status and reason), is in the audit log with the case.
   */
  const officeRecord = async <T>(
    req: FastifyRequest,
    id: string,
    action: string,
    detail: Record<string, unknown>,
    fn: (who: StaffContext, r: Awaited<ReturnType<typeof load>>) => Promise<T>,
  ): Promise<T> => {
    const who = await allow(req, action, ['supervisor'], id);
    const r = await load(id);
    const base = {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      caseId: r.e.caseId,
      sourceIp: req.ip,
    };
    try {
      const result = await fn(who, r);
      await recordAudit(db, { ...base, outcome: 'allowed', detail: { escalation: r.e.id, ...detail } });
      return result;
    } catch (err) {
      if (err instanceof Problem)
        await recordAudit(db, {
          ...base,
          outcome: 'denied',
          detail: { escalation: r.e.id, ...detail, status: err.status, reason: err.detail },
        });
      throw err;
    }
  };

  const insertRecord = async (
    tx: Db,
    who: StaffContext,
    e: EscRow,
    kind: string,
    data: Record<string, unknown>,
    parentId: string | null = null,
  ) => {
    const [row] = await tx
      .insert(escalationRecords)
      .values({
        id: `escrec-${randomUUID()}`,
        escalationId: e.id,
        caseId: e.caseId,
        kind,
        parentId,
        data,
        recordedBy: who.id,
        recordedByName: who.name,
        recordedAt: new Date(),
      })
      .returning();
    return row as RecordRow;
  };

  const mustBeOpen = (e: EscRow, what: string) => {
    if (e.status === 'closed')
      throw unprocessable(`该督办已办结关闭，不能再${what}`, [
        { pointer: '/params/id', detail: '督办已关闭' },
      ]);
  };

  const detail = async (id: string) => {
    const { e, c } = await load(id);
    const ladder = await db
      .select()
      .from(escalations)
      .where(eq(escalations.caseId, e.caseId))
      .orderBy(asc(escalations.openedAt), asc(escalations.id));
    const records = await db
      .select()
      .from(escalationRecords)
      .where(
        inArray(
          escalationRecords.escalationId,
          ladder.map((l) => l.id),
        ),
      )
      .orderBy(asc(escalationRecords.recordedAt), asc(escalationRecords.id));
    return {
      escalation: view(e, c),
      ladder: ladder.map((l) => view(l, c)),
      ...recordViews(records),
    };
  };

  app.get(
    '/api/v1/escalations',
    {
      schema: {
        tags: ['督办'],
        summary: '督办列表（联席会议办公室；市政府督查只读）',
        description:
          '按督办开始时间、ID 排序，游标分页；按出具单位、级别（含认定提级）、状态和期间（北京时间日期）筛选。不含协查内容。',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([
                Type.Literal('open'),
                Type.Literal('ordered'),
                Type.Literal('closed'),
                Type.Literal('active'),
                Type.Literal('all'),
              ]),
            ),
            unit: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '出具单位代码' })),
            level: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 2, description: '督办级别（含认定提级）' }),
            ),
            from: Type.Optional(
              Type.String({ format: 'date', description: '督办开始日期不早于（北京时间，含）' }),
            ),
            to: Type.Optional(
              Type.String({ format: 'date', description: '督办开始日期不晚于（北京时间，含）' }),
            ),
            openedFrom: Type.Optional(
              Type.String({ format: 'date-time', description: '督办开始时间不早于' }),
            ),
            openedTo: Type.Optional(Type.String({ format: 'date-time', description: '督办开始时间早于' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 512, description: '上一页返回的 nextCursor' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(EscalationView), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 422),
        },
      },
    },
    async (req) => {
      await allow(req, 'escalation.list', ['supervisor', 'reviewer']);
      const q = req.query;
      const status = q.status ?? 'active';
      const limit = q.limit ?? 100;
      if (q.from && q.to && q.from > q.to)
        throw unprocessable('起始日期不能晚于截止日期', [
          { pointer: '/querystring/to', detail: '须不早于 from' },
        ]);
      const where: (SQL | undefined)[] = [
        status === 'all'
          ? undefined
          : inArray(escalations.status, status === 'active' ? ['open', 'ordered'] : [status]),
      ];
      if (q.unit) where.push(eq(escalations.issuingUnit, q.unit));
      if (q.level) where.push(sql`${EFFECTIVE_LEVEL} = ${q.level}`);
      if (q.from) where.push(gte(escalations.openedAt, beijingDayStart(q.from)));
      if (q.to) where.push(lt(escalations.openedAt, new Date(beijingDayStart(q.to).getTime() + 86_400_000)));
      if (q.openedFrom) where.push(gte(escalations.openedAt, new Date(q.openedFrom)));
      if (q.openedTo) where.push(lt(escalations.openedAt, new Date(q.openedTo)));
      const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      if (after) where.push(sql`(${escalations.openedAt}, ${escalations.id}) > (${after[0]}, ${after[1]})`);
      // Only the columns the row shows: never the case content, whatever the number of escalations.
      const rows = await db
        .select({ e: escalations, c: CASE_BITS })
        .from(escalations)
        .innerJoin(cases, eq(cases.id, escalations.caseId))
        .where(and(...where))
        .orderBy(asc(escalations.openedAt), asc(escalations.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => view(r.e, r.c)),
        nextCursor: rows.length > limit && last ? encodeCursor(last.e.openedAt, last.e.id) : null,
      };
    },
  );

  app.get(
    '/api/v1/escalations/:id',
    {
      schema: {
        tags: ['督办'],
        summary: '督办详情：各级督办、组织调查、级别认定、约谈提请及跟进（市政府督查只读）',
        security: [{ bearer: [] }],
        params: EscParams,
        response: { 200: EscalationDetail, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const who = await allow(req, 'escalation.read', ['supervisor', 'reviewer'], req.params.id);
      const result = await detail(req.params.id);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'escalation.read',
        caseId: result.escalation.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { escalation: req.params.id },
      });
      return result;
    },
  );

  app.post(
    '/api/v1/escalations/:id/order',
    {
      schema: {
        tags: ['督办'],
        summary: '责成限时办结（设定新的办结时限）',
        security: [{ bearer: [] }],
        params: EscParams,
        headers: IdempotencyHeaders,
        body: Type.Object(
          { dueAt: DateTime, note: Type.String({ minLength: 2, maxLength: 500 }) },
          { additionalProperties: false },
        ),
        response: { 200: EscalationView, ...errorResponses(403, 404, 409, 415, 422) },
      },
    },
    async (req) => {
      const who = await allow(req, 'escalation.order', ['supervisor'], req.params.id);
      const { e } = await load(req.params.id);
      if (new Date(req.body.dueAt).getTime() <= Date.now()) {
        throw unprocessable('限办时间必须晚于当前时间', [
          { pointer: '/body/dueAt', detail: '必须晚于当前时间' },
        ]);
      }
      // A far-off date would become a workflow timer longer than Temporal accepts.
      if (new Date(req.body.dueAt).getTime() > Date.now() + 366 * 86_400_000) {
        throw unprocessable('限办时间不能晚于一年之后', [{ pointer: '/body/dueAt', detail: '须在一年之内' }]);
      }
      const { key } = await claimIdempotencyKey(db, req, who);
      await gateway.act(
        e.caseId,
        orderDeadlineUpdate,
        { actor: actorOf(who), dueAt: req.body.dueAt, note: req.body.note },
        `order-${key}`,
      );
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'escalation.order',
        caseId: e.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { escalation: e.id, dueAt: req.body.dueAt },
      });
      const r = await load(req.params.id);
      return view(r.e, r.c);
    },
  );

  app.post(
    '/api/v1/escalations/:id/close',
    {
      schema: {
        tags: ['督办'],
        summary: '督办办结：一次关闭本案的整个督办阶梯（各级），记录一个处理结果（用于考核问责）',
        security: [{ bearer: [] }],
        params: EscParams,
        headers: IdempotencyHeaders,
        body: Type.Object(
          { outcome: Type.String({ minLength: 2, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: EscalationView, ...errorResponses(403, 404, 409, 415, 422) },
      },
    },
    async (req) => {
      const who = await allow(req, 'escalation.close', ['supervisor'], req.params.id);
      const { e } = await load(req.params.id);
      if (e.status === 'closed') throw conflict('该督办已办结关闭', 'invalid_state');
      const { key } = await claimIdempotencyKey(db, req, who);
      // The ladder: every open escalation of the same missed routing, the highest level first, so the case
      // (whose workflow ends when its last escalation closes) ends with the last one.
      const ladder = await db
        .select({ id: escalations.id, level: escalations.level })
        .from(escalations)
        .where(
          and(
            eq(escalations.caseId, e.caseId),
            eq(escalations.routingNo, e.routingNo),
            ne(escalations.status, 'closed'),
          ),
        )
        .orderBy(desc(escalations.level));
      const levels = [...new Set([...ladder.map((l) => l.level), e.level])].sort((a, b) => b - a);
      for (const level of levels)
        await gateway.act(
          e.caseId,
          closeEscalationUpdate,
          { actor: actorOf(who), level: level as 1 | 2, outcome: req.body.outcome },
          level === e.level ? `close-esc-${key}` : `close-esc-${key}-L${level}`,
        );
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'escalation.close',
        caseId: e.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { escalation: e.id, levels },
      });
      const r = await load(req.params.id);
      return view(r.e, r.c);
    },
  );

  app.post(
    '/api/v1/escalations/:id/investigations',
    {
      schema: {
        tags: ['督办'],
        summary: '组织调查：记录调查人员、调查情况和材料（附件 ID 或文号）',
        security: [{ bearer: [] }],
        params: EscParams,
        body: Type.Object(
          {
            investigators: Type.Array(Investigator, { minItems: 1, maxItems: 20, description: '调查人员' }),
            findings: Text(2, 4000, '调查情况'),
            documents: Type.Optional(Type.Array(DocumentRef, { maxItems: 20, description: '调查材料' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: InvestigationView, ...errorResponses(403, 404, 415, 422) },
      },
    },
    async (req, reply) =>
      officeRecord(req, req.params.id, 'escalation.investigation', {}, async (who, { e }) => {
        mustBeOpen(e, '记录调查');
        const documents = req.body.documents ?? [];
        for (const [i, doc] of documents.entries()) {
          if (!doc.attachmentId === !doc.reference)
            throw unprocessable('每份材料须填写附件 ID 或文号之一', [
              { pointer: `/body/documents/${i}`, detail: '附件 ID 与文号须填其一' },
            ]);
          if (doc.attachmentId) {
            const [att] = await db
              .select({ caseId: attachments.caseId })
              .from(attachments)
              .where(eq(attachments.id, doc.attachmentId));
            if (att?.caseId !== e.caseId)
              throw unprocessable('附件不存在，或不是本案的附件', [
                { pointer: `/body/documents/${i}/attachmentId`, detail: '不是本案的附件' },
              ]);
          }
        }
        const row = await insertRecord(db, who, e, 'investigation', {
          investigators: req.body.investigators.map((p) => ({
            name: p.name.trim(),
            ...(p.post ? { post: p.post } : {}),
          })),
          findings: req.body.findings.trim(),
          documents,
        });
        const v = recordViews([row]).investigations[0];
        if (!v) throw new Error('investigation record not readable');
        return reply.code(201).send(v);
      }),
  );

  app.post(
    '/api/v1/escalations/:id/raise',
    {
      schema: {
        tags: ['督办'],
        summary: '认定造成不良影响，提级为第二级督办（建议约谈）；通知出具单位负责人',
        security: [{ bearer: [] }],
        params: EscParams,
        body: Reason,
        response: { 200: EscalationView, ...errorResponses(403, 404, 415, 422) },
      },
    },
    async (req) =>
      officeRecord(
        req,
        req.params.id,
        'escalation.raise',
        { reason: req.body.reason },
        async (who, { e, c }) => {
          mustBeOpen(e, '提级');
          if (e.level !== 1)
            throw unprocessable('该督办已是第二级督办', [{ pointer: '/params/id', detail: '已是第二级' }]);
          if (e.judgedLevel === 2)
            throw unprocessable('该督办已认定提级为第二级', [{ pointer: '/params/id', detail: '已提级' }]);
          const [level2] = await db
            .select({ id: escalations.id })
            .from(escalations)
            .where(
              and(
                eq(escalations.caseId, e.caseId),
                eq(escalations.routingNo, e.routingNo),
                eq(escalations.level, 2),
              ),
            );
          if (level2)
            throw unprocessable('本案已因逾期未在责成时限内办结升为第二级督办，无需再提级', [
              { pointer: '/params/id', detail: '已有第二级督办' },
            ]);
          const reason = req.body.reason.trim();
          const now = new Date();
          const updated = await db.transaction(async (t) => {
            const tx = t as unknown as Db;
            const [row] = await tx
              .update(escalations)
              .set({ judgedLevel: 2, judgedAt: now, judgedBy: who.id, judgementReason: reason })
              .where(
                and(
                  eq(escalations.id, e.id),
                  or(isNull(escalations.judgedLevel), ne(escalations.judgedLevel, 2)),
                ),
              )
              .returning();
            if (!row)
              throw unprocessable('该督办已认定提级为第二级', [{ pointer: '/params/id', detail: '已提级' }]);
            await insertRecord(tx, who, e, 'level_raised', { reason, fromLevel: 1, toLevel: 2 });
            // The issuing unit's leaders, one notice each (the ids make a repeat impossible).
            const leaders = await unitLeaders(tx, e.issuingUnit);
            const notices: NotificationRow[] = leaders.map((l) => ({
              id: `${e.id}:raised:${l.id}`,
              eventKey: `${e.id}:raised`,
              recipientKey: l.id,
              caseId: e.caseId,
              recipientStaffId: l.id,
              recipientUnit: null,
              kind: 'escalation_level2_leader',
              message: level2LeaderMessage(
                c.docNumber,
                e.missedDueAt.toISOString(),
                now.toISOString(),
                `逾期未反馈，经联席会议办公室认定造成不良影响（${reason}）`,
              ),
              createdAt: now,
            }));
            const written = notices.length
              ? await tx
                  .insert(notifications)
                  .values(notices)
                  .onConflictDoNothing()
                  .returning({ id: notifications.id })
              : [];
            const notified = notices.filter((n) => written.some((w) => w.id === n.id));
            return { row, notified };
          });
          // Committed: now the live stream and the webhook, best effort (the in-app records stand).
          if (updated.notified.length && delivery)
            await delivery
              .deliver(updated.notified)
              .catch((err) => req.log.warn({ err }, 'notification delivery failed'));
          return view(updated.row, c);
        },
      ),
  );

  app.post(
    '/api/v1/escalations/:id/hold',
    {
      schema: {
        tags: ['督办'],
        summary: '认定未造成不良影响，维持第一级督办（记录理由）',
        security: [{ bearer: [] }],
        params: EscParams,
        body: Reason,
        response: { 200: EscalationView, ...errorResponses(403, 404, 415, 422) },
      },
    },
    async (req) =>
      officeRecord(
        req,
        req.params.id,
        'escalation.hold',
        { reason: req.body.reason },
        async (who, { e, c }) => {
          mustBeOpen(e, '认定级别');
          if (e.level !== 1)
            throw unprocessable('第二级督办不能维持在第一级', [
              { pointer: '/params/id', detail: '已是第二级' },
            ]);
          if (e.judgedLevel !== null)
            throw unprocessable(
              e.judgedLevel === 2 ? '该督办已认定提级为第二级，不能再维持第一级' : '该督办已认定维持第一级',
              [{ pointer: '/params/id', detail: '已有认定' }],
            );
          const reason = req.body.reason.trim();
          const now = new Date();
          const updated = await db.transaction(async (t) => {
            const tx = t as unknown as Db;
            const [row] = await tx
              .update(escalations)
              .set({ judgedLevel: 1, judgedAt: now, judgedBy: who.id, judgementReason: reason })
              .where(and(eq(escalations.id, e.id), isNull(escalations.judgedLevel)))
              .returning();
            if (!row)
              throw unprocessable('该督办已有级别认定', [{ pointer: '/params/id', detail: '已有认定' }]);
            await insertRecord(tx, who, e, 'level_held', { reason, level: 1 });
            return row;
          });
          return view(updated, c);
        },
      ),
  );

  app.post(
    '/api/v1/escalations/:id/interview-requests',
    {
      schema: {
        tags: ['督办'],
        summary: '提请市政府约谈相关责任人（第二级督办）：日期、人员及职务、理由',
        security: [{ bearer: [] }],
        params: EscParams,
        body: Type.Object(
          {
            requestedOn: CalendarDate,
            persons: Type.Array(InterviewPerson, {
              minItems: 1,
              maxItems: 20,
              description: '建议约谈的人员',
            }),
            reason: Text(2, 1000, '提请理由'),
          },
          { additionalProperties: false },
        ),
        response: { 201: InterviewRequestView, ...errorResponses(403, 404, 415, 422) },
      },
    },
    async (req, reply) =>
      officeRecord(req, req.params.id, 'escalation.interview_request', {}, async (who, { e }) => {
        mustBeOpen(e, '提请约谈');
        if (effectiveLevel(e) < 2)
          throw unprocessable('只有第二级督办（逾期未在责成时限内办结，或认定造成不良影响）才能提请约谈', [
            { pointer: '/params/id', detail: '尚未到第二级' },
          ]);
        const row = await insertRecord(db, who, e, 'interview_request', {
          requestedOn: req.body.requestedOn,
          persons: req.body.persons.map((p) => ({ name: p.name.trim(), post: p.post.trim() })),
          reason: req.body.reason.trim(),
        });
        const v = recordViews([row]).interviewRequests[0];
        if (!v) throw new Error('interview request not readable');
        return reply.code(201).send(v);
      }),
  );

  app.post(
    '/api/v1/escalations/:id/interview-requests/:requestId/follow-ups',
    {
      schema: {
        tags: ['督办'],
        summary: '约谈提请的跟进：日期、情况、约谈结果（督办关闭后仍可记录）',
        security: [{ bearer: [] }],
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 160 }),
          requestId: Type.String({ minLength: 1, maxLength: 160 }),
        }),
        body: Type.Object(
          { date: CalendarDate, note: Text(2, 1000, '跟进情况'), outcome: Type.Optional(InterviewOutcome) },
          { additionalProperties: false },
        ),
        response: { 201: FollowUpView, ...errorResponses(403, 404, 415, 422) },
      },
    },
    async (req, reply) =>
      officeRecord(
        req,
        req.params.id,
        'escalation.interview_follow_up',
        { request: req.params.requestId, outcome: req.body.outcome ?? null },
        async (who, { e }) => {
          const [request] = await db
            .select({ id: escalationRecords.id })
            .from(escalationRecords)
            .where(
              and(
                eq(escalationRecords.id, req.params.requestId),
                eq(escalationRecords.escalationId, e.id),
                eq(escalationRecords.kind, 'interview_request'),
              ),
            );
          if (!request) throw notFound('该督办没有这项约谈提请');
          const row = await insertRecord(
            db,
            who,
            e,
            'interview_follow_up',
            { date: req.body.date, note: req.body.note.trim(), outcome: req.body.outcome ?? null },
            request.id,
          );
          const v = {
            id: row.id,
            escalationId: row.escalationId,
            recordedBy: row.recordedBy,
            recordedByName: row.recordedByName,
            recordedAt: row.recordedAt.toISOString(),
            date: req.body.date,
            note: req.body.note.trim(),
            outcome: req.body.outcome ?? null,
          };
          return reply.code(201).send(v);
        },
      ),
  );
};
