/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): self time by function and
 * by file, so the report can say where keygate's time goes. Usage:
 *   npx tsx bench/profile-summary.ts [file.cpuprofile] [--top=25]
 * Without a file: the newest keygate-sqlite profile in bench/results/profiles.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const dir = new URL('./results/profiles/', import.meta.url).pathname;
const fileArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const file =
  fileArg ??
  readdirSync(dir)
    .filter((f) => f.startsWith('keygate-sqlite') && f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
if (!file) throw new Error('no profile: run `npm run bench -- --profile` first');

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

// Shorten paths: transpiled src back to src/..., node_modules to the package name.
const where = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/bench\/\.build\//, '')
    .replace(/.*\/node_modules\/((@[^/]+\/)?[^/]+)\/.*/, '$1')
    .replace(/\.js$/, '.ts') || '(native/vm)';

const fn = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const w = where(n.callFrame.url);
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${w}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  files.set(w, (files.get(w) ?? 0) + us);
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
print('self time by function', fn);
print('self time by file / package', files);
