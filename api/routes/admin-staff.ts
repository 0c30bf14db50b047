/**
 * The staff registry (Art. 6). Administrators create people (with an issued password that must be
 * changed at first login), change role, unit and status, and reset passwords. A unit's liaison keeps its
 * own staff's A/B partners and absences; an absence that covers now hands the person's registered cases
 * to their A/B partner ("B acting for A" on the case timeline).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, eq, gt, ilike, or, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { staff, staffAbsences, units } from '../../db/schema.ts';
import { liaisonDuty } from '../../db/staffing.ts';
import { hashPassword, requireRole, type StaffContext, type StaffRole } from '../plugins/auth.ts';
import { conflict, forbidden, notFound, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { actsAsLiaison } from '../services/acting-liaison.ts';
import type { CaseGateway } from '../services/case-gateway.ts';
import {
  auditedWrite,
  handOverOpenCases,
  issuedPassword,
  type StaffRow,
  scheduleAbsence,
  staffView,
} from '../services/reference-data.ts';
import { UnitCode } from './admin-units.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

const Role = Type.Union(
  [
    Type.Literal('liaison'),
    Type.Literal('agent'),
    Type.Literal('supervisor'),
    Type.Literal('admin'),
    Type.Literal('reviewer'),
  ],
  {
    description:
      'liaison 联络员、agent 经办人（部门）；supervisor 督办、admin 管理员（联席办）；reviewer 市政府督查（只读查阅督办）',
  },
);
const StaffId = Type.String({ minLength: 1, maxLength: 128 });

const StaffView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  unitCode: Type.String(),
  role: Role,
  partnerId: Nullable(Type.String()),
  active: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  lockedUntil: Nullable(DateTime),
  isDemo: Type.Boolean(),
  isLeader: Type.Boolean({ description: '单位负责人：本单位督办升为第二级时收到通知' }),
  createdAt: DateTime,
});

const HandOver = Type.Object({
  toStaffId: Nullable(Type.String()),
  toName: Nullable(Type.String()),
  caseIds: Type.Array(Type.String(), { description: '已转交给A/B角的在办协查' }),
  failed: Type.Integer(),
  warning: Nullable(Type.String()),
});

const AbsenceView = Type.Object({
  id: Type.String(),
  staffId: Type.String(),
  startsAt: DateTime,
  endsAt: DateTime,
  reason: Nullable(Type.String()),
  recordedBy: Type.String(),
});

const absenceView = (a: typeof staffAbsences.$inferSelect) => ({
  id: a.id,
  staffId: a.staffId,
  startsAt: a.startsAt.toISOString(),
  endsAt: a.endsAt.toISOString(),
  reason: a.reason,
  recordedBy: a.recordedBy,
});

const DEPARTMENT_ROLES: StaffRole[] = ['liaison', 'agent'];

async function unitForRole(db: Db, unitCode: string, role: StaffRole, pointer: string) {
  const [unit] = await db.select().from(units).where(eq(units.code, unitCode));
  if (!unit) throw unprocessable('单位不存在', [{ pointer, detail: '单位不存在' }]);
  const fits =
    unit.kind === 'department' ? DEPARTMENT_ROLES.includes(role) : !DEPARTMENT_ROLES.includes(role);
  if (!fits)
    throw unprocessable(
      unit.kind === 'department'
        ? '部门的人员只能是联络员或经办人'
        : '联席会议办公室的人员只能是督办人员、管理员或市政府督查',
      [{ pointer: '/body/role', detail: '角色与单位类型不符' }],
    );
  return unit;
}

/**
 * The unit's own liaison, or an administrator, may keep the unit's A/B partners and absences; while every
 * liaison of the unit is absent, its backup liaison (联络员B角) holds that duty (Art. 6).
 */
