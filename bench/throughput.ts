/**
 * Ours against bare Temporal on the same server, in one run (issue 11, figures 1 and 2):
 *   - starts/s: N case starts at concurrency C;
 *   - cases/s: N whole cases (start + register + respond, each waiting for its answer);
 *   - respond round trip at U concurrent users (cases registered beforehand): p50/p99.
 * "Ours" goes through real HTTP (the Fastify app listening on loopback, fetch with keep-alive), the case
 * gateway, the worker with its activities and the database; "bare" is bench/bare/workflows.ts, the same
 * three Updates with no activity, database or HTTP. Both workers and clients live in this one process.
 *
 *   npx tsx bench/throughput.ts [cases=200] [concurrency=8] [users=50]
 *
 * Temporal: the dev server (`temporal server start-dev`, as `npm start` runs it), or an existing server
 * at BENCH_TEMPORAL_ADDRESS (scripts/temporal-server.sh starts the real one on PostgreSQL). Database:
 * PGlite, or the PostgreSQL server of TEST_DATABASE_URL when set. Appends its figures to bench/results.md.
 */
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../app/temporal.ts';
import { createApiHarness, startBody } from '../test/support/api.ts';
import type { DatabaseTarget } from '../test/support/databases.ts';
import { TEST_PAYLOAD_KEY, uniqueTaskQueue } from '../test/support/temporal.ts';
import { bareCase, bareOpened, bareRegister, bareRespond } from './bare/workflows.ts';
import { benchDatabaseTarget, benchTemporal, percentile, pool } from './support.ts';

const CASES = Number(process.argv[2] ?? 200);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const USERS = Number(process.argv[4] ?? 50);

/** The three operations a system offers the benchmark. */
interface System {
  start(key: string): Promise<string>;
  register(id: string): Promise<void>;
  respond(id: string): Promise<void>;
}

interface Figures {
  startsPerSecond: number;
  casesPerSecond: number;
  caseP50: number;
  caseP95: number;
  respondP50: number;
  respondP99: number;
}

async function measure(name: string, sys: System): Promise<Figures> {
  const run = `${name}-${Date.now()}`;
  // Warm-up: connections, JIT, caches.
  await pool(10, CONCURRENCY, async (i) => {
    const id = await sys.start(`${run}-warm-${i}`);
    await sys.register(id);
    await sys.respond(id);
  });

  let t = performance.now();
  const started = await pool(CASES, CONCURRENCY, (i) => sys.start(`${run}-s-${i}`));
  const startsPerSecond = CASES / ((performance.now() - t) / 1000);

  const lat: number[] = [];
  t = performance.now();
  await pool(CASES, CONCURRENCY, async (i) => {
    const t0 = performance.now();
    const id = await sys.start(`${run}-c-${i}`);
    await sys.register(id);
    await sys.respond(id);
    lat.push(performance.now() - t0);
  });
  const casesPerSecond = CASES / ((performance.now() - t) / 1000);

  // Respond at USERS concurrent users: the cases started above, registered first (not timed).
  const ready = started.slice(0, Math.max(USERS * 2, Math.min(started.length, USERS * 4)));
  await pool(ready.length, CONCURRENCY, (i) => sys.register(ready[i] as string));
  const respondLat: number[] = [];
  await pool(ready.length, USERS, async (i) => {
    const t0 = performance.now();
    await sys.respond(ready[i] as string);
    respondLat.push(performance.now() - t0);
  });
  const f = {
    startsPerSecond,
    casesPerSecond,
    caseP50: percentile(lat, 0.5),
    caseP95: percentile(lat, 0.95),
    respondP50: percentile(respondLat, 0.5),
    respondP99: percentile(respondLat, 0.99),
  };
  console.log(name, f);
  return f;
}

async function bareSystem(env: TestWorkflowEnvironment): Promise<{ sys: System; stop(): Promise<void> }> {
  const taskQueue = uniqueTaskQueue('bare');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./bare/workflows.ts', import.meta.url)),
    // The same payload encryption as ours (the environment's client encrypts), so the codec is no difference.
    dataConverter: dataConverter(TEST_PAYLOAD_KEY),
  });
  const running = worker.run();
  const c = env.client.workflow;
  return {
    sys: {
      start: (key) =>
        c.executeUpdateWithStart(bareOpened, {
          startWorkflowOperation: new WithStartWorkflowOperation(bareCase, {
            workflowId: `bare-${key}`,
            taskQueue,
            args: [`bare-${key}`],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
          updateId: `opened-${key}`,
        }),
      register: async (id) => {
        await c.getHandle(id).executeUpdate(bareRegister, { args: ['iss-a'] });
      },
      respond: async (id) => {
        await c.getHandle(id).executeUpdate(bareRespond, { args: ['iss-a'] });
      },
    },
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

async function oursSystem(
  env: TestWorkflowEnvironment,
  target: DatabaseTarget,
): Promise<{ sys: System; stop(): Promise<void> }> {
  const h = await createApiHarness(env, target);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const [req, iss] = await Promise.all([h.login('req-a'), h.login('iss-a')]);
  const post = async (path: string, authorization: string, body: unknown, key?: string) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  return {
    sys: {
      start: async (key) => (await post('/api/v1/verifications', req, startBody(), key)).id,
      register: async (id) => {
        await post(`/api/v1/verifications/${id}/register`, iss, {});
      },
      respond: async (id) => {
        await post(`/api/v1/verifications/${id}/respond`, iss, {
          result: 'consistent',
          fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
        });
      },
    },
    stop: () => h.close(),
  };
}

async function main() {
  const { env, server } = await benchTemporal();
  const rows: string[] = [];
  try {
    const bare = await bareSystem(env);
    const b = await measure('bare', bare.sys).finally(() => bare.stop());
    rows.push(
      `| bare Temporal | ${b.startsPerSecond.toFixed(1)} | ${b.casesPerSecond.toFixed(1)} | ${b.caseP50.toFixed(0)} | ${b.caseP95.toFixed(0)} | ${b.respondP50.toFixed(0)} | ${b.respondP99.toFixed(0)} | – | – |`,
    );
    const target = benchDatabaseTarget();
    const ours = await oursSystem(env, target);
    const o = await measure(`ours-${target.name}`, ours.sys).finally(() => ours.stop());
    rows.push(
      `| ours over HTTP, ${target.name} | ${o.startsPerSecond.toFixed(1)} | ${o.casesPerSecond.toFixed(1)} | ${o.caseP50.toFixed(0)} | ${o.caseP95.toFixed(0)} | ${o.respondP50.toFixed(0)} | ${o.respondP99.toFixed(0)} | ${(o.startsPerSecond / b.startsPerSecond).toFixed(2)} (≥ 0.6) | ${(o.casesPerSecond / b.casesPerSecond).toFixed(2)} (≥ 0.7) |`,
    );
  } finally {
    await env.teardown();
  }
  const results = fileURLToPath(new URL('./results.md', import.meta.url));
  appendFileSync(
    results,
    [
      '',
      `## throughput — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}`,
      `\`npx tsx bench/throughput.ts ${CASES} ${CONCURRENCY} ${USERS}\` on the ${server}: ${CASES} starts and ${CASES} whole cases (start + register + respond) at concurrency ${CONCURRENCY}; respond at ${USERS} concurrent users. Target: respond p99 ≤ 150 ms.`,
      '',
      '| system | starts/s | cases/s | case p50 ms | case p95 ms | respond p50 ms | respond p99 ms | starts ratio | cases ratio |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
