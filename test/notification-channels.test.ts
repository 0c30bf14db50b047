/**
 * Notification channels against local receivers that check each vendor's documented request: the 钉钉
 * custom robot (markdown, 加签 recomputed from the query's timestamp), the 企业微信 group robot (markdown
 * content), and the SMS gateway template (placeholders, secret header, idempotency id). The outbox: retries
 * with the same idempotency id after a 500, quiet hours held to the next opening (over a weekend), an
 * escalation sent at once, one robot message per event, and the unit's and person's preferences.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../activities/calendar-source.ts';
import type { NotificationRow } from '../activities/case-activities.ts';
import {
  createNotificationDelivery,
  loadNotificationChannels,
  MAX_ATTEMPTS,
  type NotificationChannelsConfig,
} from '../activities/notification-channels.ts';
import { ConfigError, loadConfig } from '../app/config.ts';
import {
  notificationDeliveries,
  notificationPersonPrefs,
  notifications,
  notificationUnitChannels,
} from '../db/schema.ts';
import { databaseTargets, type TestDatabase } from './support/databases.ts';
import { silentLog } from './support/temporal.ts';

interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A vendor stand-in: records each request and answers with the next queued reply (then the default). */
async function receiver(defaultReply: { status: number; body?: unknown }) {
  const received: Received[] = [];
  const replies: { status: number; body?: unknown }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      received.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        rawQuery: (req.url ?? '').split('?')[1] ?? '',
        headers: req.headers,
        body: JSON.parse(raw),
      });
      const reply = replies.shift() ?? defaultReply;
      res.statusCode = reply.status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, replies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const OK = { status: 200, body: { errcode: 0, errmsg: 'ok' } };
const DING_SECRET = 'SEC0123456789abcdef+/=secret';

// Tuesday 1 December 2026, 10:00 in Beijing (office open); Friday 4 December, 22:00 (closed until Monday 09:00).
const OPEN = new Date('2026-12-01T02:00:00Z');
const FRIDAY_NIGHT = new Date('2026-12-04T14:00:00Z');
const MONDAY_OPENING = new Date('2026-12-07T01:00:00Z');

