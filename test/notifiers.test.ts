import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { webhookNotifier } from '../activities/notifiers.ts';
import { silentLog } from './support/temporal.ts';

const row = {
  id: 'c1:2:0:stf-iss-a',
  caseId: 'c1',
  recipientStaffId: 'stf-iss-a',
  recipientUnit: null,
  kind: 'reminder',
  message: '协查 淄人社协〔2026〕1号 将于 … 到期',
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
  it('posts the notifications as JSON', async () => {
    await withServer(204, async (url, received) => {
      await webhookNotifier(url, silentLog).deliver([row]);
      expect(received).toEqual([{ notifications: [{ ...row, createdAt: '2026-11-23T06:00:00.000Z' }] }]);
    });
  });

  it('fails when the receiver refuses, so the caller can log it', async () => {
    await withServer(500, async (url) => {
      await expect(webhookNotifier(url, silentLog).deliver([row])).rejects.toThrow('webhook answered 500');
    });
  });
});
