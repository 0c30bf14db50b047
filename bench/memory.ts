/**
 * Worker and API memory at rest with many open cases (issue 11, figure 5), on the deployment's shape: a
 * real cluster (scripts/cluster.ts) with one worker and one API process, Temporal 1.32.2 on PostgreSQL.
 *
 *   1. RSS of each process at rest, before any case;
 *   2. `cases` cases started through the API at `concurrency` (each stays open: a 30-minute item whose
 *      reminders come after the run);
 *   3. RSS at rest again (after 20 s without requests), and the peak (VmHWM) the process reached;
 *   4. then 50 of the oldest cases (evicted from the worker's cache, WORKER_CACHED_CASES) registered and
 *      answered: what an action costs on a case the worker must first replay.
 *
 *   npx tsx bench/memory.ts [cases=10000] [concurrency=16]
 *
 * Needs the Temporal server binaries (scripts/temporal-server.sh install) and Debian's PostgreSQL, as
 * `npm run cluster` does. Appends its figures to bench/results.md.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Cluster, startCluster } from '../scripts/cluster.ts';
import { startBody } from '../test/support/api.ts';
import { percentile, pool, runBench } from './support.ts';

const CASES = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const TARGET_MIB = 512;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** VmRSS and VmHWM of a process, in MiB. */
function memoryOf(pid: number | undefined): { rss: number; peak: number } {
  if (!pid) throw new Error('process not running');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function post<T>(c: Cluster, path: string, token: string, body: unknown, key?: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const sent = fetch(`${c.frontUrl}${path}`, {
      method: 'POST',
      headers: {
        ...(token ? { authorization: token } : {}),
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    // A keyed start is idempotent: a connection reset (a keep-alive socket the front closed as it was
    // reused) is retried with the same key, as a 5xx is. An unkeyed action is not retried.
    const res = await sent.catch((err: unknown) => {
      if (!key || attempt >= 5) throw err;
      return undefined;
    });
    if (!res) {
      await sleep(500 * (attempt + 1));
      continue;
    }
    const text = await res.text();
    if (res.status < 300) return JSON.parse(text) as T;
    // A start is idempotent by its key: a 5xx or 429 is retried with the same key.
    if ((res.status < 500 && res.status !== 429) || attempt >= 5)
      throw new Error(`${path}: ${res.status} ${text}`);
    await sleep(500 * (attempt + 1));
  }
}

async function main() {
  const cluster = await startCluster({
    workers: 1,
    apis: 1,
    appEnv: { RATE_LIMIT_PER_MINUTE: '10000000' },
    log: (l) => console.log(`[cluster] ${l}`),
  });
  const rows: string[] = [];
  try {
    const worker = cluster.workers[0];
    const api = cluster.apis[0];
    if (!worker || !api) throw new Error('cluster without worker or API');
    const login = async (username: string) =>
      `Bearer ${(await post<{ token: string }>(cluster, '/api/v1/auth/login', '', { username, password: 'demo1234' })).token}`;
    const [req, iss] = [await login('req-a'), await login('iss-a')];
    await sleep(20_000);
    const before = { worker: memoryOf(worker.pid()), api: memoryOf(api.pid()) };
    console.log('at rest, no case', before);

    const t0 = performance.now();
    const run = `mem-${Date.now()}`;
    const ids = await pool(CASES, CONCURRENCY, async (i) => {
      const { id } = await post<{ id: string }>(
        cluster,
        '/api/v1/verifications',
        req,
        startBody(),
        `${run}-${i}`,
      );
      if (i % 1000 === 999) console.log(`${i + 1} cases started`);
      return id;
    });
    const startSeconds = (performance.now() - t0) / 1000;
    await sleep(20_000);
    const after = { worker: memoryOf(worker.pid()), api: memoryOf(api.pid()) };
    console.log(`at rest with ${CASES} open cases`, after);

    const lat: number[] = [];
    await pool(50, 5, async (i) => {
      const id = ids[i] as string;
      const s = performance.now();
      await post(cluster, `/api/v1/verifications/${id}/register`, iss, {});
      await post(cluster, `/api/v1/verifications/${id}/respond`, iss, {
        result: 'consistent',
        fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
      });
      lat.push(performance.now() - s);
    });
    const fmt = (m: { rss: number; peak: number }) => `${m.rss.toFixed(0)} | ${m.peak.toFixed(0)}`;
    const cache = Number(process.env.WORKER_CACHED_CASES ?? 500);
    const oldest =
      CASES > cache
        ? `evicted from the worker's cache of ${cache} cases, so replayed first`
        : `all still in the worker's cache of ${cache} cases`;
    rows.push(
      `| worker | ${fmt(before.worker)} | ${fmt(after.worker)} | ${after.worker.rss <= TARGET_MIB ? 'met' : 'missed'} (≤ ${TARGET_MIB}) |`,
      `| API | ${fmt(before.api)} | ${fmt(after.api)} | – |`,
      '',
      `${CASES} cases started in ${startSeconds.toFixed(0)} s (${(CASES / startSeconds).toFixed(1)}/s at concurrency ${CONCURRENCY}); then register + respond on 50 of the oldest (${oldest}): p50 ${percentile(lat, 0.5).toFixed(0)} ms, p99 ${percentile(lat, 0.99).toFixed(0)} ms for both calls.`,
    );
  } finally {
    await cluster.stop();
  }
  appendFileSync(
    fileURLToPath(new URL('./results.md', import.meta.url)),
    [
      '',
      `## memory — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}`,
      `\`npx tsx bench/memory.ts ${CASES} ${CONCURRENCY}\`: one worker and one API process (\`npm run worker\`, \`npm run api\`) on Temporal 1.32.2 and PostgreSQL (scripts/cluster.ts). MiB, at rest 20 s after the last request.`,
      '',
      '| process | RSS, no case | peak | RSS with the open cases | peak | target |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

runBench(main);
