/**
 * Where a benchmark's CPU went: the self time of a V8 CPU profile (`node --cpu-prof`) grouped by package
 * (node_modules/<pkg>, our own top-level folders, node internals, GC, idle) and the top functions.
 * The Rust core of the Temporal SDK and the Temporal server are other threads/processes: they do not
 * appear here (their CPU is read from `ps`/`top` in the same run).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/escalations.ts 1000 ''
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
const TOP = Number(process.argv[3] ?? 25);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

/** The package or folder a frame belongs to. */
function groupOf({ url, functionName }: ProfileNode['callFrame']): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node internals';
  const ours = url.match(/\/(api|activities|app|db|domain|workflows|bench|test)\//);
  return ours ? `ours: ${ours[1]}` : url;
}

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const groups = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const g = groupOf(node.callFrame);
  groups.set(g, (groups.get(g) ?? 0) + us);
  const f = `${node.callFrame.functionName || '(anonymous)'} ${g} :${node.callFrame.lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
const table = (title: string, m: Map<string, number>) => {
  console.log(`\n| ${title} | self ms | share |\n| --- | --- | --- |`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`| ${k.replaceAll('|', '\\|')} | ${(us / 1000).toFixed(0)} | ${pct(us)} |`);
};
console.log(`profile ${file}: ${(total / 1e6).toFixed(1)} s of samples on the main thread`);
table('package', groups);
table('function', fns);
