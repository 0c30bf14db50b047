/**
 * `npm run bench`: the benchmark suite of issue 11, one process per benchmark, one after another (each
 * measures its own side-by-side ratio in its own run, on an otherwise quiet machine). Every benchmark
 * appends its figures to bench/results.md.
 *
 *   npm run bench                      short mode: small sizes (not yet timed end to end)
 *   npm run bench -- --full            the issue's sizes (1,000,000 cases, 5,000 deadlines, 10,000 open cases)
 *   npm run bench -- throughput lists  only those (either mode)
 *
 * Needs: the Temporal CLI (`npm test` or scripts/install-temporal.sh installs it); for `lists`, a
 * PostgreSQL server in BENCH_DATABASE_URL or TEST_DATABASE_URL (and for `stats`); for `memory`, the Temporal server
 * binaries (scripts/temporal-server.sh install) and Debian's PostgreSQL. A benchmark whose needs are
 * missing is skipped with the reason. Set BENCH_TEMPORAL_ADDRESS to run throughput and escalations
 * against a real Temporal server instead of the dev server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const FULL = args.includes('--full');
const only = args.filter((a) => !a.startsWith('--'));

const pgServer = () => process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const temporalServer = () => existsSync(path.join(ROOT, '.tools/temporal-server-1.32.2/temporal-server'));
const debianPostgres = () =>
  existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').length > 0;

interface Bench {
  name: string;
  short: string[];
  full: string[];
  /** Why it cannot run here, if it cannot. */
  missing?: () => string | undefined;
}

const SUITE: Bench[] = [
  // Figures 1 and 2: starts/s and cases/s against bare Temporal; respond at 50 users.
  { name: 'throughput', short: ['60', '8', '50'], full: ['200', '8', '50'] },
  // Figure 4: escalation lateness, simultaneous deadlines and a sustained mixed load.
  { name: 'escalations', short: ['500', '5,10', '20', '15'], full: ['5000', '5,10,20', '60', '30'] },
  // Figure 3: the lists at many cases and units.
  {
    name: 'lists',
    short: ['100000', '300', '20'],
    full: ['1000000', '300', '50'],
    missing: () =>
      pgServer() ? undefined : 'set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server',
  },
  // Issue 13: the assessment figures over a year of cases (month and year ranking, the year's XLSX RSS).
  {
    name: 'stats',
    short: ['100000', '300', '10'],
    full: ['1000000', '300', '20'],
    missing: () =>
      pgServer() ? undefined : 'set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server',
  },
  // Figure 5: worker and API RSS with many open cases.
  {
    name: 'memory',
    short: ['1000', '16'],
    full: ['10000', '16'],
    missing: () =>
      !temporalServer()
        ? 'run scripts/temporal-server.sh install first (the Temporal server binaries)'
        : !debianPostgres()
          ? "Debian's PostgreSQL is not installed (scripts/test.sh installs it)"
          : undefined,
  },
  { name: 'deadlines', short: [], full: [] },
];

let failed = 0;
for (const bench of SUITE) {
  if (only.length && !only.includes(bench.name)) continue;
  const why = bench.missing?.();
  if (why) {
    console.log(`\n── ${bench.name}: skipped (${why})`);
    continue;
  }
  const benchArgs = FULL ? bench.full : bench.short;
  console.log(`\n── ${bench.name} ${benchArgs.join(' ')}`);
  const t0 = Date.now();
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench', `${bench.name}.ts`), ...benchArgs],
    { cwd: ROOT, stdio: 'inherit' },
  );
  console.log(
    `── ${bench.name}: ${res.status === 0 ? 'done' : `FAILED (${res.status ?? res.signal})`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (res.status !== 0) failed++;
}
console.log('\nFigures appended to bench/results.md.');
process.exit(failed ? 1 : 0);
