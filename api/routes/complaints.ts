/**
 * Complaints (投诉, Zibo attachment 4): the joint-meeting office accepts a complaint (受理) with the complainant,
 * the channel and its ticket number, and assigns the unit that handles it (指派); that unit answers (办结答复)
 * within 5 working days, or asks once for an extension of at most 5 working days, which the office approves
 * or denies. The complaint's workflow (workflows/complaint.ts) decides and escalates; these routes check who
 * may do what, read the read model (`complaints`, `complaint_events`) and audit every action and refusal.
 *
 * Isolation as for cases: the office (supervisors; administrators read) sees every complaint; a unit sees the
 * complaints assigned to it; anyone else is refused (403, audited). Lists mask the complainant's phone.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, eq, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { cases, complaintEvents, complaints, staff, units } from '../../db/schema.ts';
import {
  COMPLAINT_CHANNELS,
  COMPLAINT_MAX_EXTENSION_DAYS,
  type ComplaintInput,
  complaintAnswerUpdate,
  complaintAssignUpdate,
  complaintDecideExtensionUpdate,
  complaintExtensionUpdate,
} from '../../workflows/complaint-definitions.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { complaintWorkflowId } from '../services/complaint-gateway.ts';
import { decodeCursor, encodeCursor } from '../services/cursor.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';
import { actorOf, type CaseRouteDeps } from './verifications.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Text = (min: number, max: number, description: string) =>
  Type.String({ minLength: min, maxLength: max, description });

const CHANNEL_LABELS: Record<(typeof COMPLAINT_CHANNELS)[number], string> = {
  hotline_12345: '12345 政务服务热线',
  window: '监督服务专窗',
  online: '网上投诉',
  letter: '信函、传真、邮件',
  platform: '证明事项投诉举报平台',
  other: '其他',
};
const STATUS_LABELS: Record<string, string> = {
  accepted: '已受理',
  assigned: '已指派',
  answered: '已办结答复',
};

const Channel = Type.Union(
  COMPLAINT_CHANNELS.map((c) => Type.Literal(c)),
  {
    description: Object.entries(CHANNEL_LABELS)
      .map(([k, v]) => `${k} ${v}`)
      .join('；'),
  },
);
const Person = Type.Object({ id: Type.String(), name: Type.String() });
const Extension = Type.Object({
  days: Type.Integer(),
  reason: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied')]),
  requestedAt: DateTime,
  requestedBy: Person,
  decidedAt: Nullable(DateTime),
  decidedBy: Nullable(Person),
  note: Nullable(Type.String()),
});
const ComplaintView = Type.Object({
  id: Type.String(),
  status: Type.String({ description: 'accepted 已受理；assigned 已指派；answered 已办结答复' }),
  statusLabel: Type.String(),
  unitCode: Type.String({ description: '被投诉单位' }),
  unitName: Type.String(),
  handlingUnit: Nullable(Type.String({ description: '承办单位' })),
  assignee: Nullable(Person),
  channel: Type.String(),
  channelLabel: Type.String(),
  ticketNo: Nullable(Type.String({ description: '渠道工单号（如 12345 工单号）' })),
  relatedCaseId: Nullable(Type.String()),
  relatedDocNumber: Nullable(Type.String({ description: '相关协查文号' })),
  complainantName: Type.String(),
  complainantPhone: Type.String({ description: '列表中脱敏' }),
  content: Type.String(),
  acceptedAt: DateTime,
  acceptedBy: Person,
  assignedAt: Nullable(DateTime),
  dueAt: DateTime,
  originalDueAt: DateTime,
  deadlineFlags: Type.Array(Type.String()),
  extension: Nullable(Extension),
  extensionUsed: Type.Boolean({ description: '已获批延期（仅限一次）' }),
  escalated: Type.Boolean({ description: '逾期已报联席会议办公室督办' }),
  escalatedAt: Nullable(DateTime),
  overdue: Type.Boolean({ description: '已过办结期限未答复，或逾期答复' }),
  answeredAt: Nullable(DateTime),
  answeredBy: Nullable(Person),
  answer: Nullable(Type.String()),
  answeredOnTime: Nullable(Type.Boolean()),
});
const ComplaintDetail = Type.Object({
  complaint: ComplaintView,
  events: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      type: Type.String(),
      at: DateTime,
      actorId: Nullable(Type.String()),
      actorName: Nullable(Type.String()),
      actorUnit: Nullable(Type.String()),
      reason: Nullable(Type.String()),
    }),
  ),
});
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 160 }) });

type Row = typeof complaints.$inferSelect;

/** 13800138000 → 138****8000; short numbers keep their last 2 digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\s/g, '');
  if (digits.length >= 11) return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
  return `${'*'.repeat(Math.max(digits.length - 2, 0))}${digits.slice(-2)}`;
}

interface StoredExtension {
  days: number;
  reason: string;
  status: 'pending' | 'approved' | 'denied';
  requestedAt: string;
  requestedBy: { staffId: string; name: string };
  decidedAt?: string;
  decidedBy?: { staffId: string; name: string };
  note?: string;
  count?: number;
}

function view(r: Row, names: Map<string, string>, docNumber: string | null, masked: boolean, now: Date) {
  const ext = r.extension as StoredExtension | null;
  const person = (id: string | null, name: string | null) => (id ? { id, name: name ?? '' } : null);
  return {
    id: r.id,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status] ?? r.status,
    unitCode: r.unitCode,
    unitName: names.get(r.unitCode) ?? r.unitCode,
    handlingUnit: r.handlingUnit,
    assignee: person(r.assigneeId, r.assigneeName),
    channel: r.channel,
    channelLabel: CHANNEL_LABELS[r.channel as keyof typeof CHANNEL_LABELS] ?? r.channel,
    ticketNo: r.ticketNo,
    relatedCaseId: r.relatedCaseId,
    relatedDocNumber: docNumber,
    complainantName: r.complainantName,
    complainantPhone: masked ? maskPhone(r.complainantPhone) : r.complainantPhone,
    content: r.content,
    acceptedAt: r.acceptedAt.toISOString(),
    acceptedBy: { id: r.acceptedBy, name: r.acceptedByName },
    assignedAt: r.assignedAt?.toISOString() ?? null,
    dueAt: r.dueAt.toISOString(),
    originalDueAt: r.originalDueAt.toISOString(),
    deadlineFlags: r.deadlineFlags,
    extension: ext
      ? {
          days: ext.days,
          reason: ext.reason,
          status: ext.status,
          requestedAt: ext.requestedAt,
          requestedBy: { id: ext.requestedBy.staffId, name: ext.requestedBy.name },
          decidedAt: ext.decidedAt ?? null,
          decidedBy: ext.decidedBy ? { id: ext.decidedBy.staffId, name: ext.decidedBy.name } : null,
          note: ext.note ?? null,
        }
      : null,
    extensionUsed: ext?.status === 'approved',
    escalated: r.escalatedAt !== null,
    escalatedAt: r.escalatedAt?.toISOString() ?? null,
    overdue:
      r.answeredOnTime === false ||
      r.escalatedAt !== null ||
      (r.answeredAt === null && r.dueAt.getTime() < now.getTime()),
    answeredAt: r.answeredAt?.toISOString() ?? null,
    answeredBy: person(r.answeredBy, r.answeredByName),
    answer: r.answer,
    answeredOnTime: r.answeredOnTime,
  };
}

const isOffice = (who: StaffContext) =>
  who.unitKind === 'office' && (who.role === 'supervisor' || who.role === 'admin');

export const complaintRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (app, { db, gateway }) => {
  const audit = (
    req: FastifyRequest,
    who: StaffContext,
    action: string,
    outcome: 'allowed' | 'denied',
    detail: Record<string, unknown>,
    caseId: string | null = null,
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

  /** A refusal, audited, then 403. */
  const deny = async (
    req: FastifyRequest,
    who: StaffContext,
    action: string,
    message: string,
    detail: Record<string, unknown> = {},
  ): Promise<never> => {
    await audit(req, who, action, 'denied', { reason: 'role', role: who.role, ...detail });
    throw forbidden(message);
  };

  const unitNames = async () =>
    new Map(
      (await db.select({ code: units.code, name: units.name }).from(units)).map((u) => [u.code, u.name]),
    );
  const docNumberOf = async (caseId: string | null) => {
    if (!caseId) return null;
    const [c] = await db.select({ doc: cases.docNumber }).from(cases).where(eq(cases.id, caseId));
    return c?.doc ?? null;
  };

  /** The complaint, if the caller may see it: the office, or the unit it is assigned to (403, audited). */
  const load = async (req: FastifyRequest, who: StaffContext, id: string, action: string) => {
    const [r] = await db.select().from(complaints).where(eq(complaints.id, id));
    if (!r) throw notFound('未找到该投诉');
    if (
      !isOffice(who) &&
      !(r.handlingUnit === who.unitCode && (who.role === 'liaison' || who.role === 'agent'))
    )
      await deny(req, who, action, '该投诉未指派给本单位，无权查看或办理', { complaint: id });
    return r;
  };

  const detailOf = async (r: Row, masked = false) => ({
    complaint: view(r, await unitNames(), await docNumberOf(r.relatedCaseId), masked, new Date()),
  });

  /**
   * One action on a complaint: who may (the role check), the read model's state (an answered complaint is
   * closed: 422), then the workflow's Update (its refusals: 403 / 422); audited either way.
   */
  const act = async <I>(
    req: FastifyRequest,
    id: string,
    action: string,
    allowed: (who: StaffContext, r: Row) => boolean,
    roleMessage: string,
    closedMessage: string,
    detail: Record<string, unknown>,
    run: (who: StaffContext, r: Row, key: string) => Promise<I>,
  ) => {
    const who = staffOf(req);
    const r = await load(req, who, id, action);
    if (!allowed(who, r)) await deny(req, who, action, roleMessage, { complaint: r.id });
    const base = { complaint: r.id, ...detail };
    try {
      if (r.status === 'answered')
        throw unprocessable(closedMessage, [{ pointer: '/params/id', detail: '投诉已办结答复' }]);
      const { key } = await claimIdempotencyKey(db, req, who);
      await run(who, r, key);
      await audit(req, who, action, 'allowed', base, r.relatedCaseId);
    } catch (err) {
      if (err instanceof Problem)
        await audit(
          req,
          who,
          action,
          'denied',
          { ...base, status: err.status, reason: err.detail },
          r.relatedCaseId,
        );
      throw err;
    }
    const [fresh] = await db.select().from(complaints).where(eq(complaints.id, r.id));
    return view(fresh ?? r, await unitNames(), await docNumberOf(r.relatedCaseId), false, new Date());
  };

  const tags = ['投诉'];
  const security = [{ bearer: [] }];

  app.post(
    '/api/v1/complaints',
    {
      schema: {
        tags,
        security,
        summary: '受理投诉（联席会议办公室）：5 个工作日内办结，可延期一次、最长 5 个工作日',
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            unitCode: Text(1, 64, '被投诉单位代码'),
            channel: Channel,
            ticketNo: Type.Optional(Text(1, 64, '渠道工单号（12345 热线必填）')),
            relatedCase: Type.Optional(Text(1, 160, '相关协查：协查 ID 或文号')),
            complainant: Type.Object(
              {
                name: Text(1, 50, '投诉人姓名'),
                phone: Type.String({ pattern: '^[0-9+\\- ]{5,20}$', description: '投诉人联系电话' }),
              },
              { additionalProperties: false },
            ),
            content: Text(5, 4000, '投诉内容'),
          },
          { additionalProperties: false },
        ),
        response: { 201: ComplaintView, ...errorResponses(403, 415, 422, 504) },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      if (!(who.unitKind === 'office' && who.role === 'supervisor'))
        await deny(req, who, 'complaint.accept', '只有联席会议办公室的督办人员可以受理投诉');
      const b = req.body;
      const [unit] = await db.select().from(units).where(eq(units.code, b.unitCode));
      if (unit?.kind !== 'department')
        throw unprocessable('被投诉单位不存在', [{ pointer: '/body/unitCode', detail: '不是已登记的单位' }]);
      if (b.channel === 'hotline_12345' && !b.ticketNo)
        throw unprocessable('12345 热线转办的投诉须填写工单号', [
          { pointer: '/body/ticketNo', detail: '12345 热线必填' },
        ]);
      let relatedCaseId: string | undefined;
      if (b.relatedCase) {
        const [c] = await db
          .select({ id: cases.id })
          .from(cases)
          .where(or(eq(cases.id, b.relatedCase), eq(cases.docNumber, b.relatedCase)));
        if (!c)
          throw unprocessable('未找到相关协查', [
            { pointer: '/body/relatedCase', detail: '协查 ID 或文号不存在' },
          ]);
        relatedCaseId = c.id;
      }
      const { key } = await claimIdempotencyKey(db, req, who);
      const input: ComplaintInput = {
        complaintId: complaintWorkflowId(who.unitCode, key),
        acceptedBy: actorOf(who),
        acceptedAt: new Date().toISOString(),
        unitCode: b.unitCode,
        channel: b.channel,
        ...(b.ticketNo ? { ticketNo: b.ticketNo } : {}),
        ...(relatedCaseId ? { relatedCaseId } : {}),
        complainant: { name: b.complainant.name, phone: b.complainant.phone },
        content: b.content,
      };
      const snapshot = await gateway.startComplaint(input, key);
      await audit(
        req,
        who,
        'complaint.accept',
        'allowed',
        {
          complaint: snapshot.complaintId,
          unit: b.unitCode,
          channel: b.channel,
          ticketNo: b.ticketNo ?? null,
        },
        relatedCaseId ?? null,
      );
      const [r] = await db.select().from(complaints).where(eq(complaints.id, snapshot.complaintId));
      if (!r) throw new Problem(500, '内部错误', '投诉已受理，但暂未写入列表，请稍后刷新');
      reply.code(201);
      return view(r, await unitNames(), await docNumberOf(r.relatedCaseId), false, new Date());
    },
  );

  app.get(
    '/api/v1/complaints',
    {
      schema: {
        tags,
        security,
        summary: '投诉列表：联席会议办公室看全部，承办单位看指派给本单位的（电话脱敏）',
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([Type.Literal('accepted'), Type.Literal('assigned'), Type.Literal('answered')]),
            ),
            unit: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '被投诉单位代码' })),
            overdue: Type.Optional(Type.Boolean({ description: '只看逾期（逾期答复或已过期限未答复）' })),
            escalated: Type.Optional(Type.Boolean({ description: '只看已报督办的' })),
            extensionPending: Type.Optional(Type.Boolean({ description: '只看有待审批延期申请的' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 512, description: '上一页返回的 nextCursor' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(ComplaintView), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const q = req.query;
      const where: (SQL | undefined)[] = [];
      if (!isOffice(who)) {
        if (who.role !== 'liaison' && who.role !== 'agent')
          await deny(req, who, 'complaint.list', '您的角色无权查看投诉');
        where.push(eq(complaints.handlingUnit, who.unitCode));
      }
      const now = new Date();
      if (q.status) where.push(eq(complaints.status, q.status));
      if (q.unit) where.push(eq(complaints.unitCode, q.unit));
      // Late answers, unanswered past the deadline, and those the workflow escalated (it did so at the deadline).
      const overdueSql = sql`(${complaints.answeredOnTime} = false or ${complaints.escalatedAt} is not null or (${complaints.answeredAt} is null and ${complaints.dueAt} < ${now.toISOString()}::timestamptz))`;
      if (q.overdue === true) where.push(overdueSql);
      if (q.overdue === false) where.push(sql`not ${overdueSql}`);
      if (q.escalated !== undefined)
        where.push(
          q.escalated ? sql`${complaints.escalatedAt} is not null` : sql`${complaints.escalatedAt} is null`,
        );
      if (q.extensionPending) where.push(sql`${complaints.extension}->>'status' = 'pending'`);
      const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      // Newest first.
      if (after)
        where.push(
          sql`(${complaints.acceptedAt}, ${complaints.id}) < (${after[0].toISOString()}::timestamptz, ${after[1]})`,
        );
      const limit = q.limit ?? 50;
      const rows = await db
        .select()
        .from(complaints)
        .where(and(...where))
        .orderBy(sql`${complaints.acceptedAt} desc`, sql`${complaints.id} desc`)
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const names = await unitNames();
      await audit(req, who, 'complaint.list', 'allowed', { ...q, count: page.length });
      return {
        items: page.map((r) => view(r, names, null, true, now)),
        nextCursor: rows.length > limit && last ? encodeCursor(last.acceptedAt, last.id) : null,
      };
    },
  );

  app.get(
    '/api/v1/complaints/:id',
    {
      schema: {
        tags,
        security,
        summary: '投诉详情及办理经过（每一步的办理人）',
        params: Params,
        response: { 200: ComplaintDetail, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const r = await load(req, who, req.params.id, 'complaint.read');
      const events = await db
        .select()
        .from(complaintEvents)
        .where(eq(complaintEvents.complaintId, r.id))
        .orderBy(asc(complaintEvents.seq));
      await audit(req, who, 'complaint.read', 'allowed', { complaint: r.id }, r.relatedCaseId);
      return {
        ...(await detailOf(r)),
        events: events.map((e) => ({
          seq: e.seq,
          type: e.type,
          at: e.at.toISOString(),
          actorId: e.actorId,
          actorName: e.actorName,
          actorUnit: e.actorUnit,
          reason: e.reason,
        })),
      };
    },
  );

  const officeOnly = (who: StaffContext) => who.unitKind === 'office' && who.role === 'supervisor';
  const handler = (who: StaffContext, r: Row) =>
    r.handlingUnit === who.unitCode && (who.role === 'liaison' || who.role === 'agent');

  app.post(
    '/api/v1/complaints/:id/assign',
    {
      schema: {
        tags,
        security,
        summary: '指派承办单位（及承办人）',
        params: Params,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            unitCode: Text(1, 64, '承办单位代码'),
            assigneeId: Type.Optional(Text(1, 64, '承办人（承办单位的工作人员）')),
            note: Type.Optional(Text(1, 500, '指派说明')),
          },
          { additionalProperties: false },
        ),
        response: { 200: ComplaintView, ...errorResponses(403, 404, 415, 422, 504) },
      },
    },
    (req) =>
      act(
        req,
        req.params.id,
        'complaint.assign',
        officeOnly,
        '只有联席会议办公室可以指派承办单位',
        '该投诉已办结答复，不能再指派',
        { unit: req.body.unitCode, assignee: req.body.assigneeId ?? null },
        async (who, r, key) => {
          const [unit] = await db.select().from(units).where(eq(units.code, req.body.unitCode));
          if (unit?.kind !== 'department')
            throw unprocessable('承办单位不存在', [
              { pointer: '/body/unitCode', detail: '不是已登记的单位' },
            ]);
          let assignee: { staffId: string; name: string } | undefined;
          if (req.body.assigneeId) {
            const [p] = await db
              .select({ id: staff.id, name: staff.displayName, unit: staff.unitCode, active: staff.active })
              .from(staff)
              .where(eq(staff.id, req.body.assigneeId));
            if (!p || p.unit !== unit.code || !p.active)
              throw unprocessable('承办人须为承办单位在岗的工作人员', [
                { pointer: '/body/assigneeId', detail: '不是承办单位的在岗人员' },
              ]);
            assignee = { staffId: p.id, name: p.name };
          }
          return gateway.actOnComplaint(
            r.id,
            complaintAssignUpdate,
            {
              actor: actorOf(who),
              unitCode: unit.code,
              ...(assignee ? { assignee } : {}),
              ...(req.body.note ? { note: req.body.note } : {}),
            },
            `assign-${key}`,
          );
        },
      ),
  );

  app.post(
    '/api/v1/complaints/:id/answer',
    {
      schema: {
        tags,
        security,
        summary: '办结答复（承办单位）：记录办理结果及告知投诉人的情况',
        params: Params,
        headers: IdempotencyHeaders,
        body: Type.Object({ text: Text(2, 4000, '办理结果') }, { additionalProperties: false }),
        response: { 200: ComplaintView, ...errorResponses(403, 404, 415, 422, 504) },
      },
    },
    (req) =>
      act(
        req,
        req.params.id,
        'complaint.answer',
        handler,
        '只有承办单位可以答复该投诉',
        '该投诉已办结答复，不能重复答复',
        {},
        (who, r, key) =>
          gateway.actOnComplaint(
            r.id,
            complaintAnswerUpdate,
            { actor: actorOf(who), text: req.body.text },
            `answer-${key}`,
          ),
      ),
  );

  app.post(
    '/api/v1/complaints/:id/extension',
    {
      schema: {
        tags,
        security,
        summary: `申请延期（承办单位）：仅限一次，最长 ${COMPLAINT_MAX_EXTENSION_DAYS} 个工作日，须说明理由，经联席会议办公室批准`,
        params: Params,
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            days: Type.Integer({ minimum: 1, maximum: 30, description: '延期工作日数（最多 5）' }),
            reason: Text(2, 1000, '延期理由'),
          },
          { additionalProperties: false },
        ),
        response: { 200: ComplaintView, ...errorResponses(403, 404, 415, 422, 504) },
      },
    },
    (req) =>
      act(
        req,
        req.params.id,
        'complaint.extension.request',
        handler,
        '只有承办单位可以申请延期',
        '该投诉已办结答复，不能申请延期',
        { days: req.body.days },
        (who, r, key) => {
          if (req.body.days > COMPLAINT_MAX_EXTENSION_DAYS)
            throw unprocessable(`延期最长不得超过 ${COMPLAINT_MAX_EXTENSION_DAYS} 个工作日`, [
              { pointer: '/body/days', detail: `最多 ${COMPLAINT_MAX_EXTENSION_DAYS} 个工作日` },
            ]);
          return gateway.actOnComplaint(
            r.id,
            complaintExtensionUpdate,
            { actor: actorOf(who), days: req.body.days, reason: req.body.reason },
            `extension-${key}`,
          );
        },
      ),
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post(
      `/api/v1/complaints/:id/extension/${decision}`,
      {
        schema: {
          tags,
          security,
          summary:
            decision === 'approve' ? '批准延期（联席会议办公室）' : '不予延期（联席会议办公室，须说明理由）',
          params: Params,
          headers: IdempotencyHeaders,
          body:
            decision === 'approve'
              ? Type.Object(
                  { note: Type.Optional(Text(1, 500, '审批意见')) },
                  { additionalProperties: false },
                )
              : Type.Object({ note: Text(2, 500, '不予延期的理由') }, { additionalProperties: false }),
          response: { 200: ComplaintView, ...errorResponses(403, 404, 415, 422, 504) },
        },
      },
      (req) =>
        act(
          req,
          req.params.id,
          `complaint.extension.${decision}`,
          officeOnly,
          '只有联席会议办公室可以审批延期',
          '该投诉已办结答复，无需审批延期',
          {},
          (who, r, key) => {
            const note = (req.body as { note?: string }).note;
            return gateway.actOnComplaint(
              r.id,
              complaintDecideExtensionUpdate,
              { actor: actorOf(who), approve: decision === 'approve', ...(note ? { note } : {}) },
              `extension-${decision}-${key}`,
            );
          },
        ),
    );
  }
};
