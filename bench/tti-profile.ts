import path from 'node:path';
import { PROJECT_ROOT } from '../app/temporal-tools.ts';
import { loadInboxAndClick, withInbox } from './inbox-page.ts';
import { runBench } from './support.ts';

const args = process.argv.slice(2);
const RATE = Number(args.find((a) => a.startsWith('--rate='))?.slice('--rate='.length) ?? 4);
const dir = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(PROJECT_ROOT, 'web/dist'));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

runBench(() =>
  withInbox(dir, async ({ page, cdp }) => {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    const requests = new Map<string, { url: string; start: number; end?: number; bytes?: number }>();
    cdp.on('Network.requestWillBeSent', (e) =>
      requests.set(e.requestId, { url: e.request.url, start: Date.now() }),
    );
    cdp.on('Network.loadingFinished', (e) => {
      const r = requests.get(e.requestId);
      if (r) Object.assign(r, { end: Date.now(), bytes: e.encodedDataLength });
    });
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: RATE });
    await cdp.send('Profiler.start');
    const t0 = Date.now();
    const { rows, tti, full } = await loadInboxAndClick(page, cdp);
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });

    console.log(
      `rate ${RATE}×: rows on screen ${rows} ms, click handled (TTI) ${tti} ms, full page on screen with that tab ${full} ms`,
    );
    console.log('\nrequests (ms from the reload):');
    for (const r of [...requests.values()].sort((a, b) => a.start - b.start))
      console.log(
        `  ${String(r.start - t0).padStart(6)} → ${String((r.end ?? Number.NaN) - t0).padStart(6)}  ${((r.bytes ?? 0) / 1024).toFixed(0).padStart(5)} KB  ${new URL(r.url).pathname + new URL(r.url).search}`,
      );

    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<number, number>();
    profile.samples.forEach((id, i) => {
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    const byScript = new Map<string, number>();
    const byFunction = new Map<string, number>();
    for (const [id, us] of self) {
      const f = byId.get(id)?.callFrame;
      if (!f) continue;
      const script = f.url ? path.basename(f.url) : `(${f.functionName || 'native'})`;
      byScript.set(script, (byScript.get(script) ?? 0) + us);
      const fn = `${f.functionName || '(anonymous)'} ${script}:${f.lineNumber}:${f.columnNumber}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    }
    // A timeline in 250 ms steps: how busy the main thread was and with what (the functions with the most
    // samples on their stacks whose names start with a capital: React components in an unminified build).
    const parentOf = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
    const STEP = 250_000;
    const steps = new Map<number, { busy: number; names: Map<string, number> }>();
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i] ?? 0;
      const step = Math.floor((at - profile.startTime) / STEP);
      const entry = steps.get(step) ?? { busy: 0, names: new Map<string, number>() };
      steps.set(step, entry);
      const name = byId.get(id)?.callFrame.functionName ?? '';
      if (name === '(idle)') return;
      entry.busy += profile.timeDeltas[i] ?? 0;
      const seen = new Set<string>();
      for (let n: number | undefined = id; n !== undefined; n = parentOf.get(n)) {
        const fn = byId.get(n)?.callFrame.functionName ?? '';
        if (/^[A-Z][A-Za-z]{3,}$/.test(fn) && !seen.has(fn)) {
          seen.add(fn);
          entry.names.set(fn, (entry.names.get(fn) ?? 0) + 1);
        }
      }
    });
    console.log('\ntimeline (ms since the profile started; busy ms; components on the stack by samples):');
    for (const [step, e] of [...steps].sort((a, b) => a[0] - b[0])) {
      const top = [...e.names].sort((a, b) => b[1] - a[1]).slice(0, 8);
      console.log(
        `  ${String(step * 250).padStart(5)}  ${(e.busy / 1000).toFixed(0).padStart(4)}  ${top.map(([n, c]) => `${n}×${c}`).join(' ')}`,
      );
    }
    const total = (profile.endTime - profile.startTime) / 1000;
    console.log(`\nCPU profile: ${total.toFixed(0)} ms wall (throttled), self time by script:`);
    for (const [s, us] of [...byScript].sort((a, b) => b[1] - a[1]).slice(0, 15))
      console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${s}`);
    console.log('\nheaviest functions (self):');
    for (const [s, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30))
      console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${s}`);
  }),
);
