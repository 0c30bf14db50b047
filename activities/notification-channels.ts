/**
 * Messages where clerks are: besides the in-app record (always) and the generic webhook, a notification can
 * reach a unit's group chat through its **钉钉** or **企业微信** group robot, and a person's phone by **SMS**
 * through an HTTP gateway.
 *
 * Delivery is a durable outbox (`notification_deliveries`): a notification is fanned out once (marked in
 * `notification_fanouts`) into one row per event, channel and recipient, following the unit's and the
 * person's preferences; the worker drains due rows with retries and backoff. The row's id is the idempotency
 * id: the SMS gateway receives it (header and body), and a robot gets one message per row, sent once.
 * Outside office hours (the working calendar) a message waits for the next opening; escalations go at once.
 * Tokens and secrets come from configuration only; rows and the delivery log name the robot, never its key.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import {
  notificationDeliveries,
  notificationFanouts,
  notificationPersonPrefs,
  notifications,
  notificationUnitChannels,
  staff,
} from '../db/schema.ts';
import { nextOpening } from '../domain/working-time/index.ts';
import { notificationText } from '../workflows/labels.ts';
import type { CalendarSource } from './calendar-source.ts';
import type { NotificationRow, Notifier } from './case-activities.ts';

export type RobotChannel = 'dingtalk' | 'wecom';
export type DeliveryChannel = RobotChannel | 'sms';
export const DELIVERY_CHANNELS: readonly DeliveryChannel[] = ['dingtalk', 'wecom', 'sms'];

export const CHANNEL_LABELS: Record<DeliveryChannel, string> = {
  dingtalk: '钉钉群机器人',
  wecom: '企业微信群机器人',
  sms: '短信',
};

export const DELIVERY_STATUS_LABELS: Record<string, string> = {
  held: '静默时段暂缓（上班后发送）',
  pending: '待发送',
  retrying: '发送失败，等待重试',
  sent: '已发送',
  failed: '发送失败（已停止重试）',
};

/** Escalation kinds: never held for quiet hours. */
export const URGENT_KINDS: ReadonlySet<string> = new Set(['escalated', 'order_missed', 'escalation_pending']);

export interface NotificationChannelsConfig {
  dingtalk: { baseUrl: string; robots: Record<string, { accessToken: string; secret?: string }> };
  wecom: { baseUrl: string; robots: Record<string, { key: string }> };
  sms?: {
    url: string;
    method: 'POST' | 'PUT';
    /** JSON with {{phone}}, {{text}} and {{id}} placeholders (inside strings). */
    bodyTemplate: string;
    secretHeader?: string;
    secret?: string;
  };
  timeoutMs: number;
}

export const DEFAULT_SMS_BODY = '{"phone":"{{phone}}","text":"{{text}}","requestId":"{{id}}"}';

/** What anyone may see of the configuration: the robots' names and whether SMS is on. */
export function channelNames(c: NotificationChannelsConfig) {
  return {
    dingtalk: Object.keys(c.dingtalk.robots),
    wecom: Object.keys(c.wecom.robots),
    sms: Boolean(c.sms),
  };
}
export type ChannelNames = ReturnType<typeof channelNames>;

export const noChannels = (): NotificationChannelsConfig => ({
  dingtalk: { baseUrl: 'https://oapi.dingtalk.com/robot/send', robots: {} },
  wecom: { baseUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send', robots: {} },
  timeoutMs: 5000,
});

type Env = Record<string, string | undefined>;
const val = (env: Env, name: string) => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

function httpUrl(name: string, value: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(value)) throw new Error(`${name}: must be an http(s) URL, got "${value}"`);
  return value;
}

function robotsFrom<T>(
  env: Env,
  name: string,
  check: (robot: Record<string, unknown>) => T,
): Record<string, T> {
  const raw = val(env, name);
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${name}: must be a JSON object of robots by name`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${name}: must be a JSON object of robots by name`);
  const out: Record<string, T> = {};
  for (const [robot, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(robot))
      throw new Error(`${name}: robot name "${robot}" must be 1-40 letters, digits, _ or -`);
    if (!v || typeof v !== 'object') throw new Error(`${name}: robot ${robot} must be an object`);
    out[robot] = check(v as Record<string, unknown>);
  }
  return out;
}

