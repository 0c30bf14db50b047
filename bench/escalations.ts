/**
 * Escalation lateness (issue 11, figure 4), through the whole system in one process (HTTP API, gateway,
 * worker tuned as app/system.ts tunes it, database):
 *
 *   A. `simultaneous` cases whose deadlines all fall in the same minute (spread over its 60 seconds, no
 *      reminders): how late each escalation is, p50/p99/max, and none missing;
 *   B. a sustained mixed load at each start rate of `rates`: cases started at a steady rate for `seconds`,
 *      each with a deadline `sla` seconds after its start and reminders at half and 80 % of it, so
 *      reminders and escalations fire while the starts go on; the highest rate whose escalation
 *      lateness p99 stays within 1 s.
 *
 * Lateness is measured twice per case: in the engine (the `escalated` event's instant, the workflow's
 * clock when it handled the timer, minus the deadline) and as the office sees it (the first poll, every
 * 200 ms, that finds the escalation in the read model, minus the deadline).
 *
 *   npx tsx bench/escalations.ts [simultaneous=5000] [rates=5,10,20] [seconds=60] [sla=30]   (simultaneous 0: B only)
 *
 * Temporal: the dev server, or BENCH_TEMPORAL_ADDRESS (scripts/temporal-server.sh starts the real one on
 * PostgreSQL). Database: the PostgreSQL of TEST_DATABASE_URL when set, else PGlite. Appends to results.md.
 */
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { and, eq, gte } from 'drizzle-orm';
import { loadConfig } from '../app/config.ts';
import { workerTuning } from '../app/system.ts';
import { escalations } from '../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../test/support/api.ts';
import type { DeadlineResult } from '../workflows/activity-contract.ts';
import { benchDatabaseTarget, benchTemporal, percentile, pool, runBench } from './support.ts';

const SIMULTANEOUS = Number(process.argv[2] ?? 5000);
const RATES = (process.argv[3] ?? '5,10,20').split(',').filter(Boolean).map(Number);
const SECONDS = Number(process.argv[4] ?? 60);
const SLA = Number(process.argv[5] ?? 30);
const POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The deadline the next start gets: set by the phase that starts it. */
let nextDeadline: (receivedAt: string) => DeadlineResult = () => {
  throw new Error('no deadline chosen');
};

interface Tracked {
  id: string;
  dueAt: number;
}

interface Lateness {
  count: number;
  missing: number;
  engineP50: number;
  engineP99: number;
  engineMax: number;
  seenP50: number;
  seenP99: number;
  seenMax: number;
}

/**
 * Watches the read model for escalations while the load runs. One query per poll, on the escalations
 * table's (status, opened_at) index, for what opened since `since`: a poll must not compete with the
 * worker for the database it measures (PGlite has a single connection). Cases are tracked as their starts
 * answer (`track`); `done(until)` waits until every tracked case has escalated or `until` passes.
 */
function watchEscalations(h: ApiHarness, since: Date) {
  const due = new Map<string, number>();
  const found = new Map<string, { at: number; polledAt: number }>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const polledAt = Date.now();
      const rows = await h.database.db
        .select({ caseId: escalations.caseId, at: escalations.openedAt })
        .from(escalations)
        .where(and(eq(escalations.status, 'open'), gte(escalations.openedAt, since)));
      for (const r of rows) if (!found.has(r.caseId)) found.set(r.caseId, { at: r.at.getTime(), polledAt });
      await sleep(Math.max(0, POLL_MS - (Date.now() - polledAt)));
    }
  })();
  return {
    track(c: Tracked) {
      due.set(c.id, c.dueAt);
    },
    async done(until: number, counted: (c: Tracked) => boolean = () => true): Promise<Lateness> {
      const tracked = () => [...due].map(([id, dueAt]) => ({ id, dueAt })).filter(counted);
      while (Date.now() < until && tracked().some((c) => !found.has(c.id))) await sleep(POLL_MS);
      stopped = true;
      await loop;
      const engine: number[] = [];
      const seen: number[] = [];
      let missing = 0;
      for (const c of tracked()) {
        const f = found.get(c.id);
        if (!f) {
          missing++;
          continue;
        }
        engine.push(f.at - c.dueAt);
        seen.push(f.polledAt - c.dueAt);
      }
      const q = (xs: number[], p: number) => percentile(xs, p);
      return {
        count: engine.length,
        missing,
        engineP50: q(engine, 0.5),
        engineP99: q(engine, 0.99),
        engineMax: Math.max(0, ...engine),
        seenP50: q(seen, 0.5),
        seenP99: q(seen, 0.99),
        seenMax: Math.max(0, ...seen),
      };
    },
  };
}

