/**
 * Live inbox events: what the worker's activities project (a case event, a notification) is pushed to
 * the browsers of the staff concerned (see api/routes/notifications.ts, the SSE stream).
 *
 * Two buses behind one interface:
 * - in-process (`createLocalLiveEvents`): the embedded default, where API and worker share a process;
 * - PostgreSQL LISTEN/NOTIFY (`createPgLiveEvents`): separate API and worker processes on one database.
 *   Every process publishes with `pg_notify`, and each API process listens on its own connection, so an
 *   event reaches the streams of every API instance. NOTIFY is fire-and-forget: what is published while a
 *   process's LISTEN connection is down never reaches it, so once it listens again it hands its listeners
 *   a `resync` event (the SSE stream passes it on and the browser refetches) instead of missing them silently.
 */

import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import type { CaseActivityDeps, NotificationRow, Notifier } from '../../activities/case-activities.ts';
import type { Db } from '../../db/client.ts';

export type LiveEvent =
  | {
      type: 'case';
      caseId: string;
      eventType: string;
      status: string;
      docNumber: string;
      /** Units whose staff may receive it (requesting and current issuing unit); not sent to clients. */
      units: string[];
    }
  | {
      type: 'notification';
      id: string;
      caseId: string | null;
      kind: string;
      message: string;
      createdAt: string;
      recipientStaffId: string | null;
      recipientUnit: string | null;
    }
  | {
      /**
       * Events may have been missed (this process's LISTEN connection was lost and is back): every stream
       * tells its browser to refetch what it shows. Never published through the database; for everyone.
       */
      type: 'resync';
      reason: 'listen_reconnected';
    };

export type LiveListener = (event: LiveEvent) => void;

export interface LiveEvents {
  publish(event: LiveEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: LiveListener): () => void;
  close(): Promise<void>;
}

function fanOut(listeners: Set<LiveListener>, event: LiveEvent, log?: Logger) {
  for (const l of listeners) {
    try {
      l(event);
    } catch (err) {
      log?.warn({ err }, 'live event listener failed');
    }
  }
}

export function createLocalLiveEvents(log?: Logger): LiveEvents {
  const listeners = new Set<LiveListener>();
  return {
    publish: (event) => fanOut(listeners, event, log),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}

export const LIVE_CHANNEL = 'xiecha_live';
/** pg_notify refuses payloads of 8000 bytes or more. */
const MAX_NOTIFY_BYTES = 7900;

/**
 * Publishes through the database (`pg_notify`, works on PostgreSQL and PGlite) and, on the first
 * subscription, opens one dedicated LISTEN connection to `url`. Reconnects after a lost connection.
 */
export function createPgLiveEvents(opts: { db: Db; url: string; log: Logger }): LiveEvents {
  const { db, url, log } = opts;
  const listeners = new Set<LiveListener>();
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  /** A LISTEN connection was lost since the last successful LISTEN: what was published meanwhile is gone. */
  let lost = false;

  const connect = async () => {
    if (closed || client) return;
    const c = new pg.Client({ connectionString: url });
    client = c;
    c.on('notification', (msg) => {
      if (msg.channel !== LIVE_CHANNEL || !msg.payload) return;
      try {
        fanOut(listeners, JSON.parse(msg.payload) as LiveEvent, log);
      } catch (err) {
        log.warn({ err }, 'bad live event payload');
      }
    });
    c.on('error', (err) => {
      log.warn({ err }, 'live events connection lost; reconnecting');
      lost = true;
      client = undefined;
      c.end().catch(() => {});
      if (!closed) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    });
    try {
      await c.connect();
      await c.query(`listen ${LIVE_CHANNEL}`);
      if (lost) {
        lost = false;
        log.info('live events: listening again; streams told to refetch');
        fanOut(listeners, { type: 'resync', reason: 'listen_reconnected' }, log);
      }
    } catch (err) {
      client = undefined;
      await c.end().catch(() => {});
      log.warn({ err }, 'live events: could not listen; retrying');
      if (!closed) retry = setTimeout(() => void connect().catch(() => {}), 1000);
    }
  };

  return {
    publish(event) {
      if (event.type === 'resync') return fanOut(listeners, event, log);
      const payload = JSON.stringify(event);
      if (Buffer.byteLength(payload) > MAX_NOTIFY_BYTES) {
        log.warn({ type: event.type }, 'live event too large to publish');
        return;
      }
      db.execute(sql`select pg_notify(${LIVE_CHANNEL}, ${payload})`).catch((err) =>
        log.warn({ err }, 'live event publish failed'),
      );
    },
    subscribe(listener) {
      listeners.add(listener);
      void connect();
      return () => listeners.delete(listener);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      listeners.clear();
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}

/**
 * The activity hooks that feed a bus: `onProjected` for case events, a notifier for notifications that
 * then hands the rows to `next` (e.g. a webhook adapter), if any.
 */
export function liveEventHooks(
  events: LiveEvents,
  next?: Notifier,
): Required<Pick<CaseActivityDeps, 'onProjected' | 'notifier'>> {
  return {
    onProjected(snapshot, eventType) {
      events.publish({
        type: 'case',
        caseId: snapshot.caseId,
        eventType,
        status: snapshot.status,
        docNumber: snapshot.docNumber,
        units: [...new Set([snapshot.requestingUnit, snapshot.routing.issuingUnit])],
      });
    },
    notifier: {
      async deliver(rows: NotificationRow[]) {
        for (const r of rows) {
          events.publish({
            type: 'notification',
            id: r.id,
            caseId: r.caseId,
            kind: r.kind,
            message: r.message,
            createdAt: r.createdAt.toISOString(),
            recipientStaffId: r.recipientStaffId,
            recipientUnit: r.recipientUnit,
          });
        }
        await next?.deliver(rows);
      },
    },
  };
}
