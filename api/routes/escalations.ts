/**
 * The joint-meeting office's escalation inbox (Art. 11): overdue cases, how late, and the two acts —
 * order the issuing unit to finish by a set time (责成限时办结), and close with an outcome.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import { Type } from 'typebox';
import { cases, escalations } from '../../db/schema.ts';
import { closeEscalationUpdate, orderDeadlineUpdate } from '../../workflows/definitions.ts';
import { requireRole } from '../plugins/auth.ts';
import { notFound, unprocessable } from '../problem.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { decodeCursor, encodeCursor } from '../services/cursor.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';
import { actorOf, type CaseRouteDeps } from './verifications.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

const EscalationView = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  docNumber: Type.String(),
  level: Type.Integer({ description: '1 = 逾期督办，2 = 建议约谈' }),
  status: Type.String(),
  issuingUnit: Type.String(),
  requestingUnit: Type.String(),
  openedAt: DateTime,
  missedDueAt: DateTime,
  minutesLate: Type.Integer({ description: '自错过的时限起至今（或至办结）的分钟数' }),
  orderedDueAt: Nullable(DateTime),
  orderNote: Nullable(Type.String()),
  caseStatus: Type.String(),
  caseCompletedAt: Nullable(DateTime),
  closedAt: Nullable(DateTime),
  outcome: Nullable(Type.String()),
});

const EscParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 160 }) });

export const escalationRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (app, { db, gateway }) => {
  const view = (
    e: typeof escalations.$inferSelect,
    c: Pick<typeof cases.$inferSelect, 'docNumber' | 'status' | 'completedAt'>,
  ) => {
    const end = e.caseCompletedAt ?? c.completedAt ?? new Date();
    return {
      id: e.id,
      caseId: e.caseId,
      docNumber: c.docNumber,
      level: e.level,
      status: e.status,
      issuingUnit: e.issuingUnit,
      requestingUnit: e.requestingUnit,
      openedAt: e.openedAt.toISOString(),
      missedDueAt: e.missedDueAt.toISOString(),
      minutesLate: Math.max(0, Math.round((end.getTime() - e.missedDueAt.getTime()) / 60000)),
      orderedDueAt: e.orderedDueAt?.toISOString() ?? null,
      orderNote: e.orderNote,
      caseStatus: c.status,
      caseCompletedAt: (e.caseCompletedAt ?? c.completedAt)?.toISOString() ?? null,
      closedAt: e.closedAt?.toISOString() ?? null,
      outcome: e.outcome,
    };
  };

  app.get(
    '/api/v1/escalations',
    {
      schema: {
        tags: ['督办'],
        summary: '督办列表（联席会议办公室）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([
                Type.Literal('open'),
                Type.Literal('ordered'),
                Type.Literal('closed'),
                Type.Literal('active'),
              ]),
            ),
            unit: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '出具单位代码' })),
            level: Type.Optional(Type.Integer({ minimum: 1, maximum: 2, description: '逾期级别' })),
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
          ...errorResponses(400, 403),
        },
      },
    },
    async (req) => {
      requireRole(req, 'supervisor');
      const q = req.query;
      const status = q.status ?? 'active';
      const limit = q.limit ?? 100;
      const where: (SQL | undefined)[] = [
        inArray(escalations.status, status === 'active' ? ['open', 'ordered'] : [status]),
      ];
      if (q.unit) where.push(eq(escalations.issuingUnit, q.unit));
      if (q.level) where.push(eq(escalations.level, q.level));
      if (q.openedFrom) where.push(gte(escalations.openedAt, new Date(q.openedFrom)));
      if (q.openedTo) where.push(lt(escalations.openedAt, new Date(q.openedTo)));
      const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      if (after) where.push(sql`(${escalations.openedAt}, ${escalations.id}) > (${after[0]}, ${after[1]})`);
      // Only the columns the row shows: never the case content, whatever the number of escalations.
      const rows = await db
        .select({
          e: escalations,
          c: { docNumber: cases.docNumber, status: cases.status, completedAt: cases.completedAt },
        })
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

  const load = async (id: string) => {
    const [r] = await db
      .select({ e: escalations, c: cases })
      .from(escalations)
      .innerJoin(cases, eq(cases.id, escalations.caseId))
      .where(eq(escalations.id, id));
    if (!r) throw notFound('未找到该督办');
    return r;
  };

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
      const who = requireRole(req, 'supervisor');
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
        summary: '督办办结（记录处理结果，用于考核问责）',
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
      const who = requireRole(req, 'supervisor');
      const { e } = await load(req.params.id);
      const { key } = await claimIdempotencyKey(db, req, who);
      await gateway.act(
        e.caseId,
        closeEscalationUpdate,
        { actor: actorOf(who), level: e.level as 1 | 2, outcome: req.body.outcome },
        `close-esc-${key}`,
      );
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'escalation.close',
        caseId: e.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { escalation: e.id },
      });
      const r = await load(req.params.id);
      return view(r.e, r.c);
    },
  );
};