async function main() {
  const { env, server } = await benchTemporal();
  const target = benchDatabaseTarget();
  const defaults = loadConfig({});
  const h = await createApiHarness(env, target, {
    caseDeadline: async ({ receivedAt }) => nextDeadline(receivedAt),
    // Tuned as a deployment with the defaults is (app/config.ts): the pool's size, the case cache's bound.
    tuning: workerTuning({
      connections: target.name === 'postgres' ? defaults.dbPoolSize : 1,
      cachedCases: defaults.workerCachedCases,
    }),
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const token = await h.login('req-a');
  const start = async (key: string): Promise<Tracked> => {
    const res = await fetch(`${base}/api/v1/verifications`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(startBody()),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`start: ${res.status} ${text}`);
    const body = JSON.parse(text) as { id: string; dueAt: string };
    return { id: body.id, dueAt: Date.parse(body.dueAt) };
  };
  const run = `esc-${Date.now()}`;
  const lines: string[] = [];
  try {
    // ── A: every deadline in the same minute ─────────────────────────────────────────────────────
    // The minute is placed after the starts: a warm-up measures the start rate, with a wide margin.
    nextDeadline = (receivedAt) => ({
      effectiveReceivedAt: receivedAt,
      dueAt: new Date(Date.parse(receivedAt) + 3_600_000).toISOString(),
      flags: [],
      reminderAt: [],
    });
    const warmT0 = performance.now();
    await pool(100, 16, (i) => start(`${run}-warm-${i}`));
    const rate = 100 / ((performance.now() - warmT0) / 1000);
    if (SIMULTANEOUS > 0) {
      const minute = Date.now() + Math.ceil((SIMULTANEOUS / rate) * 1.6 + 30) * 1000;
      let n = 0;
      nextDeadline = (receivedAt) => {
        const dueAt = minute + ((n++ * 997) % 60_000);
        return {
          effectiveReceivedAt: receivedAt,
          dueAt: new Date(dueAt).toISOString(),
          flags: [],
          reminderAt: [],
        };
      };
      const watch = watchEscalations(h, new Date(minute - 60_000));
      const fillT0 = performance.now();
      const started = await pool(SIMULTANEOUS, 16, (i) => start(`${run}-a-${i}`));
      for (const c of started) watch.track(c);
      const fillSeconds = (performance.now() - fillT0) / 1000;
      const filledBefore = Date.now() < minute;
      console.log(
        `A: ${started.length} cases started in ${fillSeconds.toFixed(0)} s; deadlines in the minute at ${new Date(minute).toISOString()}`,
      );
      const a = await watch.done(minute + 60_000 + 300_000);
      console.log('A', a);
      lines.push(
        `| A: ${SIMULTANEOUS} deadlines in one minute${filledBefore ? '' : ' (the starts overran the minute!)'} | – | ${a.count} | ${a.missing} | ${a.engineP50} | ${a.engineP99} | ${a.engineMax} | ${a.seenP50} | ${a.seenP99} | ${a.seenMax} | ${a.seenP99 <= 1000 && a.missing === 0 ? 'met' : 'missed'} |`,
      );
    }

    // ── B: sustained starts while reminders and escalations fire ─────────────────────────────────
    nextDeadline = (receivedAt) => {
      const t = Date.parse(receivedAt);
      return {
        effectiveReceivedAt: receivedAt,
        dueAt: new Date(t + SLA * 1000).toISOString(),
        flags: [],
        reminderAt: [0.5, 0.8].map((f) => new Date(t + f * SLA * 1000).toISOString()),
      };
    };
    let best = 0;
    for (const r of RATES) {
      const t0 = Date.now();
      const total = Math.round(r * SECONDS);
      const startLat: number[] = [];
      // Watched from the first start: the escalations of the early cases fall while later ones start.
      const watch = watchEscalations(h, new Date(t0));
      const started: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        // Open loop: each start at its instant, whether or not the earlier ones have answered.
        await sleep(Math.max(0, t0 + (i * 1000) / r - Date.now()));
        const s0 = Date.now();
        started.push(
          start(`${run}-b${r}-${i}`).then(
            (c) => {
              startLat.push(Date.now() - s0);
              watch.track(c);
            },
            (err) => console.error(String(err)),
          ),
        );
      }
      await Promise.all(started);
      const achieved = startLat.length / ((Date.now() - t0) / 1000);
      // Only deadlines that fell while the starts went on count for the mixed load.
      const b = await watch.done(Date.now() + SLA * 1000 + 300_000, (c) => c.dueAt <= t0 + SECONDS * 1000);
      console.log(`B ${r}/s`, { achieved, startP99: percentile(startLat, 0.99), ...b });
      const ok = b.count > 0 && b.seenP99 <= 1000 && b.missing === 0 && achieved >= 0.9 * r;
      if (ok) best = r;
      lines.push(
        `| B: ${r} starts/s for ${SECONDS} s (achieved ${achieved.toFixed(1)}/s, start p99 ${percentile(startLat, 0.99)} ms), SLA ${SLA} s with 2 reminders | ${r} | ${b.count} | ${b.missing} | ${b.engineP50} | ${b.engineP99} | ${b.engineMax} | ${b.seenP50} | ${b.seenP99} | ${b.seenMax} | ${ok ? 'met' : 'missed'} |`,
      );
      if (!ok) break;
    }
    lines.push(
      '',
      `Highest start rate with escalation lateness p99 ≤ 1 s (as seen in the read model): **${best ? `${best}/s` : 'none of those tried'}** (target: 10/s).`,
    );
  } finally {
    await h.close();
    await env.teardown();
  }
  appendFileSync(
    fileURLToPath(new URL('./results.md', import.meta.url)),
    [
      '',
      `## escalations — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}`,
      `\`npx tsx bench/escalations.ts ${SIMULTANEOUS} ${RATES.join(',')} ${SECONDS} ${SLA}\` on the ${server} with ${target.name}, API and worker in one process. Lateness in ms: "engine" = the escalated event's instant − the deadline; "seen" = the first ${POLL_MS} ms poll that finds it in the read model − the deadline. Target: p99 ≤ 1000 ms, none missing.`,
      '',
      '| load | rate/s | escalated | missing | engine p50 | engine p99 | engine max | seen p50 | seen p99 | seen max | target |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...lines,
      '',
    ].join('\n'),
  );
}

runBench(main);