const str = (name: string, robot: Record<string, unknown>, key: string, required: boolean) => {
  const v = robot[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !v) throw new Error(`${name}: each robot needs a non-empty "${key}"`);
  return v;
};

/** Replaces {{phone}} {{text}} {{id}} with the values escaped for a JSON string. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) =>
    k in values ? JSON.stringify(values[k]).slice(1, -1) : m,
  );
}

/** NOTIFY_* variables (README "Notification channels"); throws an Error naming the variable. */
export function loadNotificationChannels(env: Env): NotificationChannelsConfig {
  const base = noChannels();
  const dingUrl = val(env, 'NOTIFY_DINGTALK_URL');
  const wecomUrl = val(env, 'NOTIFY_WECOM_URL');
  const smsUrl = val(env, 'NOTIFY_SMS_URL');
  const timeout = val(env, 'NOTIFY_TIMEOUT_MS');
  const timeoutMs = timeout === undefined ? 5000 : Number(timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000)
    throw new Error(`NOTIFY_TIMEOUT_MS: must be a whole number from 100 to 60000, got "${timeout}"`);
  let sms: NotificationChannelsConfig['sms'];
  if (smsUrl) {
    const method = (val(env, 'NOTIFY_SMS_METHOD') ?? 'POST').toUpperCase();
    if (method !== 'POST' && method !== 'PUT')
      throw new Error(`NOTIFY_SMS_METHOD: must be POST or PUT, got "${method}"`);
    const bodyTemplate = val(env, 'NOTIFY_SMS_BODY') ?? DEFAULT_SMS_BODY;
    try {
      JSON.parse(fillTemplate(bodyTemplate, { phone: '13800000000', text: '"测试"\n', id: 'x' }));
    } catch {
      throw new Error(
        'NOTIFY_SMS_BODY: must be a JSON template with {{phone}} {{text}} {{id}} inside strings',
      );
    }
    const secret = val(env, 'NOTIFY_SMS_SECRET');
    const secretHeader = val(env, 'NOTIFY_SMS_SECRET_HEADER') ?? (secret ? 'X-Gateway-Secret' : undefined);
    if (secretHeader && !/^[A-Za-z0-9-]{1,64}$/.test(secretHeader))
      throw new Error('NOTIFY_SMS_SECRET_HEADER: must be an HTTP header name');
    sms = { url: httpUrl('NOTIFY_SMS_URL', smsUrl), method, bodyTemplate, secretHeader, secret };
  }
  return {
    dingtalk: {
      baseUrl: dingUrl ? httpUrl('NOTIFY_DINGTALK_URL', dingUrl) : base.dingtalk.baseUrl,
      robots: robotsFrom(env, 'NOTIFY_DINGTALK_ROBOTS', (r) => ({
        accessToken: str('NOTIFY_DINGTALK_ROBOTS', r, 'accessToken', true) as string,
        secret: str('NOTIFY_DINGTALK_ROBOTS', r, 'secret', false),
      })),
    },
    wecom: {
      baseUrl: wecomUrl ? httpUrl('NOTIFY_WECOM_URL', wecomUrl) : base.wecom.baseUrl,
      robots: robotsFrom(env, 'NOTIFY_WECOM_ROBOTS', (r) => ({
        key: str('NOTIFY_WECOM_ROBOTS', r, 'key', true) as string,
      })),
    },
    ...(sms ? { sms } : {}),
    timeoutMs,
  };
}

// ─── Vendors ─────────────────────────────────────────────────────────────────────────────────────────

/** 钉钉 加签: HMAC-SHA256 over `timestamp + "\n" + secret` keyed by the secret, base64 (URL-encoded in the query). */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

export interface OutgoingMessage {
  /** The delivery's id: the idempotency id. */
  id: string;
  title: string;
  text: string;
  createdAtText: string;
}

async function post(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...init.headers },
      body: init.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = (err as Error).name;
    throw new DeliveryFailure(
      name === 'TimeoutError' || name === 'AbortError' ? '请求超时' : '网络错误，无法连接',
    );
  }
}

/** Both robots answer HTTP 200 with `{errcode, errmsg}`; only errcode 0 is a sent message. */
async function robotAnswer(res: Response): Promise<void> {
  if (res.status !== 200) throw new DeliveryFailure(`HTTP ${res.status}`);
  const body = (await res.json().catch(() => undefined)) as
    | { errcode?: unknown; errmsg?: unknown }
    | undefined;
  if (body?.errcode !== 0)
    throw new DeliveryFailure(
      `错误码 ${String(body?.errcode ?? '无')}：${String(body?.errmsg ?? '应答不是 JSON').slice(0, 200)}`,
    );
}

