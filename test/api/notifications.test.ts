/**
 * The in-app inbox and the live stream: notifications for the person and their unit with per-person read
 * state; a server-sent event stream opened with a single-use ticket (never the JWT in the URL) that pushes
 * the worker's case events and notifications to the units concerned, and ends when the app closes.
 * The stream runs over a real socket (`listen` + `fetch`): `inject` would wait for it to end.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalLiveEvents, createPgLiveEvents, type LiveEvent } from '../../api/services/live-events.ts';
import { openDatabase } from '../../db/client.ts';
import { streamTickets } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { createServerDatabase, databaseTargets, TEST_DATABASE_URL } from '../support/databases.ts';
import { createDevServerEnv, silentLog } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream response frame by frame. */
function sseReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const received: SseEvent[] = [];
  let buffer = '';
  let ended = false;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) received.push({ event, data: JSON.parse(data) });
      }
    }
    ended = true;
  })().catch(() => {
    ended = true;
  });
  return {
    received,
    get ended() {
      return ended;
    },
    async waitFor(match: (e: SseEvent) => boolean, what: string, timeoutMs = 15_000): Promise<SseEvent> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (ended || Date.now() > until) throw new Error(`no ${what} on the stream (ended: ${ended})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    pump,
    cancel: () => reader.cancel().catch(() => {}),
  };
}

describe.each(databaseTargets())('notifications and the live stream on $name', (target) => {
  let h: ApiHarness;
  let base: string;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target, { events: createLocalLiveEvents() });
    for (const u of ['req-a', 'req-a-lia', 'req-b', 'iss-a', 'iss-a2']) auth[u] = await h.login(u);
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (who: string, method: 'GET' | 'POST', url: string) =>
    h.app.inject({ method, url, headers: { authorization: auth[who] ?? '' } });
  const start = (key: string) =>
    h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-${key}` },
      payload: startBody(),
    });
  const ticket = async (who: string): Promise<string> => {
    const res = await call(who, 'POST', '/api/v1/stream/ticket');
    expect(res.statusCode, res.body).toBe(201);
    return res.json().ticket;
  };
  const openStream = async (who: string) => {
    const res = await fetch(`${base}/api/v1/stream?ticket=${await ticket(who)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const sse = sseReader(res);
    await sse.waitFor((e) => e.event === 'ready', 'ready event');
    return sse;
  };

  it('lists a person’s and their unit’s notifications, newest first, with per-person read state', async () => {
    const started = await start('notify-0001');
    expect(started.statusCode, started.body).toBe(201);
    const caseId = started.json().id;

    const inbox = await call('iss-a', 'GET', '/api/v1/notifications');
    expect(inbox.statusCode, inbox.body).toBe(200);
    const mine = inbox.json().items.filter((n: { caseId: string }) => n.caseId === caseId);
    // One per person: the issuing unit's staff get the new task by name, not a second time as the unit.
    expect(mine.map((n: { kind: string; scope: string }) => `${n.kind}:${n.scope}`)).toEqual([
      'new_task:personal',
    ]);
    expect(mine.every((n: { readAt: string | null }) => n.readAt === null)).toBe(true);
    const unreadBefore = inbox.json().unreadCount;
    expect(unreadBefore).toBeGreaterThanOrEqual(1);

    const own = mine[0];
    const readOwn = await call('iss-a', 'POST', `/api/v1/notifications/${encodeURIComponent(own.id)}/read`);
    expect(readOwn.statusCode, readOwn.body).toBe(200);
    expect((await call('iss-a', 'GET', '/api/v1/notifications')).json().unreadCount).toBe(unreadBefore - 1);
    // The colleague has their own, still unread.
    const colleagueTask = (await call('iss-a2', 'GET', '/api/v1/notifications?unreadOnly=true'))
      .json()
      .items.filter((n: { caseId: string }) => n.caseId === caseId);
    expect(colleagueTask.map((n: { kind: string }) => n.kind)).toEqual(['new_task']);

    // A unit-wide notification (the requesting unit's, when the case is returned) is read per person.
    const returned = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${caseId}/return`,
      headers: { authorization: auth['iss-a'] ?? '' },
      payload: { reason: '不属于本单位职责' },
    });
    expect(returned.statusCode, returned.body).toBe(200);
    const requesterInbox = (await call('req-a', 'GET', '/api/v1/notifications')).json();
    const unitRow = requesterInbox.items.find(
      (n: { caseId: string; kind: string }) => n.caseId === caseId && n.kind === 'returned',
    );
    expect(unitRow).toMatchObject({
      scope: 'unit',
      title: '协查被退回',
      message: '协查被退回：不属于本单位职责',
    });
    const read = await call('req-a', 'POST', `/api/v1/notifications/${encodeURIComponent(unitRow.id)}/read`);
    expect(read.statusCode, read.body).toBe(200);
    const again = (await call('req-a', 'GET', '/api/v1/notifications')).json();
    expect(again.unreadCount).toBe(requesterInbox.unreadCount - 1);
    expect(again.items.find((n: { id: string }) => n.id === unitRow.id).readAt).not.toBeNull();
    // The unit's notification is still unread for the colleague.
    const colleague = (await call('req-a-lia', 'GET', '/api/v1/notifications?unreadOnly=true')).json();
    expect(colleague.items.some((n: { id: string }) => n.id === unitRow.id)).toBe(true);

    // Someone else's notification is not there to mark.
    expect(
      (await call('req-b', 'POST', `/api/v1/notifications/${encodeURIComponent(unitRow.id)}/read`))
        .statusCode,
    ).toBe(404);
    expect((await start('notify-0001b')).statusCode).toBe(201); // a second task: two pages of one
    const page = (await call('iss-a', 'GET', '/api/v1/notifications?limit=1')).json();
    expect(page.items).toHaveLength(1);
    const next = (
      await call('iss-a', 'GET', `/api/v1/notifications?limit=1&cursor=${page.nextCursor}`)
    ).json();
    expect(next.items[0].id).not.toBe(page.items[0].id);
    expect(next.items[0].createdAt <= page.items[0].createdAt).toBe(true);
  });

  it('opens the stream only with a fresh, single-use ticket', async () => {
    const t = await ticket('iss-a');
    const first = await fetch(`${base}/api/v1/stream?ticket=${t}`);
    expect(first.status).toBe(200);
    await first.body?.cancel();
    const reused = await fetch(`${base}/api/v1/stream?ticket=${t}`);
    expect(reused.status).toBe(401);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');

    const stale = await ticket('iss-a');
    await h.database.db.update(streamTickets).set({ expiresAt: new Date(Date.now() - 1000) });
    expect((await fetch(`${base}/api/v1/stream?ticket=${stale}`)).status).toBe(401);
    // A JWT is not a ticket (too long for one, and unknown as one).
    const jwt = (auth['iss-a'] ?? '').replace('Bearer ', '');
    expect((await fetch(`${base}/api/v1/stream?ticket=${jwt}`)).status).toBe(400);
    expect((await fetch(`${base}/api/v1/stream?ticket=${jwt.slice(-60)}`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/stream`)).status).toBe(400);
    expect((await h.app.inject({ method: 'POST', url: '/api/v1/stream/ticket' })).statusCode).toBe(401);
    const rows = await h.database.db
      .select()
      .from(streamTickets)
      .where(eq(streamTickets.staffId, 'stf-iss-a'));
    expect(rows.every((r) => r.ticketHash.length === 64)).toBe(true);
  });

  it('pushes case events and notifications to the units concerned, and to nobody else', async () => {
    const issuer = await openStream('iss-a');
    const requester = await openStream('req-a');
    const bystander = await openStream('req-b');

    const started = await start('notify-0002');
    expect(started.statusCode, started.body).toBe(201);
    const caseId = started.json().id;

    const created = await issuer.waitFor((e) => e.event === 'case' && e.data.caseId === caseId, 'case event');
    expect(created.data).toMatchObject({
      type: 'case',
      caseId,
      eventType: 'created',
      status: 'awaiting_registration',
    });
    expect(created.data).not.toHaveProperty('units');
    const task = await issuer.waitFor(
      (e) => e.event === 'notification' && e.data.caseId === caseId,
      'new task notification',
    );
    expect(task.data).toMatchObject({ type: 'notification', kind: 'new_task' });
    await requester.waitFor(
      (e) => e.event === 'case' && e.data.caseId === caseId,
      'case event for the requester',
    );

    const reg = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${caseId}/register`,
      headers: { authorization: auth['iss-a'] ?? '' },
      payload: {},
    });
    expect(reg.statusCode).toBe(200);
    await requester.waitFor((e) => e.event === 'case' && e.data.eventType === 'registered', 'registration');

    expect(bystander.received.filter((e) => e.data.caseId === caseId)).toEqual([]);
    // Nothing about the subject travels on the stream.
    expect(JSON.stringify([...issuer.received, ...requester.received])).not.toContain(
      startBody().subject.idNumber,
    );
    for (const s of [issuer, requester, bystander]) await s.cancel();
  });

  it('ends open streams when the app closes, so close() does not hang', async () => {
    const sse = await openStream('iss-a2');
    const closed = h.app.close();
    await expect(
      Promise.race([closed, new Promise((_, no) => setTimeout(() => no(new Error('close hung')), 10_000))]),
    ).resolves.toBeUndefined();
    await sse.pump;
    expect(sse.ended).toBe(true);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('live events between processes over PostgreSQL LISTEN/NOTIFY', () => {
  it('delivers what one process publishes to another one’s subscribers', async () => {
    const created = await createServerDatabase(TEST_DATABASE_URL as string);
    const database = await openDatabase({ kind: 'postgres', url: created.url, max: 2 });
    const api = createPgLiveEvents({ db: database.db, url: created.url, log: silentLog });
    const worker = createPgLiveEvents({ db: database.db, url: created.url, log: silentLog });
    try {
      const got: LiveEvent[] = [];
      api.subscribe((e) => got.push(e));
      const event: LiveEvent = {
        type: 'case',
        caseId: 'case-x',
        eventType: 'created',
        status: 'awaiting_registration',
        docNumber: '淄人社协〔2026〕1号',
        units: ['ZB-RS', 'ZB-GA'],
      };
      // The listener connects lazily: publish until it hears.
      const until = Date.now() + 10_000;
      while (!got.length && Date.now() < until) {
        worker.publish(event);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(got[0]).toEqual(event);
    } finally {
      await api.close();
      await worker.close();
      await database.close();
      await created.drop();
    }
  });

  it('tells its subscribers to refetch once its LISTEN connection is back after a loss', async () => {
    const created = await createServerDatabase(TEST_DATABASE_URL as string);
    const database = await openDatabase({ kind: 'postgres', url: created.url, max: 2 });
    const api = createPgLiveEvents({ db: database.db, url: created.url, log: silentLog });
    try {
      const got: LiveEvent[] = [];
      api.subscribe((e) => got.push(e));
      const listener = async () =>
        (
          (await database.db.execute(
            sql`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`,
          )) as unknown as { rows: { pid: number }[] }
        ).rows[0]?.pid;
      let until = Date.now() + 10_000;
      while (!(await listener()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual([]);
      await database.db.execute(sql`select pg_terminate_backend(${await listener()})`);
      until = Date.now() + 10_000;
      while (!got.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual([{ type: 'resync', reason: 'listen_reconnected' }]);
    } finally {
      await api.close();
      await database.close();
      await created.drop();
    }
  });
});
