/**
 * Cost of working-time math, and what the calendar cache saves: computeDeadline on a prepared calendar
 * versus loading the calendar from the database for every call (what an uncached activity would do).
 *
 *   npx tsx bench/deadlines.ts
 *
 * Appends its figures to bench/results.md.
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createCalendarSource, loadCalendar } from '../activities/calendar-source.ts';
import { computeDeadline, defaultCalendarData, type SlaTier } from '../domain/working-time/index.ts';
import { databaseTargets } from '../test/support/databases.ts';

const N = 20_000;
const tiers: SlaTier[] = ['30m', '1d', '2d'];
const start = Date.parse('2026-01-01T00:00:00Z');
const instants = Array.from(
  { length: N },
  (_, i) => new Date(start + ((i * 7919 * 60_000) % (360 * 86_400_000))),
);

function timeIt(label: string, n: number, fn: (i: number) => unknown): { label: string; perSecond: number } {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const perSecond = n / ((performance.now() - t0) / 1000);
  return { label, perSecond };
}

async function timeAsync(label: string, n: number, fn: (i: number) => Promise<unknown>) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return { label, perSecond: n / ((performance.now() - t0) / 1000) };
}

async function main() {
  const cal = defaultCalendarData();
  const rows = [];
  for (const tier of tiers) {
    rows.push(
      timeIt(`computeDeadline ${tier} (pure)`, N, (i) => computeDeadline(instants[i] as Date, tier, cal)),
    );
  }
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  const database = await target.open();
  try {
    const source = createCalendarSource(database.db);
    rows.push(
      await timeAsync('deadline via cached calendar source (pglite)', 2000, async (i) =>
        computeDeadline(instants[i] as Date, '1d', (await source.current()).data),
      ),
    );
    rows.push(
      await timeAsync('deadline via calendar loaded per call (pglite)', 200, async (i) =>
        computeDeadline(instants[i] as Date, '1d', (await loadCalendar(database.db)).data),
      ),
    );
  } finally {
    await database.dispose();
  }
  const cached = rows.at(-2)?.perSecond ?? 1;
  const uncached = rows.at(-1)?.perSecond ?? 1;
  for (const r of rows) console.log(`${r.label}: ${r.perSecond.toFixed(0)}/s`);
  console.log(`cache speed-up: ${(cached / uncached).toFixed(1)}x`);
  appendFileSync(
    fileURLToPath(new URL('./results.md', import.meta.url)),
    [
      '',
      `## deadlines — ${new Date().toISOString()} — ${os.cpus().length} cores, Node ${process.version}`,
      '',
      '| what | per second |',
      '| --- | --- |',
      ...rows.map((r) => `| ${r.label} | ${r.perSecond.toFixed(0)} |`),
      `| ratio cached / loaded per call | ${(cached / uncached).toFixed(1)}x |`,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