export async function sendDingtalk(
  cfg: NotificationChannelsConfig,
  robotName: string,
  m: OutgoingMessage,
  now: number = Date.now(),
): Promise<void> {
  const robot = cfg.dingtalk.robots[robotName];
  if (!robot) throw new DeliveryFailure(`未配置的钉钉机器人 ${robotName}`, false);
  const url = new URL(cfg.dingtalk.baseUrl);
  url.searchParams.set('access_token', robot.accessToken);
  if (robot.secret) {
    url.searchParams.set('timestamp', String(now));
    url.searchParams.set('sign', dingtalkSign(now, robot.secret));
  }
  const text = `#### ${m.title}\n\n${m.text}\n\n> ${m.createdAtText}（北京时间）`;
  await robotAnswer(
    await post(
      url.toString(),
      { body: JSON.stringify({ msgtype: 'markdown', markdown: { title: m.title, text } }) },
      cfg.timeoutMs,
    ),
  );
}

export async function sendWecom(cfg: NotificationChannelsConfig, robotName: string, m: OutgoingMessage) {
  const robot = cfg.wecom.robots[robotName];
  if (!robot) throw new DeliveryFailure(`未配置的企业微信机器人 ${robotName}`, false);
  const url = new URL(cfg.wecom.baseUrl);
  url.searchParams.set('key', robot.key);
  const content = `**${m.title}**\n${m.text}\n> <font color="comment">${m.createdAtText}（北京时间）</font>`;
  await robotAnswer(
    await post(
      url.toString(),
      { body: JSON.stringify({ msgtype: 'markdown', markdown: { content } }) },
      cfg.timeoutMs,
    ),
  );
}

export const smsText = (m: OutgoingMessage) => `【协查核验】${m.title}：${m.text}（${m.createdAtText}）`;

export async function sendSms(cfg: NotificationChannelsConfig, phone: string, m: OutgoingMessage) {
  const sms = cfg.sms;
  if (!sms) throw new DeliveryFailure('未配置短信网关', false);
  const headers: Record<string, string> = { 'idempotency-key': m.id };
  if (sms.secretHeader && sms.secret) headers[sms.secretHeader] = sms.secret;
  const res = await post(
    sms.url,
    {
      method: sms.method,
      headers,
      body: fillTemplate(sms.bodyTemplate, { phone, text: smsText(m), id: m.id }),
    },
    cfg.timeoutMs,
  );
  // A gateway that already has this id answers 409: the message went out the first time.
  if (res.status === 409) return;
  if (res.status < 200 || res.status >= 300)
    throw new DeliveryFailure(`HTTP ${res.status}`, res.status >= 500 || res.status === 429);
}

// ─── Outbox ──────────────────────────────────────────────────────────────────────────────────────────

export const MAX_ATTEMPTS = 6;
/**
 * How far back the sweep looks: enough to catch a hook lost in a crash (it runs every minute), short enough
 * that configuring a robot later does not send the backlog of a day.
 */
const SWEEP_WINDOW_MS = 3_600_000;
const LEASE_MS = 2 * 60_000;
/** 30 s, 1, 2, 4, 8 minutes… at most an hour. */
export const retryDelayMs = (attempts: number) =>
  Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));

type FanOutRow = Pick<NotificationRow, 'id' | 'eventKey' | 'recipientStaffId' | 'recipientUnit' | 'kind'>;

export interface NotificationDelivery {
  /** A Notifier: fans the rows out into the outbox now (and wakes the drain of this process, if running). */
  notifier: Notifier;
  /** Fans out the notifications of the last hour that no process has fanned out yet (a missed hook). */
  sweep(now?: Date): Promise<number>;
  /** Sends what is due now; returns how many deliveries it tried. */
  drain(now?: Date): Promise<number>;
  start(opts?: { intervalMs?: number; sweepMs?: number }): void;
  stop(): Promise<void>;
}

