/**
 * The in-app inbox: a person's own notifications and their unit's, newest first, with per-person read
 * state; and the live stream (server-sent events) that pushes case and notification events to the staff
 * of the units concerned. EventSource cannot send an Authorization header and a JWT must not appear in a
 * logged URL, so the stream opens with a single-use ticket valid for 30 seconds.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, count, desc, eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { notificationReads, notifications, streamTickets } from '../../db/schema.ts';
import { beijingTime, notificationTitle, readableText } from '../../workflows/labels.ts';
import { loadStaffContext, type StaffContext, staffOf } from '../plugins/auth.ts';
import { notFound, unauthorized } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { decodeCursor, encodeCursor } from '../services/cursor.ts';
import type { LiveEvent, LiveEvents } from '../services/live-events.ts';

export const TICKET_TTL_MS = 30_000;
const HEARTBEAT_MS = 20_000;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

const NotificationView = Type.Object({
  id: Type.String(),
  caseId: Nullable(Type.String()),
  kind: Type.String(),
  title: Type.String({ description: '通知类别（中文）' }),
  message: Type.String({ description: '通知内容：时间为北京时间，代码均为中文' }),
  scope: Type.Union([Type.Literal('personal'), Type.Literal('unit')], {
    description: '发给本人 / 发给本单位',
  }),
  createdAt: DateTime,
  createdAtText: Type.String({ description: '发送时间（北京时间）' }),
  readAt: Nullable(DateTime),
});

const hashTicket = (ticket: string) => createHash('sha256').update(ticket).digest('hex');

/**
 * Rows addressed to the person or to their unit — one per event: a unit-wide row is left out for a
 * person who has their own row of the same event (rows written before notifications were per person).
 */
const addressedTo = (who: StaffContext) =>
  or(
    eq(notifications.recipientStaffId, who.id),
    and(
      isNull(notifications.recipientStaffId),
      eq(notifications.recipientUnit, who.unitCode),
      sql`not exists (select 1 from notifications as own where own.recipient_staff_id = ${who.id}
        and own.case_id is not distinct from notifications.case_id and own.kind = notifications.kind
        and own.created_at = notifications.created_at)`,
    ),
  );

/** Is this event for this person? Case events go to the case's units; admins see no case traffic. */
export function eventConcerns(who: StaffContext, e: LiveEvent): boolean {
  if (e.type === 'case') return who.role !== 'admin' && e.units.includes(who.unitCode);
  if (e.type === 'resync') return true;
  return e.recipientStaffId === who.id || e.recipientUnit === who.unitCode;
}

/** What the browser receives: routing data (units, recipients) stays on the server. */
function clientEvent(e: LiveEvent) {
  if (e.type === 'case')
    return {
      type: e.type,
      caseId: e.caseId,
      eventType: e.eventType,
      status: e.status,
      docNumber: e.docNumber,
    };
  if (e.type === 'resync') return { type: e.type, reason: e.reason };
  return {
    type: e.type,
    id: e.id,
    caseId: e.caseId,
    kind: e.kind,
    title: notificationTitle(e.kind),
    message: readableText(e.message),
    createdAt: e.createdAt,
    createdAtText: beijingTime(e.createdAt),
  };
}

/** Events each API instance keeps for streams that reconnect (see resumeFrames). */
const REPLAY_EVENTS = 1000;

interface StreamClient {
  who: StaffContext;
  sessionVersion: number;
  raw: ServerResponse;
  close(): void;
}

