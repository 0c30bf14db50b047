/**
 * The working calendar through the API: an administrator marks a day in an open case's deadline window
 * as off, and the case's deadline moves (its workflow re-times it: `retimed` on the timeline); reverting
 * the day moves it back; office hours changes touch every open case. On the real dev server and DB.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq, like } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETIME_PENDING_PREFIX } from '../../activities/calendar-activities.ts';
import { CALENDAR_VERSION_KEY } from '../../activities/calendar-source.ts';
import {
  bumpCalendarVersion,
  openCasesTouched,
  recordCalendarChange,
  resumePendingRetimes,
} from '../../api/services/calendar-changes.ts';
import { createCaseGateway } from '../../api/services/case-gateway.ts';
import type { Db } from '../../db/client.ts';
import { calendarDays, calendarSettings, caseEvents, systemMeta } from '../../db/schema.ts';
import { addCalendarDays, shanghaiDateOf } from '../../domain/working-time/index.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, silentLog } from '../support/temporal.ts';
import { recordHistory } from '../workflow/support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(databaseTargets())('the working calendar through the API on $name', (target) => {
  let h: ApiHarness;
  let admin: string;
  let reqA: string;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [admin, reqA] = await Promise.all([h.login('admin'), h.login('req-a')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (auth: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth },
      ...(payload === undefined ? {} : { payload }),
    });
  const dueOf = async (id: string): Promise<string> =>
    (await call(reqA, 'GET', `/api/v1/verifications/${id}`)).json().case.dueAt;
  const version = async () =>
    (await h.database.db.select().from(systemMeta).where(eq(systemMeta.key, CALENDAR_VERSION_KEY)))[0]?.value;

  it('shows where a day’s kind comes from, and refuses bad input and non-administrators', async () => {
    const national = await call(admin, 'GET', '/api/v1/admin/calendar/days/2026-10-01');
    expect(national.statusCode, national.body).toBe(200);
    expect(national.json()).toMatchObject({ kind: 'off', source: 'library', name: '国庆节', override: null });
    const makeUp = (await call(admin, 'GET', '/api/v1/admin/calendar/days/2026-09-20')).json();
    expect(makeUp).toMatchObject({ kind: 'work', source: 'library' });
    const sunday = (await call(admin, 'GET', '/api/v1/admin/calendar/days/2026-11-22')).json();
    expect(sunday).toMatchObject({ kind: 'off', source: 'weekday', guessed: false });

    expect((await call(admin, 'GET', '/api/v1/admin/calendar/days/2026-02-30')).statusCode).toBe(400);
    expect((await call(reqA, 'GET', '/api/v1/admin/calendar/days/2026-10-01')).statusCode).toBe(403);
    expect(
      (await call(reqA, 'PUT', '/api/v1/admin/calendar/days/2026-10-09', { kind: 'off' })).statusCode,
    ).toBe(403);
    const overlap = await call(admin, 'PUT', '/api/v1/admin/calendar/settings', {
      officeHours: [
        { start: '09:00', end: '12:30' },
        { start: '12:00', end: '17:00' },
      ],
      extraCoveredYears: [],
      offHoursReceipt: 'next-opening',
    });
    expect(overlap.statusCode).toBe(422);
    expect(overlap.json().errors[0].pointer).toBe('/body/officeHours');
  });

  it('re-times an open case when a day in its window becomes a day off, and back when reverted', async () => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': `${target.name}-calendar-0001` },
      payload: startBody({ tier: '1d', tierReason: '需调阅纸质档案' }),
    });
    expect(started.statusCode, started.body).toBe(201);
    const c = started.json();
    const dueDay = shanghaiDateOf(new Date(c.dueAt));
    const before = await version();

    const closed = await call(admin, 'PUT', `/api/v1/admin/calendar/days/${dueDay}`, {
      kind: 'off',
      name: '临时闭馆',
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json().day).toMatchObject({
      date: dueDay,
      kind: 'off',
      source: 'override',
      name: '临时闭馆',
    });
    expect(closed.json().retime.signalled).toBeGreaterThanOrEqual(1);
    expect(await version()).toBe(Number(before ?? 0) + 1);

    const moved = await eventually(async () => {
      const due = await dueOf(c.id);
      return due !== c.dueAt ? due : undefined;
    }, 'the new deadline');
    expect(new Date(moved).getTime()).toBeGreaterThan(new Date(c.dueAt).getTime());
    expect(shanghaiDateOf(new Date(moved))).not.toBe(dueDay);
    const events = await h.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, c.id));
    const retimed = events.find((e) => e.type === 'retimed');
    expect(retimed?.data).toMatchObject({
      from: c.dueAt,
      to: moved,
      dates: [dueDay],
      changedBy: 'stf-admin',
    });
    // The API's own calendar reloaded too: the public preview agrees with the case.
    const preview = await h.app.inject({
      url: `/api/v1/deadline-preview?tier=1d&receivedAt=${encodeURIComponent(c.receivedAt)}`,
    });
    expect(preview.json().dueAt).toBe(moved);

    const reverted = await call(admin, 'DELETE', `/api/v1/admin/calendar/days/${dueDay}`);
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(reverted.json().day.override).toBeNull();
    await eventually(
      async () => ((await dueOf(c.id)) === c.dueAt ? true : undefined),
      'the original deadline',
    );

    // A day outside every open window signals nobody.
    const far = await call(admin, 'PUT', '/api/v1/admin/calendar/days/2030-06-03', { kind: 'off' });
    expect(far.json().retime).toEqual({ signalled: 0, failed: 0 });
    const list = (await call(admin, 'GET', '/api/v1/admin/calendar/days?year=2030')).json();
    expect(list.items).toMatchObject([{ date: '2030-06-03', kind: 'off', updatedBy: 'stf-admin' }]);
  });

  it('re-times, exactly once, a change committed just before the API process died (resumed at the next start)', async () => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': `${target.name}-calendar-0003` },
      payload: startBody({ tier: '1d', tierReason: '需调阅纸质档案' }),
    });
    expect(started.statusCode, started.body).toBe(201);
    const c = started.json();
    const dueDay = shanghaiDateOf(new Date(c.dueAt));
    // What PUT /admin/calendar/days commits, and nothing after it: the process "died" before re-timing.
    await h.database.db.transaction(async (tx) => {
      const values = {
        kind: 'off' as const,
        name: '临时闭馆',
        updatedBy: 'stf-admin',
        updatedAt: new Date(),
      };
      await tx
        .insert(calendarDays)
        .values({ date: dueDay, ...values })
        .onConflictDoUpdate({ target: calendarDays.date, set: values });
      await recordCalendarChange(tx as unknown as Db, { dates: [dueDay] }, 'stf-admin');
    });
    expect(await dueOf(c.id)).toBe(c.dueAt);

    // Two API processes start at once; both find the pending change; one workflow re-times the cases.
    const gateway = createCaseGateway(env.client, h.worker.options.taskQueue);
    const log = silentLog as unknown as FastifyBaseLogger;
    const found = await Promise.all([
      resumePendingRetimes(h.database.db, gateway, log),
      resumePendingRetimes(h.database.db, gateway, log),
    ]);
    expect(found).toEqual([1, 1]);
    const moved = await eventually(async () => {
      const due = await dueOf(c.id);
      return due !== c.dueAt ? due : undefined;
    }, 'the new deadline');
    expect(new Date(moved).getTime()).toBeGreaterThan(new Date(c.dueAt).getTime());
    const events = await h.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, c.id));
    expect(events.filter((e) => e.type === 'retimed')).toHaveLength(1);
    const pending = await h.database.db
      .select()
      .from(systemMeta)
      .where(like(systemMeta.key, `${RETIME_PENDING_PREFIX}%`));
    expect(pending).toEqual([]);
    expect(await resumePendingRetimes(h.database.db, gateway, log)).toBe(0);
    if (target.name === 'pglite') {
      for await (const retime of env.client.workflow.list({ query: 'WorkflowType="calendarRetime"' })) {
        await recordHistory(env.client.workflow.getHandle(retime.workflowId), 'calendar-retime');
        break;
      }
    }

    expect((await call(admin, 'DELETE', `/api/v1/admin/calendar/days/${dueDay}`)).statusCode).toBe(200);
  });

  it('re-times every open case when today’s office hours change (a period from today)', async () => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': `${target.name}-calendar-0002` },
      payload: startBody({ tier: '2d', tierReason: '历史档案需多处查找' }),
    });
    expect(started.statusCode, started.body).toBe(201);
    const c = started.json();
    const settings = (await call(admin, 'GET', '/api/v1/admin/calendar/settings')).json();
    expect(settings.officeHours).toEqual([
      { start: '09:00', end: '12:00' },
      { start: '13:30', end: '17:30' },
    ]);
    expect(settings.libraryCoveredYears).toContain(2026);

    const summer = await call(admin, 'PUT', '/api/v1/admin/calendar/settings', {
      officeHours: [
        { start: '08:30', end: '12:00' },
        { start: '14:00', end: '18:00' },
      ],
      extraCoveredYears: [],
      offHoursReceipt: 'next-opening',
    });
    expect(summer.statusCode, summer.body).toBe(200);
    expect(summer.json().retime.signalled).toBeGreaterThanOrEqual(2);
    expect(summer.json().settings.updatedBy).toBe('stf-admin');
    // Who changed it, by name (the page shows the name, never the id or "system").
    expect(summer.json().settings.updatedByName).toBe('杨帆');
    // The hours before today are kept: the change is a period from today.
    expect(summer.json().settings.officeHoursPeriods).toMatchObject([
      { from: null, current: false },
      { from: shanghaiDateOf(new Date()), current: true },
    ]);
    const moved = await eventually(async () => {
      const due = await dueOf(c.id);
      return due !== c.dueAt ? due : undefined;
    }, 'the summer deadline');
    // Closing time moved from 17:30 to 18:00 Shanghai time (10:00 UTC).
    expect(moved).toMatch(/T10:00:00\.000Z$/);
  });

  it('adds office hours from a date: the old stored shape loads, past dates are refused, only windows that reach the date are re-timed', async () => {
    const winter = [
      { start: '09:00', end: '12:00' },
      { start: '13:30', end: '17:30' },
    ];
    const summer = [
      { start: '08:30', end: '12:00' },
      { start: '14:30', end: '18:00' },
    ];
    // Settings saved before office hours had dates: a plain list, read as one period since the beginning.
    await h.database.db.transaction(async (tx) => {
      await tx.update(calendarSettings).set({ officeHours: winter }).where(eq(calendarSettings.id, 1));
      await bumpCalendarVersion(tx as unknown as Db);
    });
    const loaded = (await call(admin, 'GET', '/api/v1/admin/calendar/settings')).json();
    expect(loaded.officeHours).toEqual(winter);
    expect(loaded.officeHoursPeriods).toEqual([{ from: null, hours: winter, current: true }]);

    const today = shanghaiDateOf(new Date());
    const past = await call(admin, 'POST', '/api/v1/admin/calendar/office-hours', {
      from: addCalendarDays(today, -1),
      hours: summer,
    });
    expect(past.statusCode, past.body).toBe(422);
    expect(past.json().errors).toEqual([{ pointer: '/body/from', detail: '执行日期不能早于今天' }]);
    expect(past.json().detail).toContain('执行日期');
    const badHours = await call(admin, 'POST', '/api/v1/admin/calendar/office-hours', {
      from: today,
      hours: [{ start: '18:00', end: '08:00' }],
    });
    expect(badHours.statusCode).toBe(422);
    expect(badHours.json().errors[0].pointer).toBe('/body/hours');
    expect(
      (await call(reqA, 'POST', '/api/v1/admin/calendar/office-hours', { from: today, hours: summer }))
        .statusCode,
    ).toBe(403);

    const start = async (key: string, body: Record<string, unknown>) => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: reqA, 'idempotency-key': `${target.name}-${key}` },
        payload: startBody(body),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; dueAt: string; receivedAt: string };
    };
    const twoDays = await start('calendar-0004', { tier: '2d', tierReason: '历史档案需多处查找' });
    const thirtyMinutes = await start('calendar-0005', {});
    // Summer hours from the 2-day case's due day: its window reaches it, the 30-minute case's ends before it.
    const from = shanghaiDateOf(new Date(twoDays.dueAt));
    expect(shanghaiDateOf(new Date(thirtyMinutes.dueAt)) < from).toBe(true);
    const added = await call(admin, 'POST', '/api/v1/admin/calendar/office-hours', { from, hours: summer });
    expect(added.statusCode, added.body).toBe(200);
    expect(added.json().settings.officeHoursPeriods).toEqual([
      { from: null, hours: winter, current: true },
      { from, hours: summer, current: false },
    ]);
    expect(added.json().settings.officeHours).toEqual(winter);
    expect(added.json().retime.signalled).toBeGreaterThanOrEqual(1);

    const moved = await eventually(async () => {
      const due = await dueOf(twoDays.id);
      return due !== twoDays.dueAt ? due : undefined;
    }, 'the summer deadline');
    expect(shanghaiDateOf(new Date(moved))).toBe(from);
    expect(moved).toMatch(/T10:00:00\.000Z$/); // 18:00 Shanghai
    const touched = await openCasesTouched(h.database.db, { dates: [from] });
    expect(touched.cases.map((c) => c.id)).toContain(twoDays.id);
    expect(touched.cases.map((c) => c.id)).not.toContain(thirtyMinutes.id);
    expect(await dueOf(thirtyMinutes.id)).toBe(thirtyMinutes.dueAt);
    const events = await h.database.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.caseId, thirtyMinutes.id));
    expect(events.filter((e) => e.type === 'retimed')).toEqual([]);
    // The API's own calendar: a receipt before the date keeps the old hours up to it.
    const preview = await h.app.inject({
      url: `/api/v1/deadline-preview?tier=30m&receivedAt=${encodeURIComponent(thirtyMinutes.receivedAt)}`,
    });
    expect(preview.json().dueAt).toBe(thirtyMinutes.dueAt);

    // A period not in force yet can be withdrawn; the case goes back to its deadline.
    const pastRemoval = await call(
      admin,
      'DELETE',
      `/api/v1/admin/calendar/office-hours/${addCalendarDays(today, -1)}`,
    );
    expect(pastRemoval.statusCode).toBe(422);
    expect(pastRemoval.json().errors[0].pointer).toBe('/params/from');
    const removed = await call(admin, 'DELETE', `/api/v1/admin/calendar/office-hours/${from}`);
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().settings.officeHoursPeriods).toEqual([
      { from: null, hours: winter, current: true },
    ]);
    await eventually(
      async () => ((await dueOf(twoDays.id)) === twoDays.dueAt ? true : undefined),
      'the winter deadline again',
    );
    expect((await call(admin, 'DELETE', `/api/v1/admin/calendar/office-hours/${from}`)).statusCode).toBe(404);
  });
});
