/**
 * Delivery of notifications beyond the in-app record, which is always written by the projection.
 * A webhook adapter posts each batch as JSON to a configured URL (a city's messaging gateway, an OA
 * system or an e-mail relay): one interface, adapters chosen by configuration.
 */
import type { Logger } from 'pino';
import { notificationText } from '../workflows/labels.ts';
import type { NotificationRow, Notifier } from './case-activities.ts';

/**
 * A notification as another system receives it: the data (kind, instants ISO) and what a person reads —
 * `title`, `text` (Beijing time, Chinese labels) and `createdAtText`; a gateway sends `title` and `text`.
 */
export function webhookItem(r: NotificationRow) {
  const { title, text, createdAtText } = notificationText(r);
  return {
    id: r.id,
    eventKey: r.eventKey,
    caseId: r.caseId,
    recipientStaffId: r.recipientStaffId,
    recipientUnit: r.recipientUnit,
    kind: r.kind,
    title,
    text,
    message: text,
    createdAt: r.createdAt.toISOString(),
    createdAtText,
  };
}

export function webhookNotifier(url: string, log: Logger, timeoutMs = 5000): Notifier {
  return {
    async deliver(rows: NotificationRow[]) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          notifications: rows.map(webhookItem),
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      log.debug({ count: rows.length }, 'notifications delivered to webhook');
    },
  };
}