describe.each(databaseTargets())('notification channels on %s', (target) => {
  let database: TestDatabase;
  let ding: Awaited<ReturnType<typeof receiver>>;
  let wecom: Awaited<ReturnType<typeof receiver>>;
  let sms: Awaited<ReturnType<typeof receiver>>;
  let config: NotificationChannelsConfig;
  let seq = 0;

  beforeAll(async () => {
    database = await target.open();
    ding = await receiver(OK);
    wecom = await receiver(OK);
    sms = await receiver({ status: 200, body: { ok: true } });
    config = loadNotificationChannels({
      NOTIFY_DINGTALK_URL: `${ding.base}/robot/send`,
      NOTIFY_DINGTALK_ROBOTS: JSON.stringify({ ga: { accessToken: 'ding-token', secret: DING_SECRET } }),
      NOTIFY_WECOM_URL: `${wecom.base}/cgi-bin/webhook/send`,
      NOTIFY_WECOM_ROBOTS: JSON.stringify({ mz: { key: 'wecom-key-1' } }),
      NOTIFY_SMS_URL: `${sms.base}/sms/send`,
      NOTIFY_SMS_BODY: '{"mobile":"{{phone}}","content":"{{text}}","bizId":"{{id}}","sign":"协查"}',
      NOTIFY_SMS_SECRET_HEADER: 'X-Api-Secret',
      NOTIFY_SMS_SECRET: 'gateway-secret',
    });
    const db = database.db;
    await db.insert(notificationUnitChannels).values([
      { unitCode: 'ZB-GA', channel: 'dingtalk', robot: 'ga', kinds: [], updatedBy: 'stf-admin' },
      {
        unitCode: 'ZB-MZ',
        channel: 'wecom',
        robot: 'mz',
        kinds: ['new_task', 'escalated'],
        updatedBy: 'stf-admin',
      },
    ]);
    await db
      .insert(notificationPersonPrefs)
      .values({ staffId: 'stf-iss-b', phone: '13812345678', smsKinds: ['new_task', 'escalated'] });
  });
  afterAll(async () => {
    await Promise.all([ding?.close(), wecom?.close(), sms?.close()]);
    await database?.dispose();
  });

  const delivery = (clock: () => Date = () => OPEN) =>
    createNotificationDelivery({
      db: database.db,
      calendar: createCalendarSource(database.db),
      config,
      log: silentLog,
      clock,
    });

  /** Notifications of one event as the projection writes them, to the given recipients. */
  async function notify(
    kind: string,
    recipients: { staff?: string; unit: string }[],
    at: Date,
    message = '协查 淄人社协〔2026〕7号 请于 2026-12-01T09:30:00.000Z 前办理',
  ): Promise<NotificationRow[]> {
    seq += 1;
    const eventKey = `case-${seq}:3:${kind}`;
    const rows: NotificationRow[] = recipients.map((r) => {
      const recipientKey = r.staff ?? `unit:${r.unit}`;
      return {
        id: `${eventKey}:${recipientKey}`,
        eventKey,
        recipientKey,
        caseId: `case-${seq}`,
        recipientStaffId: r.staff ?? null,
        recipientUnit: r.unit,
        kind,
        message,
        createdAt: at,
      };
    });
    await database.db.insert(notifications).values(rows);
    return rows;
  }

  const rowsOf = async (rows: NotificationRow[]) =>
    database.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.eventKey, rows[0]?.eventKey ?? ''));

  it('钉钉: one signed markdown message per event to the unit robot, the 加签 recomputed from its timestamp', async () => {
    const d = delivery();
    const rows = await notify(
      'new_task',
      [
        { staff: 'stf-iss-a', unit: 'ZB-GA' },
        { staff: 'stf-iss-a2', unit: 'ZB-GA' },
      ],
      OPEN,
    );
    const before = ding.received.length;
    await d.notifier.deliver(rows);
    await d.notifier.deliver(rows); // a retried projection: nothing new
    expect(await d.drain(OPEN)).toBe(1);
    expect(await d.drain(new Date(OPEN.getTime() + 3_600_000))).toBe(0);
    const got = ding.received.slice(before);
    expect(got).toHaveLength(1);
    const [req] = got;
    if (!req) throw new Error('no request');
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/robot/send');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.query.get('access_token')).toBe('ding-token');
    const timestamp = req.query.get('timestamp') ?? '';
    expect(timestamp).toBe(String(OPEN.getTime()));
    const expected = createHmac('sha256', DING_SECRET)
      .update(`${timestamp}\n${DING_SECRET}`)
      .digest('base64');
    expect(req.query.get('sign')).toBe(expected);
    // URL-encoded in the query: no raw + / = of the base64 survives.
    const rawSign = /(?:^|&)sign=([^&]*)/.exec(req.rawQuery)?.[1] ?? '';
    expect(decodeURIComponent(rawSign)).toBe(expected);
    expect(rawSign).not.toMatch(/[+/=]/);
    expect(req.body).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: '新的协查任务',
        text: expect.stringContaining('协查 淄人社协〔2026〕7号 请于 2026年12月1日 17:30 前办理'),
      },
    });
    expect((req.body.markdown as { text: string }).text).toContain('2026年12月1日 10:00（北京时间）');
    const [row] = await rowsOf(rows);
    expect(row).toMatchObject({ channel: 'dingtalk', recipient: 'unit:ZB-GA', status: 'sent', attempts: 1 });
  });

  it('企业微信: markdown content to the unit robot by its key, only for the kinds the unit chose', async () => {
    const d = delivery();
    const before = wecom.received.length;
    const chosen = await notify(
      'new_task',
      [{ staff: 'stf-iss-b2', unit: 'ZB-MZ' }],
      OPEN,
      '有新的"户籍"协查',
    );
    const other = await notify('answered', [{ staff: 'stf-iss-b2', unit: 'ZB-MZ' }], OPEN);
    await d.notifier.deliver([...chosen, ...other]);
    await d.drain(OPEN);
    const got = wecom.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]?.path).toBe('/cgi-bin/webhook/send');
    expect(got[0]?.query.get('key')).toBe('wecom-key-1');
    expect(got[0]?.body).toEqual({
      msgtype: 'markdown',
      markdown: {
        content: expect.stringMatching(/^\*\*新的协查任务\*\*\n有新的"户籍"协查\n> .*2026年12月1日 10:00/),
      },
    });
    expect(await rowsOf(other)).toEqual([]);
  });

  it('SMS: the gateway template filled, the secret header, and after a 500 a retry with the same idempotency id', async () => {
    const d = delivery();
    const before = sms.received.length;
    sms.replies.push({ status: 500, body: { error: 'busy' } });
    const rows = await notify(
      'new_task',
      [{ staff: 'stf-iss-b', unit: 'ZB-MZ' }],
      OPEN,
      '请办理 "张三" 的协查',
    );
    await d.notifier.deliver(rows);
    await d.drain(OPEN);
    const smsRows = (await rowsOf(rows)).filter((r) => r.channel === 'sms');
    expect(smsRows).toHaveLength(1);
    const [first] = smsRows;
    if (!first) throw new Error('no sms row');
    expect(first).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'HTTP 500',
      recipient: 'stf-iss-b',
    });
    expect(first.nextAttemptAt.getTime()).toBe(OPEN.getTime() + 30_000);
    expect(await d.drain(new Date(OPEN.getTime() + 10_000))).toBe(0); // backoff: not yet
    await d.drain(new Date(OPEN.getTime() + 31_000));
    const got = sms.received.slice(before);
    expect(got).toHaveLength(2);
    for (const req of got) {
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/sms/send');
      expect(req.headers['idempotency-key']).toBe(first.id);
      expect(req.headers['x-api-secret']).toBe('gateway-secret');
      expect(req.body).toEqual({
        mobile: '13812345678',
        content: '【协查核验】新的协查任务：请办理 "张三" 的协查（2026年12月1日 10:00）',
        bizId: first.id,
        sign: '协查',
      });
    }
    const [after] = (await rowsOf(rows)).filter((r) => r.channel === 'sms');
    expect(after).toMatchObject({ id: first.id, status: 'sent', attempts: 2, lastError: null });
    expect(after?.sentAt).toBeInstanceOf(Date);
  });

  it('the person chooses the kinds: no SMS for other kinds, none for a person without preferences', async () => {
    const d = delivery();
    const answered = await notify('answered', [{ staff: 'stf-iss-b', unit: 'ZB-MZ' }], OPEN);
    const colleague = await notify('new_task', [{ staff: 'stf-iss-b2', unit: 'ZB-MZ' }], OPEN);
    await d.notifier.deliver([...answered, ...colleague]);
    expect(await rowsOf(answered)).toEqual([]);
    expect((await rowsOf(colleague)).map((r) => r.channel)).toEqual(['wecom']);
  });

  it('quiet hours: a message of Friday night waits for Monday 09:00; an escalation goes at once', async () => {
    let now = FRIDAY_NIGHT;
    const d = delivery(() => now);
    await d.drain(new Date(FRIDAY_NIGHT.getTime() - 1)); // what the earlier tests left due
    const beforeDing = ding.received.length;
    const task = await notify('new_task', [{ staff: 'stf-iss-a', unit: 'ZB-GA' }], FRIDAY_NIGHT);
    const escalation = await notify('escalated', [{ unit: 'ZB-GA' }], FRIDAY_NIGHT);
    await d.notifier.deliver([...task, ...escalation]);
    expect(await d.drain(FRIDAY_NIGHT)).toBe(1);
    const [held] = await rowsOf(task);
    expect(held).toMatchObject({ status: 'pending', attempts: 0, urgent: false });
    expect(held?.notBefore.toISOString()).toBe(MONDAY_OPENING.toISOString());
    const [urgent] = await rowsOf(escalation);
    expect(urgent).toMatchObject({ status: 'sent', urgent: true });
    expect(ding.received.slice(beforeDing).map((r) => (r.body.markdown as { title: string }).title)).toEqual([
      '逾期督办',
    ]);
    // Saturday noon: still held.
    expect(await d.drain(new Date('2026-12-05T04:00:00Z'))).toBe(0);
    now = MONDAY_OPENING;
    expect(await d.drain(MONDAY_OPENING)).toBe(1);
    expect((await rowsOf(task))[0]).toMatchObject({ status: 'sent' });
    expect(ding.received.slice(beforeDing).map((r) => (r.body.markdown as { title: string }).title)).toEqual([
      '逾期督办',
      '新的协查任务',
    ]);
  });

  it('a robot that refuses (errcode ≠ 0) is retried with backoff, and given up after the last attempt', async () => {
    const d = delivery();
    for (let i = 0; i < MAX_ATTEMPTS; i++)
      ding.replies.push({ status: 200, body: { errcode: 310000, errmsg: 'sign not match' } });
    const rows = await notify('escalated', [{ unit: 'ZB-GA' }], OPEN);
    await d.notifier.deliver(rows);
    let at = OPEN.getTime();
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      expect(await d.drain(new Date(at))).toBe(1);
      at += 3_600_000;
    }
    const [row] = await rowsOf(rows);
    expect(row).toMatchObject({
      status: 'failed',
      attempts: MAX_ATTEMPTS,
      lastError: '错误码 310000：sign not match',
    });
    expect(await d.drain(new Date(at))).toBe(0);
  });

  it('a notification the hook missed is fanned out by the sweep, once', async () => {
    const d = delivery();
    const rows = await notify('escalated', [{ unit: 'ZB-GA' }], OPEN);
    expect(await d.sweep(OPEN)).toBeGreaterThanOrEqual(1);
    await d.notifier.deliver(rows);
    expect(await d.sweep(OPEN)).toBe(0);
    expect(await rowsOf(rows)).toHaveLength(1);
  });
});