export const notificationRoutes: FastifyPluginAsyncTypebox<{ db: Db; events: LiveEvents }> = async (
  app,
  { db, events },
) => {
  app.get(
    '/api/v1/notifications',
    {
      schema: {
        tags: ['通知'],
        summary: '我的通知（本人和本单位的，新的在前）与未读数',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            unreadOnly: Type.Optional(Type.Boolean()),
            cursor: Type.Optional(Type.String({ maxLength: 300 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(NotificationView),
            unreadCount: Type.Integer(),
            nextCursor: Nullable(Type.String()),
          }),
          ...errorResponses(),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const limit = req.query.limit ?? 50;
      const readJoin = and(
        eq(notificationReads.notificationId, notifications.id),
        eq(notificationReads.staffId, who.id),
      );
      const where: (SQL | undefined)[] = [addressedTo(who)];
      if (req.query.unreadOnly) where.push(isNull(notificationReads.staffId));
      const after = req.query.cursor !== undefined ? decodeCursor(req.query.cursor) : undefined;
      if (after)
        where.push(
          or(
            lt(notifications.createdAt, after[0]),
            and(eq(notifications.createdAt, after[0]), lt(notifications.id, after[1])),
          ),
        );
      const rows = await db
        .select({ n: notifications, readAt: notificationReads.readAt })
        .from(notifications)
        .leftJoin(notificationReads, readJoin)
        .where(and(...where))
        .orderBy(desc(notifications.createdAt), desc(notifications.id))
        .limit(limit + 1);
      const [unread] = await db
        .select({ n: count() })
        .from(notifications)
        .leftJoin(notificationReads, readJoin)
        .where(and(addressedTo(who), isNull(notificationReads.staffId)));
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(({ n, readAt }) => ({
          id: n.id,
          caseId: n.caseId,
          kind: n.kind,
          title: notificationTitle(n.kind),
          message: readableText(n.message),
          scope: n.recipientStaffId ? ('personal' as const) : ('unit' as const),
          createdAt: n.createdAt.toISOString(),
          createdAtText: beijingTime(n.createdAt.toISOString()),
          readAt: readAt?.toISOString() ?? null,
        })),
        unreadCount: Number(unread?.n ?? 0),
        nextCursor: rows.length > limit && last ? encodeCursor(last.n.createdAt, last.n.id) : null,
      };
    },
  );

  app.post(
    '/api/v1/notifications/:id/read',
    {
      schema: {
        tags: ['通知'],
        summary: '标记为已读（本单位的通知只对本人标记）',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) }),
        response: { 200: Type.Object({ id: Type.String(), readAt: DateTime }), ...errorResponses(404) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const [n] = await db
        .select({ id: notifications.id, recipientStaffId: notifications.recipientStaffId })
        .from(notifications)
        .where(and(eq(notifications.id, req.params.id), addressedTo(who)));
      if (!n) throw notFound('没有这条通知');
      const now = new Date();
      await db
        .insert(notificationReads)
        .values({ notificationId: n.id, staffId: who.id, readAt: now })
        .onConflictDoNothing();
      if (n.recipientStaffId === who.id)
        await db
          .update(notifications)
          .set({ readAt: now })
          .where(and(eq(notifications.id, n.id), isNull(notifications.readAt)));
      const [read] = await db
        .select({ readAt: notificationReads.readAt })
        .from(notificationReads)
        .where(and(eq(notificationReads.notificationId, n.id), eq(notificationReads.staffId, who.id)));
      return { id: n.id, readAt: (read?.readAt ?? now).toISOString() };
    },
  );

  app.post(
    '/api/v1/notifications/read-all',
    {
      schema: {
        tags: ['通知'],
        summary: '全部已读（本人的和本单位的通知，只对本人标记）',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            marked: Type.Integer({ description: '本次标记为已读的条数' }),
            unreadCount: Type.Integer(),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const now = new Date();
      const marked = await db.transaction(async (tx) => {
        const unread = await tx
          .select({ id: notifications.id })
          .from(notifications)
          .leftJoin(
            notificationReads,
            and(
              eq(notificationReads.notificationId, notifications.id),
              eq(notificationReads.staffId, who.id),
            ),
          )
          .where(and(addressedTo(who), isNull(notificationReads.staffId)));
        let inserted = 0;
        for (let i = 0; i < unread.length; i += 1000) {
          const rows = await tx
            .insert(notificationReads)
            .values(
              unread.slice(i, i + 1000).map((n) => ({ notificationId: n.id, staffId: who.id, readAt: now })),
            )
            .onConflictDoNothing()
            .returning({ id: notificationReads.notificationId });
          inserted += rows.length;
        }
        await tx
          .update(notifications)
          .set({ readAt: now })
          .where(and(eq(notifications.recipientStaffId, who.id), isNull(notifications.readAt)));
        return inserted;
      });
      return { marked, unreadCount: 0 };
    },
  );

  // ─── Live stream ───────────────────────────────────────────────────────────────────────────────

  app.post(
    '/api/v1/stream/ticket',
    {
      schema: {
        tags: ['通知'],
        summary: '取得实时推送的一次性票据（30 秒内使用）',
        security: [{ bearer: [] }],
        response: {
          201: Type.Object({
            ticket: Type.String(),
            expiresAt: DateTime,
            url: Type.String({ description: '用 EventSource 打开的地址' }),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      const ticket = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + TICKET_TTL_MS);
      await db.delete(streamTickets).where(lt(streamTickets.expiresAt, new Date()));
      await db
        .insert(streamTickets)
        .values({ ticketHash: hashTicket(ticket), staffId: who.id, sessionVersion: req.user.sv, expiresAt });
      return reply
        .code(201)
        .send({ ticket, expiresAt: expiresAt.toISOString(), url: `/api/v1/stream?ticket=${ticket}` });
    },
  );

  const clients = new Set<StreamClient>();
  // Every event gets an SSE id: this instance's epoch and a counter. The last REPLAY_EVENTS are kept, so a
  // stream reopened on the same instance (Last-Event-ID, or ?lastEventId= after a new ticket) gets what it
  // missed; one that cannot be resumed (another API instance, a restart, too far behind) gets `resync`.
  const epoch = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let counter = 0;
  const recent: { n: number; event: LiveEvent; frame: string }[] = [];
  const frame = (id: string, e: LiveEvent) =>
    `id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify(clientEvent(e))}\n\n`;
  const unsubscribe = events.subscribe((e) => {
    const n = ++counter;
    const data = frame(`${epoch}-${n}`, e);
    recent.push({ n, event: e, frame: data });
    if (recent.length > REPLAY_EVENTS) recent.shift();
    for (const c of clients) if (eventConcerns(c.who, e)) c.raw.write(data);
  });
  /** What a stream resuming after `lastEventId` must be sent first: the missed events, or `resync`. */
  const resumeFrames = (lastEventId: string, who: StaffContext): string => {
    const [ep, num] = lastEventId.split('-');
    const n = Number(num);
    const oldest = recent[0]?.n ?? counter + 1;
    if (ep === epoch && Number.isInteger(n) && n <= counter && n + 1 >= oldest)
      return recent
        .filter((r) => r.n > n && eventConcerns(who, r.event))
        .map((r) => r.frame)
        .join('');
    return frame(`${epoch}-${counter}`, { type: 'resync', reason: 'listen_reconnected' });
  };
  // Open streams would keep close() waiting: end them first.
  app.addHook('preClose', async () => {
    for (const c of clients) c.close();
  });
  app.addHook('onClose', async () => {
    unsubscribe();
  });

  /** Still the same, active session? (Logout or deactivation ends the stream.) */
  const stillValid = async (c: StreamClient) => {
    const ctx = await loadStaffContext(db, c.who.id);
    return !!ctx && ctx.active && ctx.sessionVersion === c.sessionVersion;
  };

  app.get(
    '/api/v1/stream',
    {
      config: { public: true },
      schema: {
        tags: ['通知'],
        summary:
          '实时推送（text/event-stream）：本单位协查的变化（event: case）和通知（event: notification）',
        querystring: Type.Object(
          {
            ticket: Type.String({
              minLength: 20,
              maxLength: 100,
              description: 'POST /api/v1/stream/ticket 取得',
            }),
            lastEventId: Type.Optional(
              Type.String({
                maxLength: 100,
                description:
                  '重新连接时带上收到的最后一个事件 id（或 Last-Event-ID 头）：补发错过的事件，无法补发时先发 event: resync（请重新拉取）',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
        response: {
          200: { description: '事件流', content: { 'text/event-stream': { schema: Type.String() } } },
          ...errorResponses(),
        },
      },
    },
    async (req, reply) => {
      const [t] = await db
        .delete(streamTickets)
        .where(eq(streamTickets.ticketHash, hashTicket(req.query.ticket)))
        .returning();
      const ctx = t && t.expiresAt.getTime() > Date.now() ? await loadStaffContext(db, t.staffId) : undefined;
      if (!t || !ctx?.active || ctx.sessionVersion !== t.sessionVersion || ctx.mustChangePassword)
        throw unauthorized('票据无效、已使用或已过期，请重新取得');
      const { sessionVersion, active: _a, ...who } = ctx;

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
        connection: 'keep-alive',
      });
      raw.write(
        `retry: 5000\nevent: ready\ndata: ${JSON.stringify({ staffId: who.id, unitCode: who.unitCode })}\n\n`,
      );
      const lastEventId = req.query.lastEventId ?? req.headers['last-event-id'];
      if (typeof lastEventId === 'string' && lastEventId) raw.write(resumeFrames(lastEventId, who));

      const socket = raw.socket;
      let timer: NodeJS.Timeout | undefined;
      const client: StreamClient = {
        who,
        sessionVersion,
        raw,
        close() {
          if (!clients.delete(client)) return;
          clearInterval(timer);
          // One long response per connection: its socket goes with it once the end is written, or after
          // a second if the client stopped reading (it would otherwise keep close() waiting).
          raw.end(() => socket?.destroy());
          setTimeout(() => socket?.destroy(), 1000).unref();
        },
      };
      clients.add(client);
      timer = setInterval(() => {
        stillValid(client)
          .then((ok) => (ok ? raw.write(': keep-alive\n\n') : client.close()))
          .catch(() => client.close());
      }, HEARTBEAT_MS);
      timer.unref();
      raw.on('close', () => client.close());
    },
  );
};
