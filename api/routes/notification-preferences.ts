/**
 * Notification channels (activities/notification-channels.ts): a person's own preferences (SMS to their
 * phone for the kinds they choose; in-app always), a unit's group robot (administrators), and the delivery
 * log administrators read. Robots are named as configured; their tokens and secrets never reach the API.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, type SQL } from 'drizzle-orm';
import { Type } from 'typebox';
import {
  CHANNEL_LABELS,
  type ChannelNames,
  DELIVERY_STATUS_LABELS,
  type DeliveryChannel,
} from '../../activities/notification-channels.ts';
import type { Db } from '../../db/client.ts';
import {
  notificationDeliveries,
  notificationPersonPrefs,
  notificationUnitChannels,
  staff,
  units,
} from '../../db/schema.ts';
import { beijingTime, notificationTitle } from '../../workflows/labels.ts';
import { requireRole } from '../plugins/auth.ts';
import { notFound, type ProblemField, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { decodeCursor, encodeCursor } from '../services/cursor.ts';
import { auditedWrite } from '../services/reference-data.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

/** The kinds a person or unit may choose, with their Chinese titles. */
export const NOTIFICATION_KINDS = [
  'new_task',
  'answered',
  'returned',
  'reclassified',
  'assigned',
  'handed_over',
  'urged',
  'withdrawn',
  'deadline_ordered',
  'retimed',
  'reminder',
  'escalated',
  'order_missed',
  'escalation_pending',
  'handover_failed',
  'auto_check_fallback',
] as const;

const Kind = Type.String({ pattern: '^[a-z_]{1,40}$', description: '通知类别代码（见 kinds）' });
const KindList = Type.Array(Kind, { maxItems: 40, uniqueItems: true });
const KindView = Type.Object({ kind: Type.String(), title: Type.String() });
const kindViews = () => NOTIFICATION_KINDS.map((kind) => ({ kind, title: notificationTitle(kind) }));

function unknownKinds(kinds: readonly string[], pointer: string): ProblemField[] {
  return kinds
    .map((k, i) => ({ k, i }))
    .filter(({ k }) => !(NOTIFICATION_KINDS as readonly string[]).includes(k))
    .map(({ i }) => ({ pointer: `${pointer}/${i}`, detail: '没有这种通知类别' }));
}

/** 13812345678 → 138****5678 */
export const maskPhone = (p: string) => (p.length >= 7 ? `${p.slice(0, 3)}****${p.slice(-4)}` : '****');

const MyPrefs = Type.Object({
  phone: Nullable(Type.String({ description: '接收短信的手机号（仅本人可见）' })),
  smsKinds: Type.Array(Type.String(), { description: '同时以短信发送的通知类别；站内消息始终发送' }),
  smsAvailable: Type.Boolean({ description: '本系统是否配置了短信网关' }),
  kinds: Type.Array(KindView),
});

const RobotChannel = Type.Union([Type.Literal('dingtalk'), Type.Literal('wecom'), Type.Literal('none')], {
  description: 'dingtalk = 钉钉群机器人；wecom = 企业微信群机器人；none = 不发群消息',
});
const UnitChannelView = Type.Object({
  unitCode: Type.String(),
  unitName: Type.String(),
  channel: RobotChannel,
  channelLabel: Type.String(),
  robot: Nullable(Type.String({ description: '配置中的机器人名称（密钥不在此处）' })),
  kinds: Type.Array(Type.String(), { description: '发到群里的通知类别；空 = 全部' }),
  updatedAt: Nullable(DateTime),
});

const DisplayStatus = Type.Union(
  [
    Type.Literal('held'),
    Type.Literal('pending'),
    Type.Literal('retrying'),
    Type.Literal('sent'),
    Type.Literal('failed'),
  ],
  { description: 'held 静默时段暂缓；pending 待发送；retrying 等待重试；sent 已发送；failed 发送失败' },
);
type DisplayStatusCode = 'held' | 'pending' | 'retrying' | 'sent' | 'failed';
const ChannelFilter = Type.Union([Type.Literal('dingtalk'), Type.Literal('wecom'), Type.Literal('sms')]);

