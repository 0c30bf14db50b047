/**
 * Units (administrators of the joint-meeting office): create, update, list; and the staffing-rule report
 * (Art. 6: every participating department has at least 1 liaison and 2 agents).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { asc, eq } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { staff, units } from '../../db/schema.ts';
import { isShanghaiDate } from '../../domain/working-time/index.ts';
import { requireRole } from '../plugins/auth.ts';
import { conflict, notFound, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { auditedWrite, staffingReport, unitView } from '../services/reference-data.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const UnitCode = Type.String({
  pattern: '^[A-Z][A-Z0-9-]{1,31}$',
  description: '单位代码：大写字母、数字和 -，如 ZB-GA',
});
const UnitKind = Type.Union([Type.Literal('department'), Type.Literal('office')], {
  description: 'department = 部门（需求或出具单位）；office = 联席会议办公室',
});

const UnitFields = {
  name: Type.String({ minLength: 2, maxLength: 100 }),
  docPrefix: Type.String({ minLength: 1, maxLength: 20, description: '文号前缀，如 淄公协' }),
  parentCode: Type.Optional(Nullable(UnitCode)),
  kind: Type.Optional(UnitKind),
  canRequest: Type.Optional(Type.Boolean({ description: '可以发起协查' })),
  canIssue: Type.Optional(Type.Boolean({ description: '可以出具证明（接收协查）' })),
  contact: Type.Optional(Nullable(Type.String({ maxLength: 200, description: '联系方式' }))),
};

const UnitView = Type.Object({
  code: Type.String(),
  name: Type.String(),
  docPrefix: Type.String(),
  parentCode: Nullable(Type.String()),
  kind: UnitKind,
  canRequest: Type.Boolean(),
  canIssue: Type.Boolean(),
  contact: Nullable(Type.String()),
  backupLiaisonId: Nullable(Type.String({ description: '联络员B角（本单位经办人，联络员缺岗时代行）' })),
  createdAt: Type.String({ format: 'date-time' }),
});

const CodeParams = Type.Object({ code: UnitCode });

/** The parent must exist and must not be the unit itself or one of its descendants. */
async function checkParent(db: Db, code: string, parentCode: string | null | undefined) {
  if (!parentCode) return;
  const all = await db.select({ code: units.code, parentCode: units.parentCode }).from(units);
  if (!all.some((u) => u.code === parentCode))
    throw unprocessable('上级单位不存在', [{ pointer: '/body/parentCode', detail: '上级单位不存在' }]);
  const parentOf = new Map(all.map((u) => [u.code, u.parentCode]));
  for (let at: string | null | undefined = parentCode; at; at = parentOf.get(at)) {
    if (at === code)
      throw unprocessable('上级单位不能是本单位或其下级单位', [
        { pointer: '/body/parentCode', detail: '形成循环' },
      ]);
  }
}

