/**
 * The operators' /metrics on the real system (API harness: dev server, worker, PGlite): the counters move
 * when a case is started, registered, answered and refused; answer times are labelled by route pattern,
 * never by a raw URL; an escalation and a failed activity are counted by the worker; and /metrics is never
 * public — no token, a wrong one or a staff login token is refused (audited), and without METRICS_TOKEN
 * the API's port refuses everyone while the METRICS_PORT listener serves the same text.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId, createCaseGateway } from '../../api/services/case-gateway.ts';
import { startMetricsServer } from '../../app/metrics-server.ts';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { auditLog } from '../../db/schema.ts';
import { demoStaffId } from '../../db/seed.ts';
import type { CaseInput } from '../../workflows/definitions.ts';
import {
  type ApiHarness,
  createApiHarness,
  startBody,
  TEST_METRICS_TOKEN,
  VALID_ID,
} from '../support/api.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal.ts';

/** The samples of a Prometheus text exposition: name, labels, value. */
function samples(text: string) {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const target = databaseTargets()[0] as ReturnType<typeof databaseTargets>[number];

describe('/metrics for the operators', () => {
  let h: ApiHarness;
  let reqA: string;
  let issA: string;
  const taskQueue = uniqueTaskQueue('metrics');
  beforeAll(async () => {
    h = await createApiHarness(env, target, { taskQueue });
    [reqA, issA] = await Promise.all([h.login('req-a'), h.login('iss-a')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await h.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain; version=0.0.4');
    return res.body;
  };
  /** Scrapes until `check` holds (the worker counts after its commit, a moment after the row is there). */
  const scrapeUntil = async (check: (text: string) => boolean): Promise<string> => {
    for (let i = 0; i < 150; i++) {
      const text = await scrape();
      if (check(text)) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    return scrape();
  };

  it('counts a start, the Updates by kind and outcome, projection lag and answer times by route pattern', async () => {
    const before = await scrape();
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: reqA, 'idempotency-key': `metrics-${randomUUID()}` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    const act = (name: string, payload: object) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${id}/${name}`,
        headers: { authorization: issA },
        payload,
      });
    expect((await act('register', {})).statusCode).toBe(200);
    const answer = { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } };
    expect((await act('respond', answer)).statusCode).toBe(200);
    const again = await act('respond', answer); // the case is answered: refused
    expect(again.statusCode).toBeGreaterThanOrEqual(400);
    expect(again.statusCode).toBeLessThan(500);

    const after = await scrapeUntil(
      (t) =>
        value(t, 'xiecha_projection_lag_seconds_count') >=
        value(before, 'xiecha_projection_lag_seconds_count') + 3,
    );
    const moved = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    expect(moved('xiecha_case_starts_total', { outcome: 'ok' })).toBe(1);
    expect(moved('xiecha_case_updates_total', { kind: 'register', outcome: 'ok' })).toBe(1);
    expect(moved('xiecha_case_updates_total', { kind: 'respond', outcome: 'ok' })).toBe(1);
    expect(moved('xiecha_case_updates_total', { kind: 'respond', outcome: 'refused' })).toBe(1);
    // created, registered, answered: each projection's lag observed once.
    expect(moved('xiecha_projection_lag_seconds_count')).toBeGreaterThanOrEqual(3);

    // Answer times by the route's pattern, with the status class; no case ID in any label.
    const respond = { method: 'POST', route: '/api/v1/verifications/:id/respond' };
    expect(moved('xiecha_http_request_duration_seconds_count', { ...respond, status_class: '2xx' })).toBe(1);
    expect(moved('xiecha_http_request_duration_seconds_count', { ...respond, status_class: '4xx' })).toBe(1);
    expect(
      moved('xiecha_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/verifications',
        status_class: '2xx',
      }),
    ).toBe(1);
    expect(after).not.toContain(id);
    expect(after).not.toContain(VALID_ID);
    expect(samples(after).some((s) => s.labels.route?.includes(id))).toBe(false);
    // An unknown path is one series, whatever was asked: the web application's catch-all pattern (its 404s
    // under /api), or `unmatched` where no route matches at all (a method nothing serves).
    const catchAll = { method: 'GET', route: '/*', status_class: '4xx' };
    const unknown = { method: 'DELETE', route: 'unmatched', status_class: '4xx' };
    const beforeUnknown = await scrape();
    expect((await h.app.inject({ url: `/api/v1/nothing-${randomUUID()}` })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'DELETE', url: `/nothing-${randomUUID()}` })).statusCode).toBe(404);
    const unmatched = await scrape();
    for (const labels of [catchAll, unknown])
      expect(
        value(unmatched, 'xiecha_http_request_duration_seconds_count', labels) -
          value(beforeUnknown, 'xiecha_http_request_duration_seconds_count', labels),
      ).toBe(1);
    expect(unmatched).not.toContain('nothing-');
    // The calendar gauges are still there.
    expect(after).toMatch(/xiecha_calendar_last_covered_year \d+\n/);
  });

  it('counts an escalation the worker opens and an activity attempt that fails', async () => {
    const gateway = createCaseGateway(env.client, taskQueue, { updateTimeoutMs: 5000 });
    const before = await scrape();
    // Received 20 days ago on a 30-minute tier: its deadline has long passed, it escalates at once.
    const caseId = caseWorkflowId('ZB-RS', `metrics-esc-${randomUUID()}`);
    const input: CaseInput = {
      caseId,
      requestingUnit: 'ZB-RS',
      issuingUnit: 'ZB-GA',
      catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
      subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
      tier: '30m',
      createdBy: { staffId: demoStaffId('req-a'), name: '王芳', unitCode: 'ZB-RS', role: 'agent' },
      requestedAt: new Date(Date.now() - 20 * 86_400_000).toISOString(),
    };
    await gateway.start(input, caseId);
    const escalated = await scrapeUntil(
      (t) =>
        value(t, 'xiecha_escalations_total', { level: '1' }) >
        value(before, 'xiecha_escalations_total', { level: '1' }),
    );
    expect(
      value(escalated, 'xiecha_escalations_total', { level: '1' }) -
        value(before, 'xiecha_escalations_total', { level: '1' }),
    ).toBe(1);

    // A requesting unit that does not exist: the document number cannot be allocated (a failed attempt).
    const badId = caseWorkflowId('ZB-NONE', `metrics-bad-${randomUUID()}`);
    void gateway
      .start(
        { ...input, caseId: badId, requestingUnit: 'ZB-NONE', requestedAt: new Date().toISOString() },
        badId,
      )
      .catch(() => {});
    const failed = await scrapeUntil((t) => value(t, 'xiecha_activity_failures_total') > 0);
    expect(
      value(failed, 'xiecha_activity_failures_total', { activity: 'allocateDocNumber' }),
    ).toBeGreaterThan(0);
    await env.client.workflow
      .getHandle(badId)
      .terminate('test over')
      .catch(() => {});
  });

  it('refuses /metrics without the token, with a wrong one and with a staff login token, and audits it', async () => {
    const office = await h.login('office');
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token', office]) {
      const res = await h.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.json().detail).toContain('METRICS_TOKEN');
      expect(res.body).not.toContain('xiecha_');
    }
    const denied = await h.database.db
      .select({ detail: auditLog.detail })
      .from(auditLog)
      .where(and(eq(auditLog.action, 'metrics.read'), eq(auditLog.outcome, 'denied')));
    expect(denied.map((d) => d.detail.reason).sort()).toEqual(['bad_token', 'bad_token', 'no_token']);
  });

  it('without METRICS_TOKEN the API port refuses everyone; the METRICS_PORT listener serves the same text', async () => {
    const app = await buildAppWithoutTemporal(h.database, { metrics: h.metrics });
    try {
      const res = await app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toContain('METRICS_PORT');
    } finally {
      await app.close();
    }

    const open = await startMetricsServer({ metrics: h.metrics, host: '127.0.0.1', port: 0 });
    const guarded = await startMetricsServer({
      metrics: h.metrics,
      host: '127.0.0.1',
      port: 0,
      token: TEST_METRICS_TOKEN,
    });
    try {
      const text = await (await fetch(`http://127.0.0.1:${open.port}/metrics`)).text();
      expect(value(text, 'xiecha_case_starts_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(text).toContain('xiecha_calendar_last_covered_year');
      expect((await fetch(`http://127.0.0.1:${open.port}/other`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${guarded.port}/metrics`)).status).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${guarded.port}/metrics`, {
        headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    } finally {
      await open.close();
      await guarded.close();
    }
  });

  it('a worker process serves the Temporal SDK metrics at TEMPORAL_METRICS_ADDRESS', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    // What app/worker-main.ts does first (the Runtime is per process: a child of its own); it ends by itself.
    const script = [
      "import { pino } from 'pino';",
      "import { Runtime } from '@temporalio/worker';",
      "import { routeTemporalLogs } from './app/logger.ts';",
      `routeTemporalLogs(pino({ level: 'silent' }), { metricsAddress: '127.0.0.1:${port}' });`,
      'Runtime.instance();',
      'setTimeout(() => process.exit(0), 30_000);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      stdio: 'ignore',
    });
    try {
      let res: Response | undefined;
      for (let i = 0; i < 100 && !res; i++) {
        res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 200));
      }
      expect(res?.status).toBe(200);
      expect(res?.headers.get('content-type')).toContain('text/plain');
    } finally {
      child.kill('SIGKILL'); // the Runtime takes SIGTERM for its (absent) workers' shutdown
    }
  });
});
