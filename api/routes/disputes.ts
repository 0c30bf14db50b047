/**
 * Responsibility disputes (职责争议, Zibo measures Art. 7 and 11): an issuing unit that believes a case's item is
 * not its duty files a dispute instead of answering; the joint-meeting office decides within DISPUTE_DECISION_DAYS
 * working days (default 2): re-route the case to the unit it names, or order the unit to answer. The process is
 * the `dispute` workflow (workflows/dispute.ts); this file checks who may do what, keeps one open dispute per case
 * (the read model's partial unique index) and audits every act, allowed or refused.
 *
 * Visibility follows the cases': the office's supervisors see every dispute (they carry no case content); a unit
 * sees the disputes it filed and those whose case was re-routed to it; anyone else gets a 404, audited.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { cases, catalogItems, disputes, units } from '../../db/schema.ts';
import type { DisputeInput } from '../../workflows/dispute.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { defaultPeriod, disputeStats } from '../services/stats.ts';
import { actorOf, type CaseRouteDeps, visibleCase } from './verifications.ts';

/** DISPUTE_DECISION_DAYS: the office's working days to decide (1 or 2; default 2). Read once, at boot. */
export function disputeDecisionDays(env: NodeJS.ProcessEnv = process.env): 1 | 2 {
  const raw = env.DISPUTE_DECISION_DAYS?.trim();
  if (!raw) return 2;
  if (raw === '1' || raw === '2') return Number(raw) as 1 | 2;
  throw new Error(`DISPUTE_DECISION_DAYS must be 1 or 2 (working days), got "${raw}"`);
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const UnitCode = Type.String({ minLength: 1, maxLength: 64, description: '单位代码' });

const STATUS_LABEL: Record<string, string> = {
  open: '待裁定',
  overdue: '逾期未裁定',
  rerouted: '已裁定改派',
  must_answer: '已裁定由本单位办理',
};

const DisputeView = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  docNumber: Type.String(),
  catalogName: Nullable(Type.String()),
  caseStatus: Type.String(),
  requestingUnit: Type.String(),
  unitCode: Type.String({ description: '提出争议的出具单位' }),
  status: Type.String({
    description: 'open 待裁定，overdue 逾期未裁定，rerouted 已改派，must_answer 责成办理',
  }),
  statusLabel: Type.String(),
  reason: Type.String(),
  suggestedUnit: Nullable(Type.String()),
  filedBy: Type.String(),
  filedByName: Type.String(),
  filedAt: DateTime,
  dueAt: Nullable(DateTime),
  overdueAt: Nullable(DateTime),
  outcome: Nullable(Type.String()),
  targetUnit: Nullable(Type.String()),
  decisionReason: Nullable(Type.String()),
  decidedByName: Nullable(Type.String()),
  decidedAt: Nullable(DateTime),
  decidedLate: Nullable(Type.Boolean()),
});