export function createNotificationDelivery(deps: {
  db: Db;
  calendar: CalendarSource;
  config: NotificationChannelsConfig;
  log: Pick<Logger, 'warn' | 'error' | 'debug'>;
  clock?: () => Date;
}): NotificationDelivery {
  const { db, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const anyChannel = () =>
    Object.keys(config.dingtalk.robots).length > 0 ||
    Object.keys(config.wecom.robots).length > 0 ||
    !!config.sms;

  async function fanOut(rows: FanOutRow[], now: Date): Promise<number> {
    if (!rows.length) return 0;
    const { data } = await deps.calendar.current();
    const opening = nextOpening(now, data);
    const staffIds = [...new Set(rows.map((r) => r.recipientStaffId).filter((s): s is string => !!s))];
    // A person's notification reaches their unit's group too (the row names the person, not always the unit).
    const staffUnit = new Map(
      staffIds.length
        ? (
            await db
              .select({ id: staff.id, unitCode: staff.unitCode })
              .from(staff)
              .where(inArray(staff.id, staffIds))
          ).map((s) => [s.id, s.unitCode])
        : [],
    );
    const unitFor = (r: FanOutRow) =>
      r.recipientUnit ?? (r.recipientStaffId ? staffUnit.get(r.recipientStaffId) : undefined) ?? null;
    const unitCodes = [...new Set(rows.map(unitFor).filter((u): u is string => !!u))];
    const unitPrefs = unitCodes.length
      ? await db
          .select()
          .from(notificationUnitChannels)
          .where(inArray(notificationUnitChannels.unitCode, unitCodes))
      : [];
    const personPrefs = staffIds.length
      ? await db
          .select()
          .from(notificationPersonPrefs)
          .where(inArray(notificationPersonPrefs.staffId, staffIds))
      : [];
    const unitOf = new Map(unitPrefs.map((p) => [p.unitCode, p]));
    const personOf = new Map(personPrefs.map((p) => [p.staffId, p]));
    return db.transaction(async (tx) => {
      let created = 0;
      for (const r of rows) {
        const [marked] = await tx
          .insert(notificationFanouts)
          .values({ notificationId: r.id, at: now })
          .onConflictDoNothing()
          .returning();
        if (!marked) continue;
        const urgent = URGENT_KINDS.has(r.kind);
        const notBefore = urgent ? now : opening;
        const base = {
          notificationId: r.id,
          eventKey: r.eventKey ?? r.id,
          kind: r.kind,
          urgent,
          notBefore,
          nextAttemptAt: notBefore,
          createdAt: now,
        };
        const out: (typeof notificationDeliveries.$inferInsert)[] = [];
        const unitCode = unitFor(r);
        const unit = unitCode ? unitOf.get(unitCode) : undefined;
        if (unit && (unit.kinds.length === 0 || unit.kinds.includes(r.kind)))
          out.push({
            ...base,
            id: randomUUID(),
            channel: unit.channel,
            recipient: `unit:${unit.unitCode}`,
            unitCode: unit.unitCode,
            robot: unit.robot,
          });
        const person = r.recipientStaffId ? personOf.get(r.recipientStaffId) : undefined;
        if (config.sms && person?.phone && person.smsKinds.includes(r.kind))
          out.push({
            ...base,
            id: randomUUID(),
            channel: 'sms',
            recipient: person.staffId,
            unitCode,
          });
        if (out.length) {
          const inserted = await tx
            .insert(notificationDeliveries)
            .values(out)
            .onConflictDoNothing()
            .returning();
          created += inserted.length;
        }
      }
      return created;
    });
  }

  async function sendOne(d: typeof notificationDeliveries.$inferSelect, now: Date): Promise<void> {
    const [n] = await db.select().from(notifications).where(eq(notifications.id, d.notificationId));
    if (!n) throw new DeliveryFailure('通知记录不存在', false);
    const { title, text, createdAtText } = notificationText(n);
    const m = { id: d.id, title, text, createdAtText };
    if (d.channel === 'dingtalk') return sendDingtalk(config, d.robot ?? '', m, now.getTime());
    if (d.channel === 'wecom') return sendWecom(config, d.robot ?? '', m);
    if (d.channel === 'sms') {
      const [p] = await db
        .select()
        .from(notificationPersonPrefs)
        .where(eq(notificationPersonPrefs.staffId, d.recipient));
      if (!p?.phone) throw new DeliveryFailure('收件人未设置手机号', false);
      return sendSms(config, p.phone, m);
    }
    throw new DeliveryFailure(`未知渠道 ${d.channel}`, false);
  }

  async function drain(now: Date = clock()): Promise<number> {
    const due = db
      .select({ id: notificationDeliveries.id })
      .from(notificationDeliveries)
      .where(
        and(eq(notificationDeliveries.status, 'pending'), lte(notificationDeliveries.nextAttemptAt, now)),
      )
      .orderBy(asc(notificationDeliveries.nextAttemptAt))
      .limit(20)
      .for('update', { skipLocked: true });
    // Claimed with a lease: another worker skips them, and a crash mid-send only delays them.
    const claimed = await db
      .update(notificationDeliveries)
      .set({
        attempts: sql`${notificationDeliveries.attempts} + 1`,
        nextAttemptAt: new Date(now.getTime() + LEASE_MS),
      })
      .where(and(inArray(notificationDeliveries.id, due), eq(notificationDeliveries.status, 'pending')))
      .returning();
    for (const d of claimed) {
      try {
        await sendOne(d, now);
        await db
          .update(notificationDeliveries)
          .set({ status: 'sent', sentAt: clock(), lastError: null })
          .where(eq(notificationDeliveries.id, d.id));
      } catch (err) {
        const failure = err instanceof DeliveryFailure ? err : new DeliveryFailure('发送时出错', true);
        if (!(err instanceof DeliveryFailure))
          deps.log.error({ err, delivery: d.id }, 'notification delivery crashed');
        const final = !failure.retryable || d.attempts >= MAX_ATTEMPTS;
        await db
          .update(notificationDeliveries)
          .set({
            status: final ? 'failed' : 'pending',
            lastError: failure.message,
            nextAttemptAt: new Date(now.getTime() + retryDelayMs(d.attempts)),
          })
          .where(eq(notificationDeliveries.id, d.id));
        deps.log.warn(
          { delivery: d.id, channel: d.channel, attempts: d.attempts, final, error: failure.message },
          'notification delivery failed',
        );
      }
    }
    return claimed.length;
  }

  async function sweep(now: Date = clock()): Promise<number> {
    if (!anyChannel()) return 0;
    const rows = await db
      .select({
        id: notifications.id,
        eventKey: notifications.eventKey,
        recipientStaffId: notifications.recipientStaffId,
        recipientUnit: notifications.recipientUnit,
        kind: notifications.kind,
      })
      .from(notifications)
      .leftJoin(notificationFanouts, eq(notificationFanouts.notificationId, notifications.id))
      .where(
        and(
          isNull(notificationFanouts.notificationId),
          sql`${notifications.createdAt} > ${new Date(now.getTime() - SWEEP_WINDOW_MS)}`,
        ),
      )
      .orderBy(asc(notifications.createdAt))
      .limit(500);
    return fanOut(rows as FanOutRow[], now);
  }

  let timer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let started = false;
  const tick = () => {
    running ??= drain()
      .catch((err) => deps.log.error({ err }, 'notification drain failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return {
    notifier: {
      async deliver(rows) {
        if (!anyChannel()) return;
        await fanOut(rows, clock());
        if (started) setImmediate(tick);
      },
    },
    sweep,
    drain,
    start(opts = {}) {
      if (started || !anyChannel()) return;
      started = true;
      timer = setInterval(tick, opts.intervalMs ?? 5000);
      sweepTimer = setInterval(
        () => void sweep().catch((err) => deps.log.error({ err }, 'notification sweep failed')),
        opts.sweepMs ?? 60_000,
      );
      timer.unref();
      sweepTimer.unref();
    },
    async stop() {
      started = false;
      clearInterval(timer);
      clearInterval(sweepTimer);
      await running;
    },
  };
}

/** Several delivery channels as one Notifier: each is tried, one's failure does not stop the others. */
export function allNotifiers(
  list: (Notifier | undefined)[],
  log: Pick<Logger, 'warn'>,
): Notifier | undefined {
  const present = list.filter((n): n is Notifier => !!n);
  if (present.length <= 1) return present[0];
  return {
    async deliver(rows) {
      const results = await Promise.allSettled(present.map((n) => n.deliver(rows)));
      for (const r of results)
        if (r.status === 'rejected') log.warn({ err: r.reason }, 'notification channel failed');
    },
  };
}
