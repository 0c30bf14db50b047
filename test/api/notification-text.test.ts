/**
 * What people read in notifications (issue 14, item 1): every time in Beijing time, Chinese format, and
 * every code as its Chinese label — in the in-app inbox (title and text), on the webhook (title, text,
 * time) and in the rows written. Real cases on the real workflow (dev server, short deadlines chosen by
 * the API): new task → reminders → escalation → the office orders a deadline → an answer with each
 * result code. Older rows written before the text was formatted read the same through the API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookNotifier } from '../../activities/notifiers.ts';
import { notifications } from '../../db/schema.ts';
import { beijingTime, readableText } from '../../workflows/labels.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, silentLog } from '../support/temporal.ts';

/** An instant as ISO 8601 / RFC 3339 (with or without seconds, zone or fraction). */
const ISO = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
/** Any raw code: a run of two or more Latin letters (the texts here have none of their own). */
const CODE = /[A-Za-z]{2,}|\b\d+[md]\b/;
const RESULTS = ['consistent', 'inconsistent', 'not_found', 'partial'] as const;
const LABELS: Record<(typeof RESULTS)[number], string> = {
  consistent: '一致',
  inconsistent: '不一致',
  not_found: '查无此人（事）',
  partial: '部分一致',
};
const SLA_MS = 6_000;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

interface WebhookItem {
  kind: string;
  title: string;
  text: string;
  createdAt: string;
  createdAtText: string;
  caseId: string | null;
}

