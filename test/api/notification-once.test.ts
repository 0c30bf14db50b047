/**
 * One notification per person per event (issue 14, item 2): a liaison who is also the assignee and a
 * member of the issuing unit gets each new task, reminder and escalation once; a projection that runs
 * again (a retry, a replayed local activity, a reset run firing the same reminder under another sequence
 * number) writes and delivers nothing twice, and the database refuses a second row for the same event and
 * recipient; 全部已读 marks everything read for the person only.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities, type NotificationRow } from '../../activities/case-activities.ts';
import { notifications } from '../../db/schema.ts';
import * as m from '../../workflows/case-machine.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, silentLog, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';
import { caseInput, uniqueCaseId } from '../workflow/support.ts';

const SLA_MS = 6_000;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

interface Item {
  id: string;
  caseId: string | null;
  kind: string;
  createdAt: string;
  readAt: string | null;
}

describe.each(databaseTargets())('one notification per person per event on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target, {
      caseDeadline: async ({ receivedAt, reminderFractions }) => {
        const start = new Date(receivedAt).getTime();
        return {
          effectiveReceivedAt: receivedAt,
          dueAt: new Date(start + SLA_MS).toISOString(),
          flags: ['demo_sla'],
          reminderAt: reminderFractions.map((f) => new Date(start + f * SLA_MS).toISOString()),
        };
      },
    });
    for (const u of ['req-a', 'iss-a', 'iss-a2', 'iss-a-lia', 'office']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload ? { payload } : {}),
    });
  const inbox = async (who: string, query = '') => {
    const res = await call(who, 'GET', `/api/v1/notifications?limit=200${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { items: Item[]; unreadCount: number };
  };

  it('a liaison who is the assignee gets each new task, reminder and escalation once', async () => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-once-1` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id: string = started.json().id;
    const reg = await call('iss-a-lia', 'POST', `/api/v1/verifications/${id}/register`, {});
    expect(reg.statusCode, reg.body).toBe(200);
    expect(reg.json().assigneeId).toBe('stf-iss-a-lia');

    const timeline = async () =>
      (await call('req-a', 'GET', `/api/v1/verifications/${id}`)).json().timeline as { type: string }[];
    await expect
      .poll(async () => (await timeline()).map((e) => e.type), { timeout: 30_000, interval: 250 })
      .toContain('escalated');
    const reminders = (await timeline()).filter((e) => e.type === 'reminder_sent').length;
    expect(reminders).toBeGreaterThan(0);

    const kinds = async (who: string) => {
      const mine = (await inbox(who)).items.filter((n) => n.caseId === id);
      // Never two of one event: (kind, time) is unique per event of a case.
      expect(new Set(mine.map((n) => `${n.kind}@${n.createdAt}`)).size).toBe(mine.length);
      return mine.reduce<Record<string, number>>((acc, n) => {
        acc[n.kind] = (acc[n.kind] ?? 0) + 1;
        return acc;
      }, {});
    };
    await expect.poll(async () => (await kinds('iss-a-lia')).escalated ?? 0, { timeout: 10_000 }).toBe(1);
    expect(await kinds('iss-a-lia')).toEqual({ new_task: 1, reminder: reminders, escalated: 1 });
    // A colleague: the new task and the escalation once; the reminders went to the assignee.
    expect(await kinds('iss-a2')).toEqual({ new_task: 1, escalated: 1 });
    expect(await kinds('req-a')).toEqual({ escalated: 1 });
    expect(await kinds('office')).toEqual({ escalated: 1 });

    // In the database: one row per event and recipient, and the issuing unit only by name.
    const rows = await h.database.db.select().from(notifications).where(eq(notifications.caseId, id));
    const keys = rows.map((r) => `${r.eventKey}|${r.recipientKey}`);
    expect(new Set(keys).size).toBe(rows.length);
    expect(rows.every((r) => r.eventKey && r.recipientKey)).toBe(true);
    expect(rows.some((r) => r.recipientUnit === 'ZB-GA' && !r.recipientStaffId)).toBe(false);
  }, 60_000);

  it('a projection run again writes and delivers nothing twice; the database refuses a duplicate', async () => {
    const delivered: NotificationRow[][] = [];
    const acts = createCaseActivities({
      db: h.database.db,
      calendar: createCalendarSource(h.database.db),
      subjectKey: TEST_SUBJECT_KEY,
      contentCipher: TEST_CONTENT_CIPHER,
      log: silentLog,
      notifier: {
        async deliver(rows) {
          delivered.push(rows);
        },
      },
    });
    const input = caseInput(uniqueCaseId(`rerun-${target.name}`), new Date());
    const dueAt = new Date(Date.now() + 3_600_000).toISOString();
    const opened = m.open(
      input,
      '淄人社协〔2026〕990号',
      { effectiveReceivedAt: input.requestedAt, dueAt, flags: [], reminderAt: [] },
      input.requestedAt,
    );
    const projection = { snapshot: opened.state, input, event: opened.event, notifications: opened.notify };
    await acts.projectCase(projection);
    await acts.projectCase(projection); // a retry
    await acts.projectCase({ ...projection, notifications: [...opened.notify, ...opened.notify] });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.map((r) => r.recipientKey).sort()).toEqual([
      'stf-iss-a',
      'stf-iss-a-lia',
      'stf-iss-a2',
    ]);

    // The same reminder fired again under another sequence number (a reset run) is the same event.
    const reminder = (seq: number) => ({
      snapshot: { ...opened.state, seq },
      event: { seq, type: 'reminder_sent', at: new Date().toISOString(), data: { n: 1, dueAt } },
      notifications: [{ kind: 'reminder', audience: 'issuing_unit' as const, message: '协查将到期' }],
    });
    await acts.projectCase(reminder(2));
    await acts.projectCase(reminder(5));
    expect(delivered).toHaveLength(2);
    const rows = await h.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.caseId, input.caseId));
    expect(rows).toHaveLength(6);

    // The database holds it too: a second row for the same event and recipient is refused.
    const [one] = rows;
    if (!one) throw new Error('no row');
    await expect(
      h.database.db.insert(notifications).values({ ...one, id: `${one.id}-again` }),
    ).rejects.toThrow();
    const [{ n } = { n: 0 }] = (
      (await h.database.db.execute(
        sql`select count(*)::int as n from notifications where event_key = ${one.eventKey} and recipient_key = ${one.recipientKey}`,
      )) as unknown as { rows: { n: number }[] }
    ).rows;
    expect(n).toBe(1);
  });

  it('全部已读 marks every notification read, for the person only', async () => {
    const before = await inbox('iss-a-lia');
    expect(before.unreadCount).toBeGreaterThan(0);
    const colleagueBefore = (await inbox('iss-a2')).unreadCount;
    expect(colleagueBefore).toBeGreaterThan(0);
    const officeBefore = (await inbox('office')).unreadCount;

    const res = await call('iss-a-lia', 'POST', '/api/v1/notifications/read-all');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().marked).toBe(before.unreadCount);
    const after = await inbox('iss-a-lia');
    expect(after.unreadCount).toBe(0);
    expect(after.items.every((n) => n.readAt !== null)).toBe(true);
    expect((await inbox('iss-a-lia', '&unreadOnly=true')).items).toEqual([]);
    // Nobody else's state moved, not even for the unit's shared notifications.
    expect((await inbox('iss-a2')).unreadCount).toBe(colleagueBefore);
    expect((await inbox('office')).unreadCount).toBe(officeBefore);
    // Again: nothing left to mark.
    expect((await call('iss-a-lia', 'POST', '/api/v1/notifications/read-all')).json().marked).toBe(0);
    expect((await call('iss-a-lia', 'POST', '/api/v1/notifications/read-all', {})).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/notifications/read-all' })).statusCode).toBe(
      401,
    );
  });
});
