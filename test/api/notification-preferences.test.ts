/**
 * Notification preferences and the delivery log through the API, with the real workflow: an administrator
 * gives the issuing unit a 钉钉 robot, a liaison asks for SMS of new tasks; a new case then reaches the
 * unit's robot and the liaison's phone (local receivers), and the administrator's delivery log shows both
 * in Chinese, Beijing time, paged and filtered. Conventions: 400 schema, 422 rules, 403 audited.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import {
  channelNames,
  createNotificationDelivery,
  loadNotificationChannels,
  type NotificationDelivery,
} from '../../activities/notification-channels.ts';
import { auditLog, notificationDeliveries } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createDevServerEnv, silentLog } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

// Wednesday 2 December 2026, 10:00 in Beijing: the office is open, nothing is held.
const OFFICE_TIME = new Date('2026-12-02T02:00:00Z');

describe.each(databaseTargets())('notification preferences and delivery log on $name', (target) => {
  let database: TestDatabase;
  let h: ApiHarness;
  let delivery: NotificationDelivery;
  const received: { path: string; body: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      received.push({ path: new URL(req.url ?? '/', 'http://x').pathname, body: JSON.parse(raw) });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  const auth: Record<string, string> = {};

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = loadNotificationChannels({
      NOTIFY_DINGTALK_URL: `${base}/robot/send`,
      NOTIFY_DINGTALK_ROBOTS: JSON.stringify({ 'ga-group': { accessToken: 't', secret: 'SECabc' } }),
      NOTIFY_SMS_URL: `${base}/sms`,
    });
    database = await target.open();
    delivery = createNotificationDelivery({
      db: database.db,
      calendar: createCalendarSource(database.db),
      config,
      log: silentLog,
      clock: () => OFFICE_TIME,
    });
    h = await createApiHarness(env, target, {
      database,
      notifier: delivery.notifier,
      notificationChannels: channelNames(config),
    });
    for (const u of ['admin', 'iss-a', 'iss-a-lia', 'req-a']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
    await database?.dispose();
    server.close();
  });

  const call = (who: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload ? { payload } : {}),
    });

  it('an administrator sets a unit’s robot; only configured robots and known kinds; others are refused (403, audited)', async () => {
    const list = await call('admin', 'GET', '/api/v1/notification-preferences/units');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().robots).toEqual({ dingtalk: ['ga-group'], wecom: [] });
    expect(list.json().smsAvailable).toBe(true);
    expect(list.json().items.find((u: { unitCode: string }) => u.unitCode === 'ZB-GA')).toMatchObject({
      channel: 'none',
      channelLabel: '不发群消息',
    });
    expect(JSON.stringify(list.json())).not.toContain('SECabc');

    const set = await call('admin', 'PUT', '/api/v1/notification-preferences/units/ZB-GA', {
      channel: 'dingtalk',
      robot: 'ga-group',
      kinds: ['new_task', 'escalated'],
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({
      unitCode: 'ZB-GA',
      channel: 'dingtalk',
      channelLabel: '钉钉群机器人',
      robot: 'ga-group',
      kinds: ['new_task', 'escalated'],
    });

    const unknownRobot = await call('admin', 'PUT', '/api/v1/notification-preferences/units/ZB-GA', {
      channel: 'wecom',
      robot: 'ga-group',
    });
    expect(unknownRobot.statusCode).toBe(422);
    expect(unknownRobot.json().errors[0].pointer).toBe('/body/robot');
    const unknownKind = await call('admin', 'PUT', '/api/v1/notification-preferences/units/ZB-GA', {
      channel: 'dingtalk',
      robot: 'ga-group',
      kinds: ['coffee_break'],
    });
    expect(unknownKind.statusCode).toBe(422);
    expect(unknownKind.json().errors[0].pointer).toBe('/body/kinds/0');
    const badChannel = await call('admin', 'PUT', '/api/v1/notification-preferences/units/ZB-GA', {
      channel: 'fax',
    });
    expect(badChannel.statusCode).toBe(400);
    expect(JSON.stringify(badChannel.json())).toContain('/body/channel');
    const noUnit = await call('admin', 'PUT', '/api/v1/notification-preferences/units/ZB-NONE', {
      channel: 'none',
    });
    expect(noUnit.statusCode).toBe(404);

    const refused = await call('iss-a-lia', 'PUT', '/api/v1/notification-preferences/units/ZB-GA', {
      channel: 'none',
    });
    expect(refused.statusCode).toBe(403);
    const denied = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'notification.unit_channels.update'), eq(auditLog.outcome, 'denied')));
    expect(denied.map((a) => a.actorId)).toContain('stf-iss-a-lia');
    expect((await call('iss-a', 'GET', '/api/v1/admin/notification-deliveries')).statusCode).toBe(403);
  });

  it('a person sets their own SMS kinds and phone: a phone is required, kinds must exist', async () => {
    const before = await call('iss-a-lia', 'GET', '/api/v1/notification-preferences/me');
    expect(before.statusCode, before.body).toBe(200);
    expect(before.json()).toMatchObject({ phone: null, smsKinds: [], smsAvailable: true });
    expect(before.json().kinds).toContainEqual({ kind: 'new_task', title: '新的协查任务' });

    const noPhone = await call('iss-a-lia', 'PUT', '/api/v1/notification-preferences/me', {
      phone: null,
      smsKinds: ['new_task'],
    });
    expect(noPhone.statusCode).toBe(422);
    expect(noPhone.json().errors[0].pointer).toBe('/body/phone');
    const badPhone = await call('iss-a-lia', 'PUT', '/api/v1/notification-preferences/me', {
      phone: '12345',
      smsKinds: [],
    });
    expect(badPhone.statusCode).toBe(400);
    expect(JSON.stringify(badPhone.json())).toContain('/body/phone');
    const badKind = await call('iss-a-lia', 'PUT', '/api/v1/notification-preferences/me', {
      phone: '13812345678',
      smsKinds: ['nope'],
    });
    expect(badKind.statusCode).toBe(422);

    const ok = await call('iss-a-lia', 'PUT', '/api/v1/notification-preferences/me', {
      phone: '13812345678',
      smsKinds: ['new_task'],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await call('iss-a-lia', 'GET', '/api/v1/notification-preferences/me')).json()).toMatchObject({
      phone: '13812345678',
      smsKinds: ['new_task'],
    });
    // Someone else's preferences are their own: another person still has none.
    expect((await call('iss-a', 'GET', '/api/v1/notification-preferences/me')).json().smsKinds).toEqual([]);
  });

  it('a new case reaches the unit robot once and the liaison by SMS; the log shows both, paged and filtered', async () => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-channels-0001` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const caseId: string = started.json().id;
    const until = Date.now() + 20_000;
    let rows: (typeof notificationDeliveries.$inferSelect)[] = [];
    while (Date.now() < until) {
      rows = (await h.database.db.select().from(notificationDeliveries)).filter((r) =>
        r.eventKey.startsWith(caseId),
      );
      if (rows.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The unit's robot once for the event (though several people of the unit got the task), SMS to the liaison.
    expect(rows.map((r) => `${r.channel}:${r.recipient}`).sort()).toEqual([
      'dingtalk:unit:ZB-GA',
      'sms:stf-iss-a-lia',
    ]);
    expect(await delivery.drain(OFFICE_TIME)).toBe(2);
    expect(received.map((r) => r.path).sort()).toEqual(['/robot/send', '/sms']);

    const log = await call('admin', 'GET', '/api/v1/admin/notification-deliveries');
    expect(log.statusCode, log.body).toBe(200);
    const items = log.json().items;
    expect(items).toHaveLength(2);
    const sms = items.find((i: { channel: string }) => i.channel === 'sms');
    expect(sms).toMatchObject({
      channelLabel: '短信',
      recipientText: '陈静（138****5678）',
      kind: 'new_task',
      title: '新的协查任务',
      status: 'sent',
      statusLabel: '已发送',
      attempts: 1,
      lastError: null,
    });
    expect(sms.sentAtText).toMatch(/^2026年12月2日 10:00$/);
    expect(JSON.stringify(log.json())).not.toContain('13812345678');
    const robot = items.find((i: { channel: string }) => i.channel === 'dingtalk');
    expect(robot).toMatchObject({ channelLabel: '钉钉群机器人', unitCode: 'ZB-GA' });
    expect(robot.recipientText).toContain('机器人 ga-group');

    const onlySms = await call(
      'admin',
      'GET',
      '/api/v1/admin/notification-deliveries?channel=sms&status=sent',
    );
    expect(onlySms.json().items.map((i: { id: string }) => i.id)).toEqual([sms.id]);
    expect(
      (await call('admin', 'GET', '/api/v1/admin/notification-deliveries?status=held')).json().items,
    ).toEqual([]);
    const page1 = await call('admin', 'GET', '/api/v1/admin/notification-deliveries?limit=1');
    expect(page1.json().items).toHaveLength(1);
    const next = page1.json().nextCursor;
    expect(next).toEqual(expect.any(String));
    const page2 = await call('admin', 'GET', `/api/v1/admin/notification-deliveries?limit=1&cursor=${next}`);
    expect(page2.json().items).toHaveLength(1);
    expect(page2.json().items[0].id).not.toBe(page1.json().items[0].id);
    expect(page2.json().nextCursor).toBeNull();
    const badCursor = await call('admin', 'GET', '/api/v1/admin/notification-deliveries?cursor=garbage');
    expect(badCursor.statusCode).toBe(400);
    const badStatus = await call('admin', 'GET', '/api/v1/admin/notification-deliveries?status=lost');
    expect(badStatus.statusCode).toBe(400);
  });
});
