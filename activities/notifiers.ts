/**
 * Delivery of notifications beyond the in-app record, which is always written by the projection.
 * A webhook adapter posts each batch as JSON to a configured URL (a city's messaging gateway, an OA
 * system or an e-mail relay): one interface, adapters chosen by configuration.
 */
import type { Logger } from 'pino';
import type { NotificationRow, Notifier } from './case-activities.ts';

export function webhookNotifier(url: string, log: Logger, timeoutMs = 5000): Notifier {
  return {
    async deliver(rows: NotificationRow[]) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          notifications: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })),
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      log.debug({ count: rows.length }, 'notifications delivered to webhook');
    },
  };
}
