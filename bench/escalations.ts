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
 *   npx tsx bench/escalations.ts [simultaneous=5000] [rates=5,10,20] [seconds=60] [sla=30]
 *
 * Temporal: the dev server, or BENCH_TEMPORAL_ADDRESS (scripts/temporal-server.sh starts the real one on
 * PostgreSQL). Database: the PostgreSQL of TEST_DATABASE_URL when set, else PGlite. Appends to results.md.
 */
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { and, eq, inArray } from 'drizzle-orm';
import { workerTuning } from '../app/system.ts';
import { caseEvents, cases } from '../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../test/support/api.ts';
import type { DeadlineResult } from '../workflows/activity-contract.ts';
import { benchDatabaseTarget, benchTemporal, percentile, pool, runBench } from './support.ts';

const SIMULTANEOUS = Number(process.argv[2] ?? 5000);
const RATES = (process.argv[3] ?? '5,10,20').split(',').map(Number);
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

/** Polls the read model until every tracked case has escalated or `until` passes. */
async function watchEscalations(h: ApiHarness, cases: Tracked[], until: number): Promise<Lateness> {
  const due = new Map(cases.map((c) => [c.id, c.dueAt]));
  const engine: number[] = [];
  const seen: number[] = [];
  const waiting = new Set(due.keys());
  while (waiting.size > 0 && Date.now() < until) {
    const polledAt = Date.now();
    const ids = [...waiting];
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await h.database.db
        .select({ caseId: caseEvents.caseId, at: caseEvents.at })
        .from(caseEvents)
        .where(and(eq(caseEvents.type, 'escalated'), inArray(caseEvents.caseId, ids.slice(i, i + 1000))));
      for (const r of rows) {
        if (!waiting.delete(r.caseId)) continue;
        const d = due.get(r.caseId) as number;
        engine.push(r.at.getTime() - d);
        seen.push(polledAt - d);
      }
    }
    await sleep(Math.max(0, POLL_MS - (Date.now() - polledAt)));
  }
  const f = (xs: number[], p: number) => percentile(xs, p);
  return {
    count: engine.length,
    missing: waiting.size,
    engineP50: f(engine, 0.5),
    engineP99: f(engine, 0.99),
    engineMax: Math.max(0, ...engine),
    seenP50: f(seen, 0.5),
    seenP99: f(seen, 0.99),
    seenMax: Math.max(0, ...seen),
  };
}

/** The deadline of each case as the read model holds it (the API chose it at the start). */
async function deadlinesOf(h: ApiHarness, ids: string[]): Promise<Tracked[]> {
  const out: Tracked[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await h.database.db
      .select({ id: cases.id, dueAt: cases.dueAt })
      .from(cases)
      .where(inArray(cases.id, ids.slice(i, i + 1000)));
    for (const r of rows) out.push({ id: r.id, dueAt: r.dueAt.getTime() });
  }
  return out;
}

async function main() {
  const { env, server } = await benchTemporal();
  const target = benchDatabaseTarget();
  const h = await createApiHarness(env, target, {
    caseDeadline: async ({ receivedAt }) => nextDeadline(receivedAt),
    tuning: workerTuning({ connections: target.name === 'postgres' ? 10 : 1, cachedCases: 1000 }),
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const token = await h.login('req-a');
  const start = async (key: string): Promise<string> => {
    const res = await fetch(`${base}/api/v1/verifications`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(startBody()),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`start: ${res.status} ${text}`);
    return (JSON.parse(text) as { id: string }).id;
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
    const fillT0 = performance.now();
    const ids = await pool(SIMULTANEOUS, 16, (i) => start(`${run}-a-${i}`));
    const fillSeconds = (performance.now() - fillT0) / 1000;
    const filledBefore = Date.now() < minute;
    // The deadline of each case, read back from the read model (the API chose it at the start).
    const cases = await deadlinesOf(h, ids);
    console.log(
      `A: ${cases.length} cases started in ${fillSeconds.toFixed(0)} s; deadlines in the minute at ${new Date(minute).toISOString()}`,
    );
    const a = await watchEscalations(h, cases, minute + 60_000 + 300_000);
    console.log('A', a);
    lines.push(
      `| A: ${SIMULTANEOUS} deadlines in one minute${filledBefore ? '' : ' (the starts overran the minute!)'} | – | ${a.count} | ${a.missing} | ${a.engineP50} | ${a.engineP99} | ${a.engineMax} | ${a.seenP50} | ${a.seenP99} | ${a.seenMax} | ${a.seenP99 <= 1000 && a.missing === 0 ? 'met' : 'missed'} |`,
    );

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
      const started: Promise<Tracked | undefined>[] = [];
      for (let i = 0; i < total; i++) {
        // Open loop: each start at its instant, whether or not the earlier ones have answered.
        await sleep(Math.max(0, t0 + (i * 1000) / r - Date.now()));
        const s0 = Date.now();
        started.push(
          start(`${run}-b${r}-${i}`).then(
            (id) => {
              startLat.push(Date.now() - s0);
              return { id, dueAt: 0 };
            },
            (err) => {
              console.error(String(err));
              return undefined;
            },
          ),
        );
      }
      const done = (await Promise.all(started)).filter((c): c is Tracked => c !== undefined);
      const achieved = done.length / ((Date.now() - t0) / 1000);
      // Only deadlines that fell while the starts went on count for the mixed load.
      const window = (
        await deadlinesOf(
          h,
          done.map((d) => d.id),
        )
      ).filter((x) => x.dueAt <= t0 + SECONDS * 1000);
      const b = await watchEscalations(h, window, Date.now() + SLA * 1000 + 300_000);
      console.log(`B ${r}/s`, { achieved, startP99: percentile(startLat, 0.99), ...b });
      const ok = b.seenP99 <= 1000 && b.missing === 0 && achieved >= 0.9 * r;
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
