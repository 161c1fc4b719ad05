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
// Idle time is the gateway waiting for its turn or for the network: left out of the shares.
const idle = p.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((a, n) => a + (self.get(n.id) ?? 0), 0);
const total = [...self.values()].reduce((a, b) => a + b, 0) - idle;

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
  if (n.callFrame.functionName === '(idle)') continue;
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
// Inclusive time of the request path's steps: a sample counts for a step when any frame of
// its stack belongs to it (counted once per sample), so a step's share includes what it calls.
const STEPS: Array<[string, (fnName: string, url: string) => boolean]> = [
  ['access log + redaction (pino, logger.ts, redact.ts)', (f, u) => /\/pino\/|@pinojs|sonic-boom|src\/server\/logger|src\/core\/redact/.test(u)],
  ['authentication (src/auth, authenticate.ts)', (f, u) => /src\/auth\/|src\/server\/authenticate/.test(u)],
  ['  store.changedElsewhere (sync PRAGMA per request)', (f) => f === 'changedElsewhere'],
  ['limits (src/limits, steps/limits)', (f, u) => /src\/limits\/|steps\/limits/.test(u)],
  ['guard (src/guard)', (f, u) => /src\/guard\//.test(u)],
  ['body parse + hardening + schema (json-body, ajv)', (f, u) => /hardening\/|\/ajv\/|fast-json-stringify|secure-json-parse/.test(u)],
  ['SecretString reveal (src/crypto)', (f, u) => /src\/crypto\//.test(u)],
  ['forward.ts (prepare, jsonBack, streamBack)', (f, u) => /src\/server\/forward/.test(u)],
  ['upstream client (undici)', (f, u) => /\/undici\/|deps\/undici/.test(u)],
  ['usage writer + batch inserts (src/usage, kysely, better-sqlite3, pg)', (f, u) => /src\/usage\/|\/kysely\/|better-sqlite3|\/pg\/|pg-protocol/.test(u)],
  ['fastify (routing, hooks, reply)', (f, u) => /\/fastify\/|find-my-way|avvio|light-my-request/.test(u)],
  ['garbage collector', (f) => f === '(garbage collector)'],
  ['module loading (start-up)', (f, u) => /modules\/(esm|cjs)/.test(u) || f === 'compileSourceTextModule'],
];
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const stepTime = new Map<string, number>();
for (const [id, us] of self) {
  if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
  const hit = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = byId.get(cur)!.callFrame;
    for (const [name, test] of STEPS) if (test(cf.functionName, cf.url)) hit.add(name);
  }
  for (const name of hit) stepTime.set(name, (stepTime.get(name) ?? 0) + us);
}

console.log(`${file}: ${(total / 1e6).toFixed(1)} s busy (${(idle / 1e6).toFixed(1)} s idle left out)`);
print('inclusive time by step of the request path', new Map(STEPS.map(([n]) => [n, stepTime.get(n) ?? 0])));
print('self time by function', fn);
print('self time by file / package', files);