async function requireUnitKeeper(db: Db, who: StaffContext, unitCode: string) {
  if (who.role === 'admin') return;
  if (who.unitCode === unitCode && (await actsAsLiaison(db, who))) return;
  throw forbidden('只有本单位联络员（缺岗时为联络员B角）或管理员可以维护本单位人员的A/B角和缺岗');
}

async function unitMember(db: Db, unitCode: string, id: string): Promise<StaffRow> {
  const [person] = await db.select().from(staff).where(eq(staff.id, id));
  if (!person || person.unitCode !== unitCode) throw notFound('本单位没有这名人员');
  return person;
}

export const adminStaffRoutes: FastifyPluginAsyncTypebox<{ db: Db; gateway: CaseGateway }> = async (
  app,
  { db, gateway },
) => {
  app.get(
    '/api/v1/admin/staff',
    {
      schema: {
        tags: ['管理：人员'],
        summary: '人员列表（管理员；按用户名排序，游标分页）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            unitCode: Type.Optional(UnitCode),
            role: Type.Optional(Role),
            active: Type.Optional(Type.Boolean()),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: '用户名或姓名包含' })),
            cursor: Type.Optional(
              Type.String({
                pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
                description: '上一页的 nextCursor（最后一人的用户名）',
              }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(StaffView), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const q = req.query;
      const limit = q.limit ?? 100;
      const where: (SQL | undefined)[] = [];
      if (q.unitCode) where.push(eq(staff.unitCode, q.unitCode));
      if (q.role) where.push(eq(staff.role, q.role));
      if (q.active !== undefined) where.push(eq(staff.active, q.active));
      if (q.q) {
        const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        where.push(or(ilike(staff.username, like), ilike(staff.displayName, like)));
      }
      if (q.cursor) where.push(gt(staff.username, q.cursor));
      const rows = await db
        .select()
        .from(staff)
        .where(and(...where))
        .orderBy(asc(staff.username))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return {
        items: page.map(staffView),
        nextCursor: rows.length > limit ? (page[page.length - 1]?.username ?? null) : null,
      };
    },
  );

  app.post(
    '/api/v1/admin/staff',
    {
      schema: {
        tags: ['管理：人员'],
        summary: '新增人员（管理员）：返回一次性初始密码，首次登录须修改',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            username: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$' }),
            displayName: Type.String({ minLength: 1, maxLength: 50 }),
            unitCode: UnitCode,
            role: Role,
            isLeader: Type.Optional(Type.Boolean({ description: '单位负责人' })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            staff: StaffView,
            issuedPassword: Type.String({ description: '初始密码：只显示这一次，请线下交给本人' }),
          }),
          ...errorResponses(403, 409, 413, 415, 422),
        },
      },
    },
    async (req, reply) =>
      auditedWrite(
        db,
        req,
        'admin.staff.create',
        {
          username: req.body.username,
          unitCode: req.body.unitCode,
          role: req.body.role,
          isLeader: req.body.isLeader ?? false,
        },
        async () => {
          requireRole(req, 'admin');
          const b = req.body;
          await unitForRole(db, b.unitCode, b.role, '/body/unitCode');
          const password = issuedPassword(b.username);
          const [created] = await db
            .insert(staff)
            .values({
              id: `stf-${randomUUID()}`,
              username: b.username,
              displayName: b.displayName,
              unitCode: b.unitCode,
              role: b.role,
              isLeader: b.isLeader ?? false,
              passwordHash: await hashPassword(password),
              mustChangePassword: true,
            })
            .onConflictDoNothing()
            .returning();
          if (!created) throw conflict(`用户名 ${b.username} 已被使用`, 'username_taken');
          return reply.code(201).send({ staff: staffView(created), issuedPassword: password });
        },
      ),
  );

  app.patch(
    '/api/v1/admin/staff/:id',
    {
      schema: {
        tags: ['管理：人员'],
        summary: '修改人员（管理员）：姓名、角色、单位、在岗状态、单位负责人、解除锁定',
        description: '停用或调离单位时，其已登记的在办协查转交给A/B角；调离单位时清除其A/B角关系。',
        security: [{ bearer: [] }],
        params: Type.Object({ id: StaffId }),
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
            role: Type.Optional(Role),
            unitCode: Type.Optional(UnitCode),
            active: Type.Optional(Type.Boolean()),
            isLeader: Type.Optional(Type.Boolean({ description: '单位负责人' })),
            unlock: Type.Optional(Type.Literal(true, { description: '解除登录失败锁定' })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: {
          200: Type.Object({ staff: StaffView, handOver: Nullable(HandOver) }),
          ...errorResponses(403, 404, 413, 415, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(
        db,
        req,
        'admin.staff.update',
        { staffId: req.params.id, changes: req.body },
        async (who) => {
          requireRole(req, 'admin');
          const b = req.body;
          const [person] = await db.select().from(staff).where(eq(staff.id, req.params.id));
          if (!person) throw notFound('人员不存在');
          if (person.id === who.id && (b.active === false || (b.role && b.role !== 'admin') || b.unitCode))
            throw unprocessable('不能停用、降级或调离自己的管理员账号', [
              { pointer: '/body', detail: '请由另一名管理员操作' },
            ]);
          const role = b.role ?? person.role;
          const unitCode = b.unitCode ?? person.unitCode;
          if (b.role || b.unitCode) await unitForRole(db, unitCode, role, '/body/unitCode');
          const moves = unitCode !== person.unitCode;
          const leaves = moves || (b.active === false && person.active);
          // Registered cases go to the A/B partner before the person leaves the unit or the service.
          const handOver = leaves ? await handOverOpenCases(db, gateway, req.log, person.id) : null;
          const updated = await db.transaction(async (tx) => {
            if (moves) await tx.update(staff).set({ partnerId: null }).where(eq(staff.partnerId, person.id));
            // A backup liaison who leaves the unit or the service no longer stands in for its liaison.
            if (leaves)
              await tx
                .update(units)
                .set({ backupLiaisonId: null })
                .where(eq(units.backupLiaisonId, person.id));
            const [row] = await tx
              .update(staff)
              .set({
                displayName: b.displayName,
                role: b.role,
                unitCode: b.unitCode,
                active: b.active,
                isLeader: b.isLeader,
                ...(moves ? { partnerId: null } : {}),
                ...(b.unlock ? { failedLogins: 0, lockedUntil: null } : {}),
              })
              .where(eq(staff.id, person.id))
              .returning();
            return row ?? person;
          });
          return { staff: staffView(updated), handOver };
        },
      ),
  );

  app.post(
    '/api/v1/admin/staff/:id/reset-password',
    {
      schema: {
        tags: ['管理：人员'],
        summary: '重置密码（管理员）：返回新的一次性初始密码，本人所有登录失效',
        security: [{ bearer: [] }],
        params: Type.Object({ id: StaffId }),
        response: {
          200: Type.Object({ issuedPassword: Type.String() }),
          ...errorResponses(403, 404, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.staff.reset_password', { staffId: req.params.id }, async () => {
        requireRole(req, 'admin');
        const [person] = await db.select().from(staff).where(eq(staff.id, req.params.id));
        if (!person) throw notFound('人员不存在');
        if (person.isDemo)
          throw unprocessable('演示账号不能重置密码', [{ pointer: '/params/id', detail: '演示账号' }]);
        const password = issuedPassword(person.username);
        await db
          .update(staff)
          .set({
            passwordHash: await hashPassword(password),
            mustChangePassword: true,
            failedLogins: 0,
            lockedUntil: null,
            sessionVersion: person.sessionVersion + 1,
          })
          .where(eq(staff.id, person.id));
        return { issuedPassword: password };
      }),
  );

  // ─── A unit's own staff, kept by its liaison ─────────────────────────────────────────────────

  const UnitStaffParams = Type.Object({ code: UnitCode, id: StaffId });

  app.get(
    '/api/v1/units/:code/staff',
    {
      schema: {
        tags: ['本单位人员'],
        summary: '本单位人员、A/B角及当前和今后的缺岗（本单位联络员或管理员）',
        security: [{ bearer: [] }],
        params: Type.Object({ code: UnitCode }),
        response: {
          200: Type.Object({
            backupLiaisonId: Nullable(Type.String({ description: '本单位的联络员B角' })),
            backupLiaisonActing: Type.Boolean({ description: '联络员此刻均缺岗，由联络员B角代行' }),
            items: Type.Array(
              Type.Intersect([StaffView, Type.Object({ absences: Type.Array(AbsenceView) })]),
            ),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      await requireUnitKeeper(db, requireRole(req, 'liaison', 'agent', 'admin'), req.params.code);
      const [unit] = await db
        .select({ backupLiaisonId: units.backupLiaisonId })
        .from(units)
        .where(eq(units.code, req.params.code));
      const duty = await liaisonDuty(db, req.params.code);
      const people = await db
        .select()
        .from(staff)
        .where(eq(staff.unitCode, req.params.code))
        .orderBy(asc(staff.username));
      const absences = await db
        .select()
        .from(staffAbsences)
        .innerJoin(staff, eq(staff.id, staffAbsences.staffId))
        .where(and(eq(staff.unitCode, req.params.code), gt(staffAbsences.endsAt, new Date())))
        .orderBy(asc(staffAbsences.startsAt));
      return {
        backupLiaisonId: unit?.backupLiaisonId ?? null,
        backupLiaisonActing: duty.backupActing,
        items: people.map((p) => ({
          ...staffView(p),
          absences: absences.filter((a) => a.staff.id === p.id).map((a) => absenceView(a.staff_absences)),
        })),
      };
    },
  );

  app.put(
    '/api/v1/units/:code/staff/:id/partner',
    {
      schema: {
        tags: ['本单位人员'],
        summary: '设置A/B角（本单位联络员或管理员）',
        security: [{ bearer: [] }],
        params: UnitStaffParams,
        body: Type.Object(
          {
            partnerId: Nullable(StaffId),
            mutual: Type.Optional(Type.Boolean({ description: '同时把对方的A/B角设为本人', default: false })),
          },
          { additionalProperties: false },
        ),
        response: { 200: StaffView, ...errorResponses(403, 404, 413, 415, 422) },
      },
    },
    async (req) =>
      auditedWrite(
        db,
        req,
        'unit.staff.partner',
        { unit: req.params.code, staffId: req.params.id, partnerId: req.body.partnerId },
        async (who) => {
          await requireUnitKeeper(db, who, req.params.code);
          const person = await unitMember(db, req.params.code, req.params.id);
          const { partnerId, mutual } = req.body;
          if (partnerId !== null) {
            const [partner] = await db.select().from(staff).where(eq(staff.id, partnerId));
            if (
              !partner ||
              partner.unitCode !== person.unitCode ||
              partner.id === person.id ||
              !partner.active ||
              !DEPARTMENT_ROLES.includes(partner.role)
            )
              throw unprocessable('A/B角须是本单位另一名在岗的经办人或联络员', [
                { pointer: '/body/partnerId', detail: '不是本单位在岗的经办人或联络员' },
              ]);
          }
          return db.transaction(async (tx) => {
            if (mutual && partnerId)
              await tx.update(staff).set({ partnerId: person.id }).where(eq(staff.id, partnerId));
            const [row] = await tx
              .update(staff)
              .set({ partnerId })
              .where(eq(staff.id, person.id))
              .returning();
            return staffView(row ?? person);
          });
        },
      ),
  );

  app.put(
    '/api/v1/units/:code/backup-liaison',
    {
      schema: {
        tags: ['本单位人员'],
        summary: '指定联络员B角（本单位联络员或管理员）：联络员均缺岗时由其代行联络员职责、接收联络员待办',
        security: [{ bearer: [] }],
        params: Type.Object({ code: UnitCode }),
        body: Type.Object(
          { staffId: Nullable(StaffId) },
          { additionalProperties: false, description: 'staffId 为 null 时取消指定' },
        ),
        response: {
          200: Type.Object({ unitCode: Type.String(), backupLiaisonId: Nullable(Type.String()) }),
          ...errorResponses(403, 404, 413, 415, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(
        db,
        req,
        'unit.backup_liaison',
        { unit: req.params.code, staffId: req.body.staffId },
        async (who) => {
          await requireUnitKeeper(db, who, req.params.code);
          const [unit] = await db.select().from(units).where(eq(units.code, req.params.code));
          if (!unit) throw notFound('单位不存在');
          const { staffId } = req.body;
          if (staffId !== null) {
            const [person] = await db.select().from(staff).where(eq(staff.id, staffId));
            if (!person || person.unitCode !== unit.code || !person.active || person.role !== 'agent')
              throw unprocessable('联络员B角须是本单位在岗的经办人', [
                { pointer: '/body/staffId', detail: '不是本单位在岗的经办人' },
              ]);
          }
          await db.update(units).set({ backupLiaisonId: staffId }).where(eq(units.code, unit.code));
          return { unitCode: unit.code, backupLiaisonId: staffId };
        },
      ),
  );

  app.post(
    '/api/v1/units/:code/staff/:id/absences',
    {
      schema: {
        tags: ['本单位人员'],
        summary: '登记缺岗（本单位联络员或管理员）：缺岗开始时其在办协查转交A/B角，结束时交回',
        description:
          '缺岗期间包含当前时刻时立即转交（结果见 handOver）；今后开始的缺岗在开始时自动转交。缺岗结束时，A/B角仍在办的这些协查交回原承办人。',
        security: [{ bearer: [] }],
        params: UnitStaffParams,
        body: Type.Object(
          {
            startsAt: DateTime,
            endsAt: DateTime,
            reason: Type.String({
              minLength: 1,
              maxLength: 200,
              description: '缺岗原因（不写入协查时间线）',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ absence: AbsenceView, handOver: Nullable(HandOver) }),
          ...errorResponses(403, 404, 413, 415, 422),
        },
      },
    },
    async (req, reply) =>
      auditedWrite(
        db,
        req,
        'unit.staff.absence',
        {
          unit: req.params.code,
          staffId: req.params.id,
          startsAt: req.body.startsAt,
          endsAt: req.body.endsAt,
        },
        async (who) => {
          await requireUnitKeeper(db, who, req.params.code);
          const person = await unitMember(db, req.params.code, req.params.id);
          const startsAt = new Date(req.body.startsAt);
          const endsAt = new Date(req.body.endsAt);
          if (endsAt.getTime() <= startsAt.getTime())
            throw unprocessable('缺岗结束时间须晚于开始时间', [
              { pointer: '/body/endsAt', detail: '须晚于开始时间' },
            ]);
          const [absence] = await db
            .insert(staffAbsences)
            .values({
              id: randomUUID(),
              staffId: person.id,
              startsAt,
              endsAt,
              reason: req.body.reason,
              recordedBy: who.id,
            })
            .returning();
          if (!absence) throw new Error('absence insert returned nothing');
          const now = Date.now();
          const coversNow = startsAt.getTime() <= now && endsAt.getTime() > now;
          const handOver = coversNow
            ? await handOverOpenCases(db, gateway, req.log, person.id, `absence:${absence.id}`)
            : null;
          // The rest is durable: a workflow hands over at the start (a future absence) and back at the end.
          // Should this process die before it starts, the next API start schedules every unfinished absence.
          await scheduleAbsence(gateway, req.log, absence, handOver);
          return reply.code(201).send({ absence: absenceView(absence), handOver });
        },
      ),
  );
};