const DeliveryView = Type.Object({
  id: Type.String({ description: '投递编号（即发给渠道的幂等编号）' }),
  notificationId: Type.String(),
  channel: Type.String(),
  channelLabel: Type.String(),
  recipient: Type.String(),
  recipientText: Type.String({ description: '单位群（机器人）或人员（手机号已遮盖）' }),
  unitCode: Nullable(Type.String()),
  kind: Type.String(),
  title: Type.String(),
  urgent: Type.Boolean({ description: '督办类：不受静默时段限制' }),
  status: DisplayStatus,
  statusLabel: Type.String(),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  createdAt: DateTime,
  createdAtText: Type.String(),
  notBefore: DateTime,
  notBeforeText: Type.String({ description: '最早发送时间（北京时间）' }),
  sentAt: Nullable(DateTime),
  sentAtText: Nullable(Type.String()),
});

type DeliveryRow = typeof notificationDeliveries.$inferSelect;

function displayStatus(d: DeliveryRow, now: Date): DisplayStatusCode {
  if (d.status !== 'pending') return d.status as DisplayStatusCode;
  if (d.attempts > 0) return 'retrying';
  return d.notBefore > now ? 'held' : 'pending';
}

function statusWhere(status: string, now: Date): SQL | undefined {
  const d = notificationDeliveries;
  if (status === 'sent' || status === 'failed') return eq(d.status, status);
  if (status === 'retrying') return and(eq(d.status, 'pending'), gt(d.attempts, 0));
  if (status === 'held') return and(eq(d.status, 'pending'), eq(d.attempts, 0), gt(d.notBefore, now));
  return and(eq(d.status, 'pending'), eq(d.attempts, 0), lte(d.notBefore, now));
}