export const adminUnitRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/api/v1/admin/units',
    {
      schema: {
        tags: ['管理：单位'],
        summary: '单位列表（管理员）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { kind: Type.Optional(UnitKind), canIssue: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(UnitView) }), ...errorResponses(403) },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const rows = await db.select().from(units).orderBy(asc(units.code));
      const items = rows
        .filter((u) => req.query.kind === undefined || u.kind === req.query.kind)
        .filter((u) => req.query.canIssue === undefined || u.canIssue === req.query.canIssue);
      return { items: items.map(unitView) };
    },
  );

  app.post(
    '/api/v1/admin/units',
    {
      schema: {
        tags: ['管理：单位'],
        summary: '新增单位（管理员）',
        security: [{ bearer: [] }],
        body: Type.Object({ code: UnitCode, ...UnitFields }, { additionalProperties: false }),
        response: { 201: UnitView, ...errorResponses(403, 409, 413, 415, 422) },
      },
    },
    async (req, reply) =>
      auditedWrite(db, req, 'admin.unit.create', { unit: req.body.code }, async () => {
        requireRole(req, 'admin');
        const b = req.body;
        await checkParent(db, b.code, b.parentCode);
        const [created] = await db
          .insert(units)
          .values({
            code: b.code,
            name: b.name,
            docPrefix: b.docPrefix,
            parentCode: b.parentCode ?? null,
            kind: b.kind ?? 'department',
            canRequest: b.canRequest ?? b.kind !== 'office',
            canIssue: b.canIssue ?? false,
            contact: b.contact ?? null,
          })
          .onConflictDoNothing()
          .returning();
        if (!created) throw conflict(`单位代码 ${b.code} 已存在`, 'unit_exists');
        return reply.code(201).send(unitView(created));
      }),
  );

  app.patch(
    '/api/v1/admin/units/:code',
    {
      schema: {
        tags: ['管理：单位'],
        summary: '修改单位（管理员；代码不可改）',
        security: [{ bearer: [] }],
        params: CodeParams,
        body: Type.Object(
          {
            name: Type.Optional(UnitFields.name),
            docPrefix: Type.Optional(UnitFields.docPrefix),
            parentCode: UnitFields.parentCode,
            kind: UnitFields.kind,
            canRequest: UnitFields.canRequest,
            canIssue: UnitFields.canIssue,
            contact: UnitFields.contact,
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UnitView, ...errorResponses(403, 404, 413, 415, 422) },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.unit.update', { unit: req.params.code, changes: req.body }, async () => {
        requireRole(req, 'admin');
        const code = req.params.code;
        const [unit] = await db.select().from(units).where(eq(units.code, code));
        if (!unit) throw notFound('单位不存在');
        await checkParent(db, code, req.body.parentCode);
        if (req.body.kind && req.body.kind !== unit.kind) {
          const people = await db.select({ role: staff.role }).from(staff).where(eq(staff.unitCode, code));
          const misfit =
            req.body.kind === 'office' ? ['agent', 'liaison'] : ['supervisor', 'admin', 'reviewer'];
          if (people.some((p) => misfit.includes(p.role)))
            throw unprocessable('单位中有与新类型不符的人员角色，请先调整人员', [
              { pointer: '/body/kind', detail: '与现有人员的角色不符' },
            ]);
        }
        const [updated] = await db.update(units).set(req.body).where(eq(units.code, code)).returning();
        return unitView(updated ?? unit);
      }),
  );

  const Counts = Type.Object({ liaisons: Type.Integer(), agents: Type.Integer() });
  app.get(
    '/api/v1/admin/staffing-report',
    {
      schema: {
        tags: ['管理：单位'],
        summary:
          '人员配备检查（第六条：每个成员单位至少 1 名联络员、2 名经办人）：在册人数与当日在岗人数（北京时间）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            date: Type.Optional(
              Type.String({
                pattern: '^\\d{4}-\\d{2}-\\d{2}$',
                description: '检查哪一天的在岗情况（北京时间日期，默认今天）',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            checkedUnits: Type.Integer(),
            date: Type.String({ description: '在岗情况的日期（北京时间）' }),
            units: Type.Array(
              Type.Object({
                code: Type.String(),
                name: Type.String(),
                registered: Counts,
                available: Counts,
                backupLiaison: Nullable(
                  Type.Object({ id: Type.String(), name: Type.String(), availableToday: Type.Boolean() }),
                ),
                problems: Type.Array(Type.String()),
              }),
              { description: '每个成员单位：在册（在职）人数与当日在岗（在职且未缺岗）人数' },
            ),
            violations: Type.Array(
              Type.Object({
                code: Type.String(),
                name: Type.String(),
                liaisons: Type.Integer({ description: '在册联络员' }),
                agents: Type.Integer({ description: '在册经办人' }),
                available: Counts,
                problems: Type.Array(Type.String()),
              }),
            ),
            warnings: Type.Array(
              Type.Object({ code: Type.String(), name: Type.String(), detail: Type.String() }),
            ),
          }),
          ...errorResponses(403, 422),
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin', 'supervisor');
      const date = req.query.date;
      if (date !== undefined && !isShanghaiDate(date))
        throw unprocessable('日期无效', [{ pointer: '/querystring/date', detail: '不是有效的日期' }]);
      return staffingReport(db, date);
    },
  );
};
