/**
 * How many verifications per second the system starts and answers, end to end through the API (inject),
 * the case gateway, the Temporal dev server, the worker and the database — PGlite and, when
 * TEST_DATABASE_URL is set, PostgreSQL, measured in the same run so the ratio means something.
 *
 *   npx tsx bench/case-throughput.ts [cases=40] [concurrency=8]
 *
 * Appends its figures to bench/results.md.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createApiHarness, startBody } from '../test/support/api.ts';
import { databaseTargets } from '../test/support/databases.ts';
import { createDevServerEnv } from '../test/support/temporal.ts';
import { percentile, pool } from './support.ts';

const CASES = Number(process.argv[2] ?? 40);
const CONCURRENCY = Number(process.argv[3] ?? 8);

async function main() {
  const env = await createDevServerEnv();
  const lines: string[] = [];
  try {
    for (const target of databaseTargets()) {
      const h = await createApiHarness(env, target);
      try {
        const [req, iss] = await Promise.all([h.login('req-a'), h.login('iss-a')]);
        const run = `${target.name}-${Date.now()}`;
        const lat: number[] = [];
        const started = performance.now();
        await pool(CASES, CONCURRENCY, async (i) => {
          const t0 = performance.now();
          const s = await h.app.inject({
            method: 'POST',
            url: '/api/v1/verifications',
            headers: { authorization: req, 'idempotency-key': `bench-${run}-${i}` },
            payload: startBody(),
          });
          if (s.statusCode !== 201) throw new Error(`start: ${s.statusCode} ${s.body}`);
          const id = s.json().id as string;
          for (const [action, payload] of [
            ['register', {}],
            ['respond', { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } }],
          ] as const) {
            const r = await h.app.inject({
              method: 'POST',
              url: `/api/v1/verifications/${id}/${action}`,
              headers: { authorization: iss },
              payload,
            });
            if (r.statusCode !== 200) throw new Error(`${action}: ${r.statusCode} ${r.body}`);
          }
          lat.push(performance.now() - t0);
        });
        const seconds = (performance.now() - started) / 1000;
        const line = `| ${target.name} | ${CASES} | ${CONCURRENCY} | ${(CASES / seconds).toFixed(1)} | ${percentile(lat, 0.5).toFixed(0)} | ${percentile(lat, 0.95).toFixed(0)} |`;
        console.log(line);
        lines.push(line);
      } finally {
        await h.close();
      }
    }
  } finally {
    await env.teardown();
  }
  const results = fileURLToPath(new URL('./results.md', import.meta.url));
  appendFileSync(
    results,
    [
      '',
      `## case-throughput — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}`,
      'Each case: start (update-with-start) + register + respond through the API, each step waiting for its projection.',
      '',
      '| database | cases | concurrency | cases/s | p50 ms (3 calls) | p95 ms |',
      '| --- | --- | --- | --- | --- | --- |',
      ...lines,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
