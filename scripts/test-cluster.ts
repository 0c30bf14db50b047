/**
 * `npm run test:cluster [-- cases=300]`: the fault test of a real cluster (issue 12), on loopback.
 *
 * Starts the cluster of scripts/cluster.ts (PostgreSQL, the Temporal server, two workers, two APIs, a
 * round-robin front) with demo SLAs of CLUSTER_SLA_SECONDS (default 90) so that reminders and escalations
 * fire during the test. Then, while clients start N cases through the front with Idempotency-Keys (a third
 * only started, a third registered, a third registered and answered), it injects in turn:
 *   kill -9 of a worker (restarted), kill -9 of an API (restarted; clients retry with the same keys),
 *   PostgreSQL stopped for 20 s, kill -9 of the Temporal server (restarted).
 * When every deadline has passed it checks: every case exists exactly once; every action a client saw
 * succeed is in the case; no duplicate events in the read model; every reminder and escalation fired exactly
 * once; `cases:reconcile --dry-run` finds no difference; `audit:verify` passes; `/readyz` reported the
 * PostgreSQL outage and recovered. Prints the counts and the recovery time of each fault; exit 1 on a failure.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Cluster, startCluster } from './cluster.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: number) => {
  const a = process.argv.slice(2).find((x) => x.startsWith(`${name}=`) || /^\d+$/.test(x));
  if (!a) return fallback;
  return Number(a.includes('=') ? a.split('=')[1] : a);
};
const CASES = arg('cases', 300);
const SLA_SECONDS = Number(process.env.CLUSTER_SLA_SECONDS ?? 90);
const CONCURRENCY = Number(process.env.CLUSTER_CONCURRENCY ?? 12);
/** The starts are spread over at least this long, so that the faults hit a system under load. */
const SPREAD_MS = Number(process.env.CLUSTER_SPREAD_SECONDS ?? 180) * 1000;
/** How long a client keeps retrying one request (same Idempotency-Key) before it gives up. */
const RETRY_FOR_MS = 300_000;
const PG_OUTAGE_MS = 20_000;
const VALID_ID = '11010519491231002X';

