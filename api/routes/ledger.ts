/**
 * The requesting unit's ledger across its cases (台账, Zibo measures Art. 8): supplement requests after a
 * mismatch, material received, on-site checks when department verification failed. Only the caller's
 * own unit's entries (Art. 12), newest first with a keyset cursor; every case whose entries are shown is
 * recorded in the audit log like any other read of case content.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { caseLedger, cases, catalogItems, staff, units } from '../../db/schema.ts';
import { staffOf } from '../plugins/auth.ts';
import { badRequest, forbidden, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const LedgerKind = Type.Union(
  [
    Type.Literal('supplement_requested'),
    Type.Literal('supplement_received'),
    Type.Literal('on_site_check'),
    Type.Literal('note'),
  ],
  { description: '要求补正 / 收到补正材料 / 实地核查 / 备注' },
);

const LedgerItem = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  docNumber: Type.String(),
  catalogCode: Type.String(),
  catalogName: Nullable(Type.String()),
  issuingUnit: Type.String(),
  issuingUnitName: Nullable(Type.String()),
  subject: Type.String({ description: '脱敏后的核验对象' }),
  caseStatus: Type.String(),
  result: Nullable(Type.String()),
  kind: Type.String(),
  note: Type.String(),
  outcome: Nullable(Type.String()),
  recordedBy: Type.String(),
  recordedByName: Nullable(Type.String()),
  at: DateTime,
});

/** Cursor = the last entry's (at with microseconds, id), base64url JSON: stable under inserts. */
const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, id] = value as unknown[];
    if (typeof at !== 'string' || !CURSOR_AT.test(at) || Number.isNaN(Date.parse(at))) return undefined;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return undefined;
    return [at, id];
  } catch {
    return undefined;
  }
}

const encodeCursor = (atUs: string, id: string) =>
  Buffer.from(JSON.stringify([atUs, id])).toString('base64url');

export const ledgerRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/api/v1/ledger',
    {
      schema: {
        tags: ['协查'],
        summary: '本单位台账（第八条）：跨协查查询，按时间倒序，游标分页；查阅留痕',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time', description: '记录时间起（含）' })),
            to: Type.Optional(Type.String({ format: 'date-time', description: '记录时间止（不含）' })),
            kind: Type.Optional(LedgerKind),
            catalogCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '证明事项' })),
            issuingUnit: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '出具单位' })),
            cursor: Type.Optional(Type.String({ maxLength: 400, description: '上一页的 nextCursor' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(LedgerItem), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(403, 422),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const q = req.query;
      const [unit] = await db
        .select({ canRequest: units.canRequest })
        .from(units)
        .where(eq(units.code, who.unitCode));
      if (
        who.unitKind !== 'department' ||
        (who.role !== 'agent' && who.role !== 'liaison') ||
        !unit?.canRequest
      )
        throw forbidden('只有需求单位的联络员或经办人可以查看本单位台账');
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (q.cursor !== undefined && !after)
        throw badRequest('翻页游标无效，请从第一页重新查询', [
          { pointer: '/querystring/cursor', detail: '不是本接口返回的 nextCursor' },
        ]);
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && from.getTime() >= to.getTime())
        throw unprocessable('起始时间须早于截止时间', [
          { pointer: '/querystring/to', detail: '须晚于 from' },
        ]);
      const limit = q.limit ?? 50;
      const where: (SQL | undefined)[] = [
        // Both: entries recorded by this unit, on cases this unit requested (Art. 12).
        eq(caseLedger.recordedUnit, who.unitCode),
        eq(cases.requestingUnit, who.unitCode),
        from ? gte(caseLedger.at, from) : undefined,
        to ? lt(caseLedger.at, to) : undefined,
        q.kind ? eq(caseLedger.kind, q.kind) : undefined,
        q.catalogCode ? eq(cases.catalogCode, q.catalogCode) : undefined,
        q.issuingUnit ? eq(cases.issuingUnit, q.issuingUnit) : undefined,
        after
          ? sql`(${caseLedger.at}, ${caseLedger.id}) < (${after[0]}::timestamptz, ${after[1]})`
          : undefined,
      ];
      const rows = await db
        .select({
          l: caseLedger,
          atUs: sql<string>`to_char(${caseLedger.at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
          docNumber: cases.docNumber,
          catalogCode: cases.catalogCode,
          catalogName: catalogItems.name,
          issuingUnit: cases.issuingUnit,
          issuingUnitName: units.name,
          subject: cases.subjectMasked,
          purpose: cases.purpose,
          caseStatus: cases.status,
          result: cases.result,
          recordedByName: staff.displayName,
        })
        .from(caseLedger)
        .innerJoin(cases, eq(cases.id, caseLedger.caseId))
        .leftJoin(
          catalogItems,
          and(eq(catalogItems.code, cases.catalogCode), eq(catalogItems.version, cases.catalogVersion)),
        )
        .leftJoin(units, eq(units.code, cases.issuingUnit))
        .leftJoin(staff, eq(staff.id, caseLedger.recordedBy))
        .where(and(...where))
        .orderBy(desc(caseLedger.at), desc(caseLedger.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      // One audit row per case whose ledger content is shown, with the case's purpose (Art. 12).
      const shown = new Map<string, { purpose: string; entries: string[] }>();
      for (const r of page) {
        const seen = shown.get(r.l.caseId) ?? { purpose: r.purpose, entries: [] };
        seen.entries.push(r.l.id);
        shown.set(r.l.caseId, seen);
      }
      const filters = Object.fromEntries(Object.entries(q).filter(([k]) => k !== 'cursor'));
      for (const [caseId, s] of shown) {
        await recordAudit(db, {
          actorId: who.id,
          actorUnit: who.unitCode,
          action: 'ledger.read',
          caseId,
          purpose: s.purpose,
          sourceIp: req.ip,
          outcome: 'allowed',
          detail: { entries: s.entries, filters },
        });
      }
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          id: r.l.id,
          caseId: r.l.caseId,
          docNumber: r.docNumber,
          catalogCode: r.catalogCode,
          catalogName: r.catalogName,
          issuingUnit: r.issuingUnit,
          issuingUnitName: r.issuingUnitName,
          subject: r.subject,
          caseStatus: r.caseStatus,
          result: r.result,
          kind: r.l.kind,
          note: r.l.note,
          outcome: r.l.outcome,
          recordedBy: r.l.recordedBy,
          recordedByName: r.recordedByName,
          at: r.l.at.toISOString(),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor(last.atUs, last.l.id) : null,
      };
    },
  );
};
