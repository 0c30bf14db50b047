import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { webhookNotifier } from '../activities/notifiers.ts';
import { silentLog } from './support/temporal.ts';

const row = {
  id: 'c1:2:reminder_sent:stf-iss-a',
  eventKey: 'c1:2:reminder_sent',
  recipientKey: 'stf-iss-a',
  caseId: 'c1',
  recipientStaffId: 'stf-iss-a',
  recipientUnit: null,
  kind: 'reminder',
  // As an older workflow wrote it: an ISO instant in the text.
  message: '协查 淄人社协〔2026〕1号 将于 2026-11-23T08:00:00.000Z 到期',
  createdAt: new Date('2026-11-23T06:00:00Z'),
};

async function withServer(status: number, fn: (url: string, received: unknown[]) => Promise<void>) {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received);
  } finally {
    server.close();
  }
}

describe('webhook notifier', () => {
  it('posts the notifications as JSON: the data, and the title and text a person reads', async () => {
    await withServer(204, async (url, received) => {
      await webhookNotifier(url, silentLog).deliver([row]);
      expect(received).toEqual([
        {
          notifications: [
            {
              id: row.id,
              eventKey: row.eventKey,
              caseId: 'c1',
              recipientStaffId: 'stf-iss-a',
              recipientUnit: null,
              kind: 'reminder',
              title: '到期提醒',
              text: '协查 淄人社协〔2026〕1号 将于 2026年11月23日 16:00 到期',
              message: '协查 淄人社协〔2026〕1号 将于 2026年11月23日 16:00 到期',
              createdAt: '2026-11-23T06:00:00.000Z',
              createdAtText: '2026年11月23日 14:00',
            },
          ],
        },
      ]);
    });
  });

  it('fails when the receiver refuses, so the caller can log it', async () => {
    await withServer(500, async (url) => {
      await expect(webhookNotifier(url, silentLog).deliver([row])).rejects.toThrow('webhook answered 500');
    });
  });
});
