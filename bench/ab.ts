/**
 * `npm run bench:ab -- <ref> [<ref>...]`: a paired A/B of keygate's CPU per request between
 * git revisions, steady enough for a shared, noisy machine (where the full bench's numbers move
 * 5-10% between runs). Each revision is exported (`git archive`) to bench/.ab/<sha>; `.` is the
 * working tree as it is. Their gateways (real startGateway(), the bench's full pipeline on
 * SQLite) all run in ONE process, each its own module graph, in front of the bench's mock
 * upstream (a child); short bursts of requests from an in-process undici Pool rotate between
 * them, and the CPU time of this process per request is taken per burst. One gateway is busy at
 * a time, the client costs the same for each, and bursts are short, so the machine's drift hits
 * every revision alike: the paired ratio (burst i of B / burst i of A) is the number to read.
 *
 *   npm run bench:ab -- HEAD~3 .                     # before and after a change
 *   npm run bench:ab -- main . --scenario=stream-c16 --bursts=30
 *   npm run bench:ab -- floor . .:no-guard .:bare     # what each part of the pipeline costs
 *
 * `floor` is the bench's floor handler (bench/servers/floor-proxy.ts) in this process;
 * `json-node` and `json-fastify` are the reference JSON proxies of bench/servers/json-proxies.ts
 * (keygate's JSON work without its pipeline, on node:http and on Fastify). A ref may
 * end in `:variant` (joined with `+`) to run that tree with parts of the pipeline off:
 * no-classifier, no-guard, no-limits, no-auth (auth and limits off, as keygate-open), no-log (the
 * access line off: log level warn), bare (all of them).
 *
 * Options: --scenario=json-c16|json-c1|stream-c16 (default json-c16), --bursts=60, --n=1500
 * (requests a burst; streams: 100). CPU includes the in-process client: ratios understate the
 * gateway's own change a little, never overstate it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { startChild, stopChild } from './lib/children.js';
import { startFastifyJsonProxy, startFloorProxy, startNodeJsonProxy, type ReferenceProxy } from './servers/json-proxies.js';
import { scenarioSpec, type ScenarioId } from './lib/scenarios.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (k: string, d: string) => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const refs = args.filter((a) => !a.startsWith('--'));
const scenario = opt('scenario', 'json-c16') as ScenarioId;
const BURSTS = Number(opt('bursts', '60'));
const N = Number(opt('n', scenario === 'stream-c16' ? '100' : '1500'));
if (refs.length < 2 || !['json-c16', 'json-c1', 'stream-c16'].includes(scenario) || !(BURSTS > 0) || !(N > 0)) {
  console.error('usage: npm run bench:ab -- <ref> <ref> [...] [--scenario=json-c16|json-c1|stream-c16] [--bursts=60] [--n=1500]   (. = the working tree)');
  process.exit(2);
}

/** The source tree of a revision: the checkout itself for `.`, else an export under bench/.ab/. */
function treeOf(ref: string): { name: string; dir: string } {
  if (ref === '.') return { name: 'working tree', dir: root };
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, 'bench', '.ab', sha.slice(0, 12));
  if (!existsSync(join(dir, 'package.json'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} | tar -x -C "${dir}"`], { cwd: root });
    // The revisions share this checkout's dependencies: a change of dependency versions is not measured.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  }
  return { name: `${ref} (${sha.slice(0, 7)})`, dir };
}

const VARIANTS = ['no-classifier', 'no-guard', 'no-limits', 'no-auth', 'no-log', 'bare'] as const;
type Variant = (typeof VARIANTS)[number];
/** `ref[:v1+v2]` into the tree and the parts of the pipeline turned off. */
function parseSide(arg: string): { tree: { name: string; dir: string }; off: Set<Variant> } {
  const colon = arg.lastIndexOf(':');
  const ref = colon > 0 ? arg.slice(0, colon) : arg;
  const vs = colon > 0 ? arg.slice(colon + 1).split('+') : [];
  const bad = vs.filter((v) => !(VARIANTS as readonly string[]).includes(v));
  if (bad.length) {
    console.error(`unknown variant ${bad.join(', ')}: use ${VARIANTS.join(', ')}`);
    process.exit(2);
  }
  const off = new Set(vs as Variant[]);
  if (off.has('bare')) for (const v of VARIANTS) off.add(v);
  const tree = treeOf(ref);
  return { tree: { ...tree, name: vs.length ? `${tree.name}:${vs.join('+')}` : tree.name }, off };
}

const mock = await startChild({ name: 'ab-mock-upstream', args: ['--import', 'tsx', join(root, 'bench/servers/mock-upstream.ts')] });
const mockPort = mock.ready.port;
const spec = scenarioSpec(scenario, { warmupMs: 0, durationMs: 0, rounds: 1 });

interface Side {
  name: string;
  pool: Pool;
  headers: Record<string, string>;
  cpu: number[];
  close: () => Promise<void>;
}

const REFERENCES: Record<string, (origin: string) => Promise<ReferenceProxy>> = {
  floor: startFloorProxy,
  'json-node': startNodeJsonProxy,
  'json-fastify': startFastifyJsonProxy,
};

async function referenceSide(name: string): Promise<Side> {
  const proxy = await REFERENCES[name](`http://127.0.0.1:${mockPort}`);
  return {
    name,
    pool: new Pool(proxy.url, { connections: spec.concurrency, pipelining: 1 }),
    headers: { authorization: 'Bearer sk-bench-0000000000000000000000000000', 'content-type': 'application/json' },
    cpu: [],
    close: () => proxy.close(),
  };
}

const sides: Side[] = [];
for (const arg of refs) {
  if (arg in REFERENCES) {
    sides.push(await referenceSide(arg));
    continue;
  }
  const { tree: t, off } = parseSide(arg);
  // Each revision with its own gateway, pipeline and key repository (their shapes may differ).
  const { startGateway } = await import(join(t.dir, 'src/server/gateway.ts'));
  const { ApiKeyRepository } = await import(join(t.dir, 'src/store/repositories/api-keys.ts'));
  const { benchPipeline } = await import(join(t.dir, 'bench/servers/keygate-pipeline.ts'));
  const dataDir = mkdtempSync(join(tmpdir(), 'kg-ab-'));
  const file = join(dataDir, 'keygate.yaml');
  const config = benchPipeline({}).config as Record<string, unknown> & { guard?: Record<string, unknown> };
  if (off.has('no-limits') || off.has('no-auth')) delete config.limits;
  if (off.has('no-guard')) config.guard = { ...config.guard, enabled: false };
  else if (off.has('no-classifier')) config.guard = { ...config.guard, classifier: false };
  writeFileSync(file, stringify(config));
  const gw = await startGateway({
    file,
    logDestination: pino.destination({ dest: join(dataDir, 'access.log'), sync: false }),
    env: {
      KEY_MODE: 'server',
      OPENAI_API_KEY: 'sk-bench-0000000000000000000000000000',
      OPENAI_BASE_URL: `http://127.0.0.1:${mockPort}/v1`,
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_PORT: '0',
      KEYGATE_LOG_LEVEL: off.has('no-log') ? 'warn' : 'info',
      ...(off.has('no-auth') ? { KEYGATE_AUTH: 'off' } : {}),
    },
  });
  const { key } = await new ApiKeyRepository(gw.ctx.store).create({ name: 'bench-ab', scopes: ['read', 'write'] });
  sides.push({
    name: t.name,
    pool: new Pool(gw.url, { connections: spec.concurrency, pipelining: 1 }),
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    cpu: [],
    close: async () => {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** CPU microseconds of this process per request over one burst of n requests. */
async function burst(s: Side, n: number): Promise<number> {
  let left = n;
  let failed = 0;
  const client = async () => {
    while (left-- > 0) {
      const r = await s.pool.request({ method: 'POST', path: '/v1/chat/completions', headers: s.headers, body: spec.body });
      await r.body.text();
      if (r.statusCode !== 200) failed++;
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: spec.concurrency }, client));
  const used = process.cpuUsage(before);
  if (failed) throw new Error(`${s.name}: ${failed} of ${n} requests failed`);
  return (used.user + used.system) / n;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const at = (xs: number[], p: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

try {
  for (const s of sides) await burst(s, N * 2); // warm-up: JIT, pools, caches, the usage worker
  for (let i = 0; i < BURSTS; i++) {
    // Rotate who goes first, so no revision always runs right after another's burst.
    for (let j = 0; j < sides.length; j++) {
      const s = sides[(i + j) % sides.length];
      s.cpu.push(await burst(s, N));
    }
  }
  const base = sides[0];
  console.log(`\n${scenario}, ${BURSTS} bursts of ${N} per revision; CPU us per request of this process (gateway + client)\n`);
  for (const s of sides) {
    const ratio = s.cpu.map((c, i) => c / base.cpu[i]);
    console.log(
      `${s.name.padEnd(28)} median ${at(s.cpu, 0.5).toFixed(1).padStart(7)} [q25 ${at(s.cpu, 0.25).toFixed(1)}, q75 ${at(s.cpu, 0.75).toFixed(1)}]` +
        (s === base ? '' : `   paired ratio to ${base.name}: ${at(ratio, 0.5).toFixed(3)} [q25 ${at(ratio, 0.25).toFixed(3)}, q75 ${at(ratio, 0.75).toFixed(3)}]`),
    );
  }
} finally {
  for (const s of sides) {
    await s.pool.close();
    await s.close();
  }
  await stopChild(mock.proc);
}
