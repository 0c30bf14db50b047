/**
 * Automatic answers (issue 15): `cases` 户籍 verifications (HJ-001) of sample people started over real HTTP
 * at `concurrency`, each answered by the system from the demo data service (signed HTTP on loopback); for
 * each, the time from the start request to the answer in the read model (the requester's view: polled every
 * 50 ms). Reports auto-answered cases/s and the answer latency p50/p99, and appends them to bench/results.md.
 *
 *   npx tsx bench/connector.ts [cases=40] [concurrency=4]
 */
import { appendFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { createConnectorRegistry } from '../activities/connectors.ts';
import { DEMO_HUKOU_RECORDS, startDemoDataService } from '../app/demo-data-service.ts';
import { createApiHarness, startBody } from '../test/support/api.ts';
import { benchDatabaseTarget, benchTemporal, percentile, pool, runBench } from './support.ts';

const [cases = 40, concurrency = 4] = process.argv.slice(2).map(Number);

runBench(async () => {
  const { env, server } = await benchTemporal();
  const service = await startDemoDataService();
  const target = benchDatabaseTarget();
  const h = await createApiHarness(env, target, { connectors: createConnectorRegistry([service.connector]) });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const req = await h.login('req-a');
  const run = Date.now();

  const one = async (i: number): Promise<number> => {
    const person = DEMO_HUKOU_RECORDS[i % DEMO_HUKOU_RECORDS.length] as (typeof DEMO_HUKOU_RECORDS)[number];
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/verifications`, {
      method: 'POST',
      headers: {
        authorization: req,
        'content-type': 'application/json',
        'idempotency-key': `bench-${run}-${i}`,
      },
      body: JSON.stringify(
        startBody({
          subject: { kind: 'person', name: person.xm, idNumber: person.sfzhm },
          fields: { declaredAddress: person.hjdz },
        }),
      ),
    });
    if (res.status !== 201) throw new Error(`start: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const d = await fetch(`${base}/api/v1/verifications/${id}`, { headers: { authorization: req } });
      const body = (await d.json()) as { case: { status: string }; answer?: { automatic?: unknown } };
      if (body.case.status === 'answered') {
        if (!body.answer?.automatic) throw new Error(`${id} answered, but not automatically`);
        return performance.now() - t0;
      }
      if (performance.now() - t0 > 60_000) throw new Error(`${id} not answered within 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  // Warm-up (bundles, caches), not measured.
  await pool(2, 2, one);
  const t0 = performance.now();
  const latencies = await pool(cases, concurrency, (i) => one(i + 2));
  const seconds = (performance.now() - t0) / 1000;
  await h.close();
  await service.close();
  await env.teardown();

  const line = {
    rate: (cases / seconds).toFixed(2),
    p50: percentile(latencies, 0.5).toFixed(0),
    p99: percentile(latencies, 0.99).toFixed(0),
  };
  const text = [
    '',
    `## connector — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}`,
    `\`npx tsx bench/connector.ts ${cases} ${concurrency}\`: ${server}, ${target.name}; the embedded demo data service (signed HTTP on loopback). ${cases} 户籍 verifications (HJ-001) of sample people at ${concurrency} concurrent requesters, each answered by the system; latency = start request → answer visible in the requester's case detail (polled every 50 ms).`,
    '',
    '| auto-answered cases/s | answer latency p50 ms | p99 ms |',
    '| --- | --- | --- |',
    `| ${line.rate} | ${line.p50} | ${line.p99} |`,
    '',
  ].join('\n');
  appendFileSync(new URL('./results.md', import.meta.url), text);
  process.stdout.write(`${text}\n`);
});