const FileBody = Type.Object(
  {
    caseId: Type.String({ minLength: 1, maxLength: 128 }),
    reason: Type.String({ minLength: 1, maxLength: 1000, description: '争议理由（为何不属于本单位职责）' }),
    suggestedUnit: Type.Optional(UnitCode),
  },
  { additionalProperties: false },
);
const DecideBody = Type.Object(
  {
    outcome: Type.Union([Type.Literal('reroute'), Type.Literal('must_answer')], {
      description: 'reroute 改派至 targetUnit；must_answer 责成提出争议的单位办理',
    }),
    targetUnit: Type.Optional(UnitCode),
    reason: Type.String({ minLength: 1, maxLength: 1000, description: '裁定理由' }),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const ListQuery = Type.Object(
  {
    caseId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    status: Type.Optional(
      Type.Union([
        Type.Literal('open'),
        Type.Literal('overdue'),
        Type.Literal('rerouted'),
        Type.Literal('must_answer'),
        Type.Literal('undecided'),
      ]),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    before: Type.Optional(DateTime),
  },
  { additionalProperties: false },
);
const StatsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date' })),
    to: Type.Optional(Type.String({ format: 'date' })),
    unit: Type.Optional(UnitCode),
  },
  { additionalProperties: false },
);
const DisputeStatsView = Type.Object({
  period: Type.Object({ from: Type.String(), to: Type.String() }),
  units: Type.Array(
    Type.Object({
      unit: Type.String(),
      unitName: Type.String(),
      filed: Type.Integer(),
      upheld: Type.Integer({ description: '争议成立（改派）' }),
      rejected: Type.Integer({ description: '争议不成立（责成办理）' }),
      open: Type.Integer(),
      overdue: Type.Integer(),
      decidedLate: Type.Integer(),
    }),
  ),
});

type DisputeRow = typeof disputes.$inferSelect;
const COLUMNS = {
  d: disputes,
  docNumber: cases.docNumber,
  caseStatus: cases.status,
  requestingUnit: cases.requestingUnit,
  catalogName: catalogItems.name,
};
type Joined = {
  d: DisputeRow;
  docNumber: string;
  caseStatus: string;
  requestingUnit: string;
  catalogName: string | null;
};

const iso = (d: Date | null) => d?.toISOString() ?? null;
const view = (r: Joined) => ({
  id: r.d.id,
  caseId: r.d.caseId,
  docNumber: r.docNumber,
  catalogName: r.catalogName,
  caseStatus: r.caseStatus,
  requestingUnit: r.requestingUnit,
  unitCode: r.d.unitCode,
  status: r.d.status,
  statusLabel: STATUS_LABEL[r.d.status] ?? r.d.status,
  reason: r.d.reason,
  suggestedUnit: r.d.suggestedUnit,
  filedBy: r.d.filedBy,
  filedByName: r.d.filedByName,
  filedAt: r.d.filedAt.toISOString(),
  dueAt: iso(r.d.dueAt),
  overdueAt: iso(r.d.overdueAt),
  outcome: r.d.outcome,
  targetUnit: r.d.targetUnit,
  decisionReason: r.d.decisionReason,
  decidedByName: r.d.decidedByName,
  decidedAt: iso(r.d.decidedAt),
  decidedLate: r.d.decidedLate,
});

const isOffice = (who: StaffContext) => who.role === 'supervisor';
const isUnitStaff = (who: StaffContext) =>
  who.unitKind === 'department' && (who.role === 'agent' || who.role === 'liaison');
/** What a person may list: the office everything, a unit its own disputes and those re-routed to it. */
const visibleTo = (who: StaffContext): SQL | undefined =>
  isOffice(who) ? undefined : or(eq(disputes.unitCode, who.unitCode), eq(disputes.targetUnit, who.unitCode));

async function loadDispute(db: Db, id: string): Promise<Joined | undefined> {
  const [r] = await db
    .select(COLUMNS)
    .from(disputes)
    .innerJoin(cases, eq(cases.id, disputes.caseId))
    .leftJoin(
      catalogItems,
      and(eq(catalogItems.code, cases.catalogCode), eq(catalogItems.version, cases.catalogVersion)),
    )
    .where(eq(disputes.id, id));
  return r;
}

/** A department unit the case may go to: it exists, is not an office, and is neither side of the case. */
async function checkUnit(db: Db, code: string, pointer: string, notThese: string[]): Promise<void> {
  const [u] = await db
    .select({ kind: units.kind, canIssue: units.canIssue })
    .from(units)
    .where(eq(units.code, code));
  if (u?.kind !== 'department' || !u.canIssue)
    throw unprocessable('所选单位不存在或不是出具单位', [{ pointer, detail: '不是出具单位' }]);
  if (notThese.includes(code))
    throw unprocessable('请选择提出争议的单位和需求单位以外的出具单位', [
      { pointer, detail: '不能选择该单位' },
    ]);
}

export const disputeRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (app, { db, gateway }) => {
  const decisionDays = disputeDecisionDays();
  const audit = (
    req: FastifyRequest,
    who: StaffContext,
    action: string,
    outcome: 'allowed' | 'denied',
    caseId: string | null,
    detail: Record<string, unknown>,
  ) =>
    recordAudit(db, {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      caseId,
      sourceIp: req.ip,
      outcome,
      detail,
    });

  /** The dispute if the person may see it; otherwise a 404 (audited), never whether it exists. */
  const visibleDispute = async (req: FastifyRequest, id: string, action: string) => {
    const who = staffOf(req);
    const r = await loadDispute(db, id);
    const mine = r && (isOffice(who) || r.d.unitCode === who.unitCode || r.d.targetUnit === who.unitCode);
    if (!r || !mine) {
      await audit(req, who, action, 'denied', r?.d.caseId ?? null, {
        dispute: id,
        reason: r ? 'not_your_dispute' : 'no_such_dispute',
      });
      throw notFound('未找到该职责争议，或您无权查看');
    }
    return { who, r };
  };

  app.post(
    '/api/v1/disputes',
    {
      schema: {
        tags: ['职责争议'],
        summary: '出具单位提出职责争议（认为协查事项不属于本单位职责，提请联席会议办公室裁定）',
        security: [{ bearer: [] }],
        body: FileBody,
        response: { 201: DisputeView, ...errorResponses(403, 404, 409, 422, 504) },
      },
    },
    async (req, reply) => {
      const { caseId, suggestedUnit } = req.body;
      const reason = req.body.reason.trim();
      const { row, who } = await visibleCase(db, req, caseId, 'dispute.file');
      const detail = { reason, ...(suggestedUnit ? { suggestedUnit } : {}) };
      try {
        if (!isUnitStaff(who) || who.unitCode !== row.issuingUnit)
          throw forbidden('只有本案当前出具单位的联络员或代办员可以提出职责争议');
        if (row.status !== 'awaiting_registration' && row.status !== 'registered')
          throw unprocessable('本案已不在本单位办理中，不能提出职责争议');
        if (reason.length < 2)
          throw unprocessable('请填写争议理由：说明为何不属于本单位职责', [
            { pointer: '/body/reason', detail: '请填写争议理由' },
          ]);
        if (suggestedUnit)
          await checkUnit(db, suggestedUnit, '/body/suggestedUnit', [row.issuingUnit, row.requestingUnit]);
        const id = randomUUID();
        const filedAt = new Date();
        const inserted = await db
          .insert(disputes)
          .values({
            id,
            caseId: row.id,
            unitCode: row.issuingUnit,
            routingNo: row.routingNo,
            requestingUnit: row.requestingUnit,
            status: 'open',
            reason,
            suggestedUnit: suggestedUnit ?? null,
            filedBy: who.id,
            filedByName: who.name,
            filedAt,
          })
          .onConflictDoNothing()
          .returning({ id: disputes.id });
        if (!inserted.length) throw unprocessable('本案已有尚未裁定的职责争议，请等待联席会议办公室裁定');
        const input: DisputeInput = {
          disputeId: id,
          caseId: row.id,
          unitCode: row.issuingUnit,
          routingNo: row.routingNo,
          filedBy: actorOf(who),
          reason,
          ...(suggestedUnit ? { suggestedUnit } : {}),
          filedAt: filedAt.toISOString(),
          decisionDays,
        };
        try {
          await gateway.fileDispute(input);
        } catch (err) {
          await db.delete(disputes).where(eq(disputes.id, id));
          throw err;
        }
        await audit(req, who, 'dispute.file', 'allowed', row.id, { dispute: id, ...detail });
        const r = await loadDispute(db, id);
        return reply.code(201).send(view(r as Joined));
      } catch (err) {
        if (err instanceof Problem)
          await audit(req, who, 'dispute.file', 'denied', row.id, {
            ...detail,
            status: err.status,
            reason: err.detail,
          });
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/disputes',
    {
      schema: {
        tags: ['职责争议'],
        summary:
          '职责争议列表（联席会议办公室：全部；出具单位：本单位提出的及改派给本单位的），按提出时间倒序',
        security: [{ bearer: [] }],
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(DisputeView) }), ...errorResponses(403) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      if (!isOffice(who) && !isUnitStaff(who)) {
        await audit(req, who, 'dispute.list', 'denied', null, { reason: 'role', role: who.role });
        throw forbidden('只有联席会议办公室的督办人员和出具单位的工作人员可以查看职责争议');
      }
      const q = req.query;
      const where: (SQL | undefined)[] = [visibleTo(who)];
      if (q.caseId) where.push(eq(disputes.caseId, q.caseId));
      if (q.status === 'undecided') where.push(inArray(disputes.status, ['open', 'overdue']));
      else if (q.status) where.push(eq(disputes.status, q.status));
      if (q.before) where.push(lt(disputes.filedAt, new Date(q.before)));
      const rows = await db
        .select(COLUMNS)
        .from(disputes)
        .innerJoin(cases, eq(cases.id, disputes.caseId))
        .leftJoin(
          catalogItems,
          and(eq(catalogItems.code, cases.catalogCode), eq(catalogItems.version, cases.catalogVersion)),
        )
        .where(and(...where))
        .orderBy(desc(disputes.filedAt), desc(disputes.id))
        .limit(q.limit ?? 50);
      return { items: rows.map(view) };
    },
  );

  app.get(
    '/api/v1/disputes/:id',
    {
      schema: {
        tags: ['职责争议'],
        summary: '一项职责争议',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: DisputeView, ...errorResponses(403, 404) },
      },
    },
    async (req) => view((await visibleDispute(req, req.params.id, 'dispute.read')).r),
  );

  app.post(
    '/api/v1/disputes/:id/decide',
    {
      schema: {
        tags: ['职责争议'],
        summary: '联席会议办公室裁定职责争议：改派至指定出具单位，或责成提出争议的单位办理',
        security: [{ bearer: [] }],
        params: IdParams,
        body: DecideBody,
        response: { 200: DisputeView, ...errorResponses(403, 404, 409, 422, 504) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const { outcome, targetUnit } = req.body;
      const reason = req.body.reason.trim();
      const detail = { dispute: req.params.id, outcome, reason, ...(targetUnit ? { targetUnit } : {}) };
      if (!isOffice(who)) {
        const r = await loadDispute(db, req.params.id);
        await audit(req, who, 'dispute.decide', 'denied', r?.d.caseId ?? null, {
          ...detail,
          reason: 'role',
          role: who.role,
        });
        throw forbidden('只有联席会议办公室的督办人员可以裁定职责争议');
      }
      const { r } = await visibleDispute(req, req.params.id, 'dispute.decide');
      try {
        if (reason.length < 2)
          throw unprocessable('请填写裁定理由', [{ pointer: '/body/reason', detail: '请填写裁定理由' }]);
        if (outcome === 'reroute') {
          if (!targetUnit)
            throw unprocessable('改派时请选择承办的出具单位', [
              { pointer: '/body/targetUnit', detail: '请选择出具单位' },
            ]);
          await checkUnit(db, targetUnit, '/body/targetUnit', [r.d.unitCode, r.requestingUnit]);
        }
        if (r.d.status !== 'open' && r.d.status !== 'overdue') throw unprocessable('该职责争议已裁定');
        await gateway.decideDispute(r.d.id, {
          actor: actorOf(who),
          outcome,
          ...(outcome === 'reroute' && targetUnit ? { targetUnit } : {}),
          reason,
        });
        await audit(req, who, 'dispute.decide', 'allowed', r.d.caseId, detail);
        return view((await loadDispute(db, r.d.id)) as Joined);
      } catch (err) {
        if (err instanceof Problem)
          await audit(req, who, 'dispute.decide', 'denied', r.d.caseId, {
            ...detail,
            status: err.status,
            why: err.detail,
          });
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/stats/disputes',
    {
      schema: {
        tags: ['考核统计'],
        summary:
          '职责争议统计（第十三条）：各出具单位提出、成立（改派）、不成立（责成办理）、未裁定、逾期的件数',
        security: [{ bearer: [] }],
        querystring: StatsQuery,
        response: { 200: DisputeStatsView, ...errorResponses(403, 422) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      if (who.role !== 'supervisor' && who.role !== 'admin') {
        await audit(req, who, 'stats.read', 'denied', null, { view: 'disputes', reason: 'role' });
        throw forbidden('只有联席会议办公室的督办人员和管理员可以查看考核统计');
      }
      const period = defaultPeriod(new Date(), req.query.from, req.query.to);
      if (period.from > period.to)
        throw unprocessable('起始日期不能晚于截止日期', [
          { pointer: '/querystring/from', detail: '起始日期晚于截止日期' },
        ]);
      await audit(req, who, 'stats.read', 'allowed', null, { view: 'disputes', ...period });
      const rows = await disputeStats(db, { ...period, ...(req.query.unit ? { unit: req.query.unit } : {}) });
      const names = new Map(
        (await db.select({ code: units.code, name: units.name }).from(units)).map((u) => [u.code, u.name]),
      );
      return { period, units: rows.map((x) => ({ ...x, unitName: names.get(x.unit) ?? x.unit })) };
    },
  );
};