describe('notification channel configuration', () => {
  const base = { DATA_DIR: '/tmp/x' };
  it('reads robots and the SMS gateway; names the variable of a bad value', () => {
    const c = loadConfig({
      ...base,
      NOTIFY_DINGTALK_ROBOTS: '{"zb":{"accessToken":"t","secret":"SECx"}}',
      NOTIFY_SMS_URL: 'https://sms.example.gov.cn/send',
    });
    expect(Object.keys(c.notificationChannels.dingtalk.robots)).toEqual(['zb']);
    expect(c.notificationChannels.dingtalk.baseUrl).toBe('https://oapi.dingtalk.com/robot/send');
    expect(c.notificationChannels.wecom.baseUrl).toBe('https://qyapi.weixin.qq.com/cgi-bin/webhook/send');
    expect(c.notificationChannels.sms?.method).toBe('POST');
    const bad = (env: Record<string, string>, variable: string) => {
      try {
        loadConfig({ ...base, ...env });
        throw new Error('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).variable).toBe(variable);
      }
    };
    bad({ NOTIFY_DINGTALK_ROBOTS: 'not json' }, 'NOTIFY_DINGTALK_ROBOTS');
    bad({ NOTIFY_WECOM_ROBOTS: '{"a":{}}' }, 'NOTIFY_WECOM_ROBOTS');
    bad({ NOTIFY_SMS_URL: 'https://x/send', NOTIFY_SMS_BODY: '{"text": {{text}}}' }, 'NOTIFY_SMS_BODY');
    bad({ NOTIFY_SMS_URL: 'ftp://x' }, 'NOTIFY_SMS_URL');
  });
});
