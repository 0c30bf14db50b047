/**
 * The audit log for the joint-meeting office (Art. 10, 12): who read or did what, when, from where and
 * why, filtered by case, person and period, newest first with a cursor. Reading the log is itself
 * audited. The chain is verified by `npm run audit:verify` (app/audit-verify.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { auditLog } from '../../db/schema.ts';
import { requireRole } from '../plugins/auth.ts';
import { unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { type AuditOutcome, recordAudit } from '../services/audit.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actorId: Nullable(Type.String()),
  actorUnit: Nullable(Type.String()),
  action: Type.String(),
  caseId: Nullable(Type.String()),
  purpose: Nullable(Type.String()),
  sourceIp: Nullable(Type.String()),
  outcome: Type.Union([
    Type.Literal('allowed'),
    Type.Literal('denied'),
    Type.Literal('attempted'),
    Type.Literal('error'),
  ]),
  detail: Type.Record(Type.String(), Type.Unknown()),
  hash: Type.String({
    description: '本行的链式校验码（HMAC-SHA-256，密钥不在数据库中；覆盖内容与上一行的校验码）',
  }),
});

export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['督办'],
        summary: '审计日志查询（联席会议办公室）：按协查、人员、时间段，倒序分页',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            caseId: Type.Optional(Type.String({ minLength: 1, maxLength: 160 })),
            actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            action: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            outcome: Type.Optional(
              Type.Union([
                Type.Literal('allowed'),
                Type.Literal('denied'),
                Type.Literal('attempted'),
                Type.Literal('error'),
              ]),
            ),
            from: Type.Optional(Type.String({ format: 'date-time', description: '起（含）' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: '止（不含）' })),
            cursor: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: Number.MAX_SAFE_INTEGER,
                description: '上一页的 nextCursor：只看 id 小于它的行',
              }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(AuditEntry), nextCursor: Nullable(Type.Integer()) }),
          ...errorResponses(403, 422),
        },
      },
    },
    async (req) => {
      const who = requireRole(req, 'supervisor');
      const q = req.query;
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && from.getTime() >= to.getTime()) {
        throw unprocessable('起始时间须早于截止时间', [
          { pointer: '/querystring/to', detail: '须晚于 from' },
        ]);
      }
      const limit = q.limit ?? 100;
      const where: (SQL | undefined)[] = [
        q.caseId ? eq(auditLog.caseId, q.caseId) : undefined,
        q.actorId ? eq(auditLog.actorId, q.actorId) : undefined,
        q.action ? eq(auditLog.action, q.action) : undefined,
        q.outcome ? eq(auditLog.outcome, q.outcome) : undefined,
        from ? gte(auditLog.at, from) : undefined,
        to ? lt(auditLog.at, to) : undefined,
        q.cursor ? lt(auditLog.id, q.cursor) : undefined,
      ];
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(limit + 1);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'audit.query',
        caseId: q.caseId ?? null,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: Object.fromEntries(Object.entries(q).filter(([k]) => k !== 'caseId')),
      });
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          actorId: r.actorId,
          actorUnit: r.actorUnit,
          action: r.action,
          caseId: r.caseId,
          purpose: r.purpose,
          sourceIp: r.sourceIp,
          outcome: r.outcome as AuditOutcome,
          detail: r.detail,
          hash: r.hash,
        })),
        nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
      };
    },
  );
};
