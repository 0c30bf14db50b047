/** What the benchmarks share: the server and database they run on, a pool of concurrent clients, percentiles. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { dataConverter } from '../app/temporal.ts';
import { type DatabaseTarget, databaseTargets } from '../test/support/databases.ts';
import { createDevServerEnv, TEST_PAYLOAD_KEY } from '../test/support/temporal.ts';

/** Runs `fn(0..n-1)` with at most `width` calls in flight; results in index order. */
export async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** The p-quantile (0..1) of the samples, nearest rank. */
export const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;

/**
 * The Temporal server a benchmark runs on: the one at BENCH_TEMPORAL_ADDRESS (scripts/temporal-server.sh
 * starts the real one on PostgreSQL), else the dev server `npm start` runs. Its client encrypts payloads
 * as ours does.
 */
export async function benchTemporal(): Promise<{ env: TestWorkflowEnvironment; server: string }> {
  const address = process.env.BENCH_TEMPORAL_ADDRESS;
  if (!address)
    return { env: await createDevServerEnv(), server: 'Temporal dev server (temporal server start-dev)' };
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address,
    namespace: 'default',
    client: { dataConverter: dataConverter(TEST_PAYLOAD_KEY) },
  });
  return { env, server: `Temporal server at ${address}` };
}

/** PostgreSQL when TEST_DATABASE_URL is set (the deployment's database), else PGlite (npm start's). */
export function benchDatabaseTarget(): DatabaseTarget {
  const targets = databaseTargets();
  const target = targets.find((x) => x.name === 'postgres') ?? targets[0];
  if (!target) throw new Error('no database target');
  return target;
}

/** Runs a benchmark's main and exits (a worker or a pool left behind must not keep the process alive). */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