export const notificationPreferenceRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  channels: ChannelNames;
  clock: () => Date;
}> = async (app, { db, channels, clock }) => {
  const myPrefs = async (staffId: string) => {
    const [p] = await db
      .select()
      .from(notificationPersonPrefs)
      .where(eq(notificationPersonPrefs.staffId, staffId));
    return {
      phone: p?.phone ?? null,
      smsKinds: p?.smsKinds ?? [],
      smsAvailable: channels.sms,
      kinds: kindViews(),
    };
  };

  app.get(
    '/api/v1/notification-preferences/me',
    {
      schema: {
        tags: ['通知'],
        summary: '我的通知渠道偏好（站内消息始终发送；可选短信）',
        security: [{ bearer: [] }],
        response: { 200: MyPrefs, ...errorResponses(403) },
      },
    },
    async (req) => {
      const who = requireRole(req, 'liaison', 'agent', 'supervisor', 'admin');
      return myPrefs(who.id);
    },
  );

  app.put(
    '/api/v1/notification-preferences/me',
    {
      schema: {
        tags: ['通知'],
        summary: '设置我的通知渠道偏好',
        security: [{ bearer: [] }],
        body: Type.Object(
          {
            phone: Nullable(Type.String({ pattern: '^1[3-9]\\d{9}$', description: '11 位手机号' })),
            smsKinds: KindList,
          },
          { additionalProperties: false },
        ),
        response: { 200: MyPrefs, ...errorResponses(403, 413, 415, 422) },
      },
    },
    async (req) =>
      auditedWrite(
        db,
        req,
        'notification.preferences.update',
        { smsKinds: req.body.smsKinds, phone: req.body.phone ? maskPhone(req.body.phone) : null },
        async () => {
          const who = requireRole(req, 'liaison', 'agent', 'supervisor', 'admin');
          const { phone, smsKinds } = req.body;
          const problems = unknownKinds(smsKinds, '/body/smsKinds');
          if (problems.length) throw unprocessable('有不存在的通知类别', problems);
          if (smsKinds.length && !channels.sms)
            throw unprocessable('本系统未配置短信网关，不能选择短信', [
              { pointer: '/body/smsKinds', detail: '未配置短信网关' },
            ]);
          if (smsKinds.length && !phone)
            throw unprocessable('选择短信通知须填写手机号', [
              { pointer: '/body/phone', detail: '须填写手机号' },
            ]);
          const values = { staffId: who.id, phone, smsKinds, updatedAt: new Date() };
          await db
            .insert(notificationPersonPrefs)
            .values(values)
            .onConflictDoUpdate({
              target: notificationPersonPrefs.staffId,
              set: { phone, smsKinds, updatedAt: values.updatedAt },
            });
          return myPrefs(who.id);
        },
      ),
  );

  const unitViews = async (codes?: string[]) => {
    const unitRows = await db
      .select({ code: units.code, name: units.name })
      .from(units)
      .where(codes ? inArray(units.code, codes) : undefined)
      .orderBy(asc(units.code));
    const prefs = await db.select().from(notificationUnitChannels);
    const of = new Map(prefs.map((p) => [p.unitCode, p]));
    return unitRows.map((u) => {
      const p = of.get(u.code);
      const channel = (p?.channel ?? 'none') as 'dingtalk' | 'wecom' | 'none';
      return {
        unitCode: u.code,
        unitName: u.name,
        channel,
        channelLabel: channel === 'none' ? '不发群消息' : CHANNEL_LABELS[channel],
        robot: p?.robot ?? null,
        kinds: p?.kinds ?? [],
        updatedAt: p?.updatedAt.toISOString() ?? null,
      };
    });
  };

  app.get(
    '/api/v1/notification-preferences/units',
    {
      schema: {
        tags: ['通知'],
        summary: '各单位的群机器人设置与可选的机器人（管理员）',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            items: Type.Array(UnitChannelView),
            robots: Type.Object({ dingtalk: Type.Array(Type.String()), wecom: Type.Array(Type.String()) }),
            smsAvailable: Type.Boolean(),
            kinds: Type.Array(KindView),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'notification.unit_channels.read', {}, async () => {
        requireRole(req, 'admin');
        return {
          items: await unitViews(),
          robots: { dingtalk: channels.dingtalk, wecom: channels.wecom },
          smsAvailable: channels.sms,
          kinds: kindViews(),
        };
      }),
  );

  app.put(
    '/api/v1/notification-preferences/units/:code',
    {
      schema: {
        tags: ['通知'],
        summary: '设置单位的群机器人（管理员）',
        security: [{ bearer: [] }],
        params: Type.Object({ code: Type.String({ pattern: '^[A-Z][A-Z0-9-]{1,31}$' }) }),
        body: Type.Object(
          {
            channel: RobotChannel,
            robot: Type.Optional(Nullable(Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' }))),
            kinds: Type.Optional(KindList),
          },
          { additionalProperties: false },
        ),
        response: { 200: UnitChannelView, ...errorResponses(403, 404, 413, 415, 422) },
      },
    },
    async (req) =>
      auditedWrite(
        db,
        req,
        'notification.unit_channels.update',
        { unit: req.params.code, ...req.body },
        async (who) => {
          requireRole(req, 'admin');
          const code = req.params.code;
          const [unit] = await db.select({ code: units.code }).from(units).where(eq(units.code, code));
          if (!unit) throw notFound('单位不存在');
          const { channel, robot = null, kinds = [] } = req.body;
          if (channel === 'none') {
            await db.delete(notificationUnitChannels).where(eq(notificationUnitChannels.unitCode, code));
          } else {
            const problems = unknownKinds(kinds, '/body/kinds');
            if (problems.length) throw unprocessable('有不存在的通知类别', problems);
            if (!robot || !channels[channel].includes(robot))
              throw unprocessable(
                `没有这个${CHANNEL_LABELS[channel as DeliveryChannel]}：请从已配置的机器人中选择`,
                [{ pointer: '/body/robot', detail: '未配置的机器人' }],
              );
            const set = { channel, robot, kinds, updatedBy: who.id, updatedAt: new Date() };
            await db
              .insert(notificationUnitChannels)
              .values({ unitCode: code, ...set })
              .onConflictDoUpdate({ target: notificationUnitChannels.unitCode, set });
          }
          const [view] = await unitViews([code]);
          if (!view) throw notFound('单位不存在');
          return view;
        },
      ),
  );

  app.get(
    '/api/v1/admin/notification-deliveries',
    {
      schema: {
        tags: ['通知'],
        summary: '消息投递记录（钉钉、企业微信、短信；管理员）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(DisplayStatus),
            channel: Type.Optional(ChannelFilter),
            unit: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9-]{1,31}$' })),
            kind: Type.Optional(Kind),
            from: Type.Optional(DateTime),
            to: Type.Optional(DateTime),
            cursor: Type.Optional(Type.String({ maxLength: 300 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(DeliveryView), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(403),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'notification.deliveries.read', { filters: req.query }, async () => {
        requireRole(req, 'admin');
        const q = req.query;
        const now = clock();
        const d = notificationDeliveries;
        const where: (SQL | undefined)[] = [];
        if (q.status) where.push(statusWhere(q.status, now));
        if (q.channel) where.push(eq(d.channel, q.channel));
        if (q.unit) where.push(eq(d.unitCode, q.unit));
        if (q.kind) where.push(eq(d.kind, q.kind));
        if (q.from) where.push(gte(d.createdAt, new Date(q.from)));
        if (q.to) where.push(lt(d.createdAt, new Date(q.to)));
        const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
        if (after)
          where.push(or(lt(d.createdAt, after[0]), and(eq(d.createdAt, after[0]), lt(d.id, after[1]))));
        const limit = q.limit ?? 50;
        const rows = await db
          .select()
          .from(d)
          .where(and(...where))
          .orderBy(desc(d.createdAt), desc(d.id))
          .limit(limit + 1);
        const page = rows.slice(0, limit);
        const unitCodes = [...new Set(page.map((r) => r.unitCode).filter((u): u is string => !!u))];
        const staffIds = [...new Set(page.filter((r) => r.channel === 'sms').map((r) => r.recipient))];
        const unitNames = new Map(
          unitCodes.length
            ? (await db.select().from(units).where(inArray(units.code, unitCodes))).map((u) => [
                u.code,
                u.name,
              ])
            : [],
        );
        const people = new Map(
          staffIds.length
            ? (
                await db
                  .select({ id: staff.id, name: staff.displayName, phone: notificationPersonPrefs.phone })
                  .from(staff)
                  .leftJoin(notificationPersonPrefs, eq(notificationPersonPrefs.staffId, staff.id))
                  .where(inArray(staff.id, staffIds))
              ).map((p) => [p.id, p])
            : [],
        );
        const recipientText = (r: DeliveryRow) => {
          if (r.channel === 'sms') {
            const p = people.get(r.recipient);
            return `${p?.name ?? r.recipient}（${p?.phone ? maskPhone(p.phone) : '未设置手机号'}）`;
          }
          const name = r.unitCode ? (unitNames.get(r.unitCode) ?? r.unitCode) : r.recipient;
          return `${name}（机器人 ${r.robot ?? '—'}）`;
        };
        const last = page[page.length - 1];
        return {
          items: page.map((r) => {
            const status = displayStatus(r, now);
            return {
              id: r.id,
              notificationId: r.notificationId,
              channel: r.channel,
              channelLabel: CHANNEL_LABELS[r.channel as DeliveryChannel] ?? r.channel,
              recipient: r.recipient,
              recipientText: recipientText(r),
              unitCode: r.unitCode,
              kind: r.kind,
              title: notificationTitle(r.kind),
              urgent: r.urgent,
              status,
              statusLabel: DELIVERY_STATUS_LABELS[status] ?? status,
              attempts: r.attempts,
              lastError: r.lastError,
              createdAt: r.createdAt.toISOString(),
              createdAtText: beijingTime(r.createdAt.toISOString()),
              notBefore: r.notBefore.toISOString(),
              notBeforeText: beijingTime(r.notBefore.toISOString()),
              sentAt: r.sentAt?.toISOString() ?? null,
              sentAtText: r.sentAt ? beijingTime(r.sentAt.toISOString()) : null,
            };
          }),
          nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
        };
      }),
  );
};