describe.each(databaseTargets())('notification texts on $name', (target) => {
  let h: ApiHarness;
  let hook: Server;
  const received: WebhookItem[] = [];
  const auth: Record<string, string> = {};

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push(...(JSON.parse(body) as { notifications: WebhookItem[] }).notifications);
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    h = await createApiHarness(env, target, {
      notifier: webhookNotifier(url, silentLog),
      // Deadlines of a few seconds: the reminders and the escalation come within the test.
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
    for (const u of ['req-a', 'req-a-lia', 'iss-a', 'iss-a2', 'iss-a-lia', 'office'])
      auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
    hook?.close();
  });

  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload ? { payload } : {}),
    });
  const timelineOf = async (id: string) =>
    (await call('req-a', 'GET', `/api/v1/verifications/${id}`)).json().timeline as { type: string }[];

  /** One case through reminder, escalation and an ordered deadline, answered with `result`. */
  const lifecycle = async (result: (typeof RESULTS)[number]) => {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-text-${result}` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id: string = started.json().id;
    expect((await call('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {})).statusCode).toBe(200);
    await expect
      .poll(async () => (await timelineOf(id)).map((e) => e.type), { timeout: 30_000, interval: 250 })
      .toContain('escalated');
    const dueAt = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const ordered = await call(
      'office',
      'POST',
      `/api/v1/escalations/${encodeURIComponent(`${id}:1`)}/order`,
      {
        dueAt,
        note: '请于今日内办结',
      },
    );
    expect(ordered.statusCode, ordered.body).toBe(200);
    const answered = await call('iss-a', 'POST', `/api/v1/verifications/${id}/respond`, {
      result,
      fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
    });
    expect(answered.statusCode, answered.body).toBe(200);
    const types = (await timelineOf(id)).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['reminder_sent', 'escalated', 'deadline_ordered', 'answered']),
    );
    return { id, dueAt };
  };

  it('reads Beijing time and Chinese labels everywhere: inbox, webhook and the rows written', async () => {
    const cases = await Promise.all(RESULTS.map((r) => lifecycle(r)));
    const ids = cases.map((c) => c.id);

    // The in-app inbox of everyone concerned: title and text.
    const shown: { kind: string; title: string; message: string; createdAtText: string; caseId: string }[] =
      [];
    for (const who of Object.keys(auth)) {
      const res = await call(who, 'GET', '/api/v1/notifications?limit=200');
      expect(res.statusCode, res.body).toBe(200);
      shown.push(...res.json().items.filter((n: { caseId: string }) => ids.includes(n.caseId)));
    }
    expect(new Set(shown.map((n) => n.kind))).toEqual(
      new Set(['new_task', 'reminder', 'escalated', 'deadline_ordered', 'answered']),
    );
    for (const n of shown) {
      for (const text of [n.title, n.message, n.createdAtText]) {
        expect(text, `${n.kind}: ${text}`).not.toMatch(ISO);
        expect(text, `${n.kind}: ${text}`).not.toMatch(CODE);
      }
    }
    // The reminder and the order name their time in Beijing time; each answer its result's label.
    const reminder = shown.find((n) => n.kind === 'reminder');
    expect(reminder?.message).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/);
    for (const c of cases)
      expect(
        shown.some(
          (n) =>
            n.caseId === c.id && n.kind === 'deadline_ordered' && n.message.includes(beijingTime(c.dueAt)),
        ),
      ).toBe(true);
    for (const [i, r] of RESULTS.entries())
      expect(
        shown.some(
          (n) =>
            n.caseId === ids[i] &&
            n.kind === 'answered' &&
            [`协查已反馈：${LABELS[r]}`, `协查已反馈：${LABELS[r]}（超时反馈）`].includes(n.message),
        ),
      ).toBe(true);

    // The webhook: what a gateway sends (title, text, time) reads the same; instants stay ISO as data.
    await expect
      .poll(() => received.filter((n) => n.kind === 'answered').length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(4);
    const hooked = received.filter((n) => n.caseId && ids.includes(n.caseId));
    expect(new Set(hooked.map((n) => n.kind))).toEqual(
      new Set(['new_task', 'reminder', 'escalated', 'deadline_ordered', 'answered']),
    );
    for (const n of hooked) {
      for (const text of [n.title, n.text, n.createdAtText]) {
        expect(text, `${n.kind}: ${text}`).not.toMatch(ISO);
        expect(text, `${n.kind}: ${text}`).not.toMatch(CODE);
      }
      expect(n.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(n.createdAtText).toBe(beijingTime(n.createdAt));
    }

    // The rows as written.
    const rows = await h.database.db.select().from(notifications).where(inArray(notifications.caseId, ids));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.message).not.toMatch(ISO);
      expect(r.message).not.toMatch(CODE);
    }
  }, 90_000);

  it('older rows, written with ISO instants and codes, read Beijing time and labels through the API', async () => {
    const at = new Date();
    const legacy = [
      {
        kind: 'reminder',
        message: '协查 淄人社协〔2026〕9号 将于 2026-11-30T19:15:43.230Z 到期，请及时办理',
      },
      { kind: 'answered', message: '协查已反馈：not_found' },
      { kind: 'deadline_ordered', message: '联席会议办公室责成于 2026-12-01T09:30:00.000Z 前办结：请办结' },
      { kind: 'some_new_kind', message: '状态：awaiting_registration，时限 2d' },
    ];
    await h.database.db.insert(notifications).values(
      legacy.map((l, i) => ({
        id: `legacy-${target.name}-${i}`,
        caseId: null,
        recipientStaffId: null,
        recipientUnit: 'ZB-RS',
        kind: l.kind,
        message: l.message,
        createdAt: new Date(at.getTime() - i),
      })),
    );
    const items = (await call('req-a-lia', 'GET', '/api/v1/notifications?limit=200')).json().items as {
      id: string;
      title: string;
      message: string;
    }[];
    const mine = items
      .filter((n) => n.id.startsWith(`legacy-${target.name}-`))
      .sort((a, b) => a.id.localeCompare(b.id));
    expect(mine.map((n) => n.message)).toEqual([
      '协查 淄人社协〔2026〕9号 将于 2026年12月1日 03:15 到期，请及时办理',
      '协查已反馈：查无此人（事）',
      '联席会议办公室责成于 2026年12月1日 17:30 前办结：请办结',
      '状态：待登记，时限 2 个工作日',
    ]);
    expect(mine.map((n) => n.title)).toEqual(['到期提醒', '协查已反馈', '责成限时办结', '系统通知']);
    for (const n of mine) expect(`${n.title}${n.message}`).not.toMatch(CODE);
    expect(readableText('2026-11-30T19:15:43+08:00')).toBe('2026年11月30日 19:15');
  });
});