const t0 = Date.now();
const stamp = () => `+${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
const say = (line: string) => console.log(`${stamp()} ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${what}`);
  if (!ok) failures.push(what);
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`${status} ${body.slice(0, 300)}`);
  }
}

let retries = 0;
/** One request through the front, retried with the same key on network errors, 429 and 5xx. */
async function call<T>(
  front: string,
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; key?: string } = {},
): Promise<T> {
  const deadline = Date.now() + RETRY_FOR_MS;
  let delay = 200;
  for (;;) {
    let status = 0;
    let text = '';
    try {
      const res = await fetch(`${front}${url}`, {
        method,
        headers: {
          ...(opts.token ? { authorization: opts.token } : {}),
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(opts.key ? { 'idempotency-key': opts.key } : {}),
        },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(60_000),
      });
      status = res.status;
      text = await res.text();
      if (status < 300) return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      text = String(err);
    }
    if (status !== 0 && status !== 429 && status < 500) throw new HttpError(status, text);
    if (Date.now() > deadline) throw new HttpError(status, `gave up retrying: ${text}`);
    retries++;
    await sleep(delay);
    delay = Math.min(delay * 2, 3000);
  }
}

interface Seen {
  key: string;
  kind: 0 | 1 | 2;
  ids: Set<string>;
  /** Event types of the actions the client saw succeed. */
  succeeded: string[];
  error?: string;
}

async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Polls /readyz of every API directly (not through the front) twice a second. */
function watchReadiness(cluster: Cluster) {
  const samples: { at: number; api: string; status: number }[] = [];
  let on = true;
  const loop = async () => {
    while (on) {
      await Promise.all(
        cluster.apis.map(async (a) => {
          let status = 0;
          try {
            const res = await fetch(`http://127.0.0.1:${a.port}/readyz`, {
              signal: AbortSignal.timeout(3000),
            });
            status = res.status;
            await res.body?.cancel();
          } catch {}
          samples.push({ at: Date.now(), api: a.name, status });
        }),
      );
      await sleep(500);
    }
  };
  const done = loop();
  return {
    samples,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

async function main() {
  say(`cluster test: ${CASES} cases, demo SLA ${SLA_SECONDS} s, concurrency ${CONCURRENCY}`);
  const cluster = await startCluster({
    log: (l) => say(`[cluster] ${l}`),
    appEnv: {
      DEV_SLA_SECONDS: String(SLA_SECONDS),
      DEV_SLA_IN_DEPLOYMENT: 'true',
      // The shared budget of one person across both APIs: far above what this test sends.
      RATE_LIMIT_PER_MINUTE: '100000',
    },
  });
  const cleanup = () => void cluster.stop().finally(() => process.exit(130));
  process.on('SIGINT', cleanup);
  process.on('SIGTERM', cleanup);
  let exitCode = 1;
  try {
    exitCode = await run(cluster);
  } catch (err) {
    console.error(err);
  } finally {
    await cluster.stop();
  }
  say(`wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(exitCode);
}

async function run(cluster: Cluster): Promise<number> {
  const front = cluster.frontUrl;
  const login = async (username: string) =>
    `Bearer ${(await call<{ token: string }>(front, 'POST', '/api/v1/auth/login', { body: { username, password: 'demo1234' } })).token}`;
  const [req, iss] = [await login('req-a'), await login('iss-a')];
  const readiness = watchReadiness(cluster);
  const run = `ct${Date.now().toString(36)}`;

  const seen: Seen[] = [];
  const startCase = async (s: Seen) => {
    const r = await call<{ id: string }>(front, 'POST', '/api/v1/verifications', {
      token: req,
      key: s.key,
      body: {
        catalogCode: 'HJ-001',
        subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
        fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
        purpose: '社会保险参保登记',
      },
    });
    s.ids.add(r.id);
    s.succeeded.push('created');
    return r.id;
  };

  // ── the load ────────────────────────────────────────────────────────────────────────────────────────
  const loadStart = Date.now();
  const load = pool(CASES, CONCURRENCY, async (i) => {
    const s: Seen = { key: `${run}-${i}`, kind: (i % 3) as 0 | 1 | 2, ids: new Set(), succeeded: [] };
    seen.push(s);
    const notBefore = loadStart + (i * SPREAD_MS) / CASES;
    if (Date.now() < notBefore) await sleep(notBefore - Date.now());
    try {
      const id = await startCase(s);
      if (s.kind >= 1) {
        await call(front, 'POST', `/api/v1/verifications/${id}/register`, {
          token: iss,
          key: `${s.key}-reg`,
          body: {},
        });
        s.succeeded.push('registered');
      }
      if (s.kind === 2) {
        await call(front, 'POST', `/api/v1/verifications/${id}/respond`, {
          token: iss,
          key: `${s.key}-ans`,
          body: { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } },
        });
        s.succeeded.push('answered');
      }
    } catch (err) {
      s.error = String(err);
    }
  });
  let done = 0;
  const progress = setInterval(() => {
    done = seen.filter((s) => s.succeeded.length === s.kind + 1 || s.error).length;
    say(`load: ${done}/${CASES} cases through, ${retries} retries so far`);
  }, 15_000);

  // ── the faults, in turn, while the load runs ─────────────────────────────────────────────────────────
  const probes: Seen[] = [];
  /** Time from `since` until a new case can be started through the front again. */
  const recovered = async (since: number, name: string) => {
    const s: Seen = { key: `${run}-probe-${name}`, kind: 0, ids: new Set(), succeeded: [] };
    probes.push(s);
    await startCase(s);
    return (Date.now() - since) / 1000;
  };
  const recovery: Record<string, number> = {};
  let pgDown: [number, number] = [0, 0];
  /** When the timers could not run: PostgreSQL or Temporal down, until a case could be started again. */
  const outages: [number, number][] = [];
  await sleep(Math.min(20_000, SPREAD_MS / 6));
  {
    const w = cluster.workers[0];
    if (!w) throw new Error('no worker');
    say(`fault 1: kill -9 ${w.name} (pid ${w.pid()})`);
    const at = Date.now();
    w.kill9();
    await w.restart();
    recovery['kill -9 worker'] = await recovered(at, 'worker');
    say(`  recovered in ${recovery['kill -9 worker']} s (${w.name} restarted, pid ${w.pid()})`);
  }
  await sleep(15_000);
  {
    const a = cluster.apis[1];
    if (!a) throw new Error('no api');
    say(`fault 2: kill -9 ${a.name} (pid ${a.pid()})`);
    const at = Date.now();
    a.kill9();
    await sleep(2000);
    await a.restart();
    recovery['kill -9 API'] = (Date.now() - at) / 1000;
    await recovered(at, 'api');
    say(`  ${a.name} serving again after ${recovery['kill -9 API']} s (pid ${a.pid()})`);
  }
  await sleep(15_000);
  {
    say(`fault 3: PostgreSQL stopped for ${PG_OUTAGE_MS / 1000} s`);
    await cluster.postgres.stop();
    const down = Date.now();
    await sleep(PG_OUTAGE_MS);
    await cluster.postgres.start();
    const up = Date.now();
    pgDown = [down, up];
    recovery['PostgreSQL down 20 s'] = await recovered(up, 'postgres');
    outages.push([down, Date.now()]);
    say(`  PostgreSQL back; a case starts again ${recovery['PostgreSQL down 20 s']} s after its restart`);
  }
  await sleep(15_000);
  {
    say('fault 4: kill -9 the Temporal server');
    const at = Date.now();
    await cluster.temporal.kill9();
    await cluster.temporal.restart();
    recovery['kill -9 Temporal server'] = await recovered(at, 'temporal');
    outages.push([at, Date.now()]);
    say(`  recovered in ${recovery['kill -9 Temporal server']} s (restart included)`);
  }

  await load;
  clearInterval(progress);
  const loadSeconds = (Date.now() - loadStart) / 1000;
  say(`load done in ${loadSeconds.toFixed(0)} s, ${retries} retries`);
  const all = [...seen, ...probes];
  const errors = all.filter((s) => s.error);
  for (const e of errors.slice(0, 5)) say(`  client error ${e.key}: ${e.error}`);

  // ── wait for every deadline (and the escalation it causes) ──────────────────────────────────────────
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  const ids = [...new Set(all.flatMap((s) => [...s.ids]))];
  const unanswered = all.filter((s) => s.kind !== 2).flatMap((s) => [...s.ids]);
  const waitUntil = Date.now() + SLA_SECONDS * 1000 + 180_000;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `select count(distinct case_id) as n from case_events where type = 'escalated' and case_id = any($1)`,
      [unanswered],
    );
    const escalated = Number(rows[0]?.n);
    if (escalated >= unanswered.length || Date.now() > waitUntil) break;
    say(`waiting for the deadlines: ${escalated}/${unanswered.length} unanswered cases escalated`);
    await sleep(10_000);
  }
  // Reminders and escalations in flight settle.
  await sleep(5000);
  await readiness.stop();

  // ── the checks ──────────────────────────────────────────────────────────────────────────────────────
  console.log('\nchecks');
  check(errors.length === 0, `every client request succeeded in the end (${errors.length} gave up)`);
  const multi = all.filter((s) => s.ids.size > 1);
  check(multi.length === 0, `one case per Idempotency-Key (${multi.length} keys got two case ids)`);
  const rowCount = await db.query<{ n: string; total: string }>(
    `select count(*) filter (where id = any($1)) as n, count(*) as total from cases`,
    [ids],
  );
  const inDb = Number(rowCount.rows[0]?.n);
  const totalRows = Number(rowCount.rows[0]?.total);
  check(
    inDb === ids.length && totalRows === ids.length && ids.length === all.length,
    `every case exists exactly once: ${all.length} keys, ${ids.length} case ids, ${inDb} rows (${totalRows} in all)`,
  );

  const events = await db.query<{ case_id: string; type: string; n: string | null; at: Date; c: string }>(
    `select case_id, type, data->>'n' as n, min(at) as at, count(*) as c from case_events
      where type in ('created', 'registered', 'answered', 'reminder_sent', 'escalated')
      group by case_id, type, data->>'n'`,
  );
  const byCase = new Map<string, Map<string, { at: Date; c: number }>>();
  for (const r of events.rows) {
    const m = byCase.get(r.case_id) ?? new Map();
    m.set(r.type === 'reminder_sent' ? `reminder_sent:${r.n}` : r.type, { at: r.at, c: Number(r.c) });
    byCase.set(r.case_id, m);
  }
  let actions = 0;
  let lostActions = 0;
  for (const s of all)
    for (const id of s.ids)
      for (const t of s.succeeded) {
        actions++;
        if (!byCase.get(id)?.has(t)) lostActions++;
      }
  check(
    lostActions === 0,
    `every action a client saw succeed is in its case: ${actions} actions, lost ${lostActions}`,
  );
  const dupes = events.rows.filter((r) => Number(r.c) > 1).length;
  const seqDupes = await db.query<{ n: string }>(
    `select count(*) as n from (select case_id, seq from case_events group by 1, 2 having count(*) > 1) d`,
  );
  const escDupes = await db.query<{ n: string }>(
    `select count(*) as n from (select case_id, level, routing_no from escalations group by 1, 2, 3 having count(*) > 1) d`,
  );
  const duplicates = dupes + Number(seqDupes.rows[0]?.n) + Number(escDupes.rows[0]?.n);
  check(duplicates === 0, `no duplicate events in the read model: duplicates ${duplicates}`);

  // Timers: a case answered at A fires reminder n (at receivedAt + f_n·SLA) iff f_n·SLA < A - receivedAt, and
  // escalates iff its deadline came before A. Within 3 s of the boundary either outcome is right. By design the
  // workflow drops a reminder whose deadline has already passed when it wakes (it escalates instead): a
  // reminder missing for that reason, because an outage spanned its instant and the deadline (plus the time
  // the backlog of timers takes to drain, CATCH_UP_MS), is counted apart, as skipped; any other is wrong.
  const received = await db.query<{ id: string; received_at: Date; due_at: Date }>(
    `select id, received_at, due_at from cases where id = any($1)`,
    [ids],
  );
  const fractions = [0.5, 0.8];
  let reminders = 0;
  let escalations = 0;
  let timerWrong = 0;
  let skipped = 0;
  const CATCH_UP_MS = 20_000;
  const spannedByOutage = (from: number, to: number) =>
    outages.some(([s, e]) => s <= from + 1000 && to <= e + CATCH_UP_MS);
  const wrongExamples: string[] = [];
  for (const r of received.rows) {
    const m = byCase.get(r.id) ?? new Map();
    const answeredAt = m.get('answered')?.at.getTime() ?? Number.POSITIVE_INFINITY;
    const expect = (instant: number, key: string) => {
      const fired = m.get(key)?.c ?? 0;
      if (key === 'escalated') escalations += fired;
      else reminders += fired;
      if (
        key !== 'escalated' &&
        fired === 0 &&
        instant < answeredAt &&
        spannedByOutage(instant, r.due_at.getTime())
      ) {
        skipped++;
        return;
      }
      if (Math.abs(answeredAt - instant) < 3000 ? fired > 1 : fired !== (instant < answeredAt ? 1 : 0)) {
        timerWrong++;
        if (wrongExamples.length < 5) wrongExamples.push(`${r.id} ${key} fired ${fired}×`);
      }
    };
    const start = r.received_at.getTime();
    fractions.forEach((f, i) => {
      expect(start + f * SLA_SECONDS * 1000, `reminder_sent:${i + 1}`);
    });
    expect(r.due_at.getTime(), 'escalated');
  }
  for (const w of wrongExamples) console.log(`        ${w}`);
  check(
    timerWrong === 0,
    `every reminder and escalation fired exactly once: ${reminders} reminders, ${escalations} escalations, ` +
      `${skipped} reminders skipped because an outage outlasted their deadline, wrong ${timerWrong}`,
  );

  const env = { ...process.env, ...cluster.env, LOG_LEVEL: 'warn' };
  const exec = promisify(execFile);
  const tsx = (script: string, args: string[], extra: Record<string, string> = {}) =>
    exec(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { ...env, ...extra },
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
  const rec = await tsx('app/cases-reconcile.ts', ['--by', 'stf-admin', '--dry-run']);
  const summary = rec.out.split('\n').find((l) => l.startsWith('cases:reconcile')) ?? rec.out.slice(0, 400);
  check(
    rec.code === 0 && /repaired 0, closed 0, skipped 0/.test(summary),
    `the read model equals the workflows' snapshots: ${summary.trim()}`,
  );
  for (const a of cluster.apis) {
    const v = await tsx('app/audit-verify.ts', [], {
      AUDIT_ANCHOR_FILE: path.join(cluster.dir, `${a.name}-anchors.log`),
    });
    check(
      v.code === 0,
      `the audit chain verifies (anchors of ${a.name}): ${v.out.trim().split('\n').at(-1)}`,
    );
  }

  const [down, up] = pgDown;
  const during = readiness.samples.filter((s) => s.at > down + 2000 && s.at < up);
  const after = readiness.samples.filter((s) => s.at > up + 30_000);
  const reported = cluster.apis.every((a) => during.some((s) => s.api === a.name && s.status === 503));
  const firstReadyAfter = cluster.apis.map((a) => {
    const s = readiness.samples.find((x) => x.api === a.name && x.at > up && x.status === 200);
    return s ? (s.at - up) / 1000 : Number.NaN;
  });
  check(
    reported && after.length > 0 && after.slice(-cluster.apis.length).every((s) => s.status === 200),
    `/readyz answered 503 while PostgreSQL was down (${during.filter((s) => s.status === 503).length}/${during.length} samples) and 200 again ${firstReadyAfter.map((x) => `${x} s`).join(', ')} after it restarted`,
  );
  await db.end();

  console.log('\nsummary');
  console.log(
    `  cases ${all.length} (${CASES} + ${probes.length} probes), actions ${actions}, client retries ${retries}`,
  );
  console.log(
    `  timers fired: ${reminders} reminders, ${escalations} escalations (${skipped} reminders skipped: deadline passed during an outage)`,
  );
  console.log(`  duplicates = ${duplicates}, lost = ${lostActions + (ids.length - inDb)}`);
  console.log(`  load ${loadSeconds.toFixed(0)} s for ${CASES} cases`);
  for (const [name, s] of Object.entries(recovery))
    console.log(`  recovery: ${name.padEnd(26)} ${s.toFixed(1)} s`);
  console.log(failures.length ? `\nFAIL (${failures.length}): ${failures.join('; ')}` : '\nPASS');
  return failures.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
