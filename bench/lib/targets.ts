/**
 * The gateways under test, each started as its own process in front of the same mock
 * upstream: direct (no gateway, the baseline), the floor, keygate on SQLite, keygate on
 * PostgreSQL (+ Redis limits once wired), and Portkey's gateway.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { built, ROOT } from './build.js';
import { cpuMs, rssMb, startChild, stopChild, type Started } from './children.js';
import { ensurePortkey, PORTKEY_ENTRY } from './peer.js';
import { freshBenchDatabase } from './postgres.js';
import { redisReachable } from './redis.js';

export type TargetId = 'direct' | 'floor' | 'keygate-sqlite' | 'keygate-open' | 'keygate-redis' | 'keygate-pg' | 'portkey';
export const TARGET_IDS: readonly TargetId[] = ['direct', 'floor', 'keygate-sqlite', 'keygate-open', 'keygate-redis', 'keygate-pg', 'portkey'];

export const TARGET_LABELS: Record<TargetId, string> = {
  direct: 'direct (mock upstream)',
  floor: 'floor (undici pass-through)',
  'keygate-sqlite': 'keygate, SQLite',
  // The same gateway with gateway auth and limits off: the difference is their cost.
  'keygate-open': 'keygate, SQLite, auth + limits off',
  // keygate-sqlite with its limit counters in Redis: against keygate-open, the cost of auth + Redis limits.
  'keygate-redis': 'keygate, SQLite + Redis limits',
  'keygate-pg': 'keygate, PostgreSQL + Redis',
  portkey: 'Portkey gateway',
};

export interface RunningTarget {
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** What the process reports it has on (keygate: store, limits, guard). */
  features: Record<string, string>;
  rssMb(): number | null;
  cpuMs(): number | null;
  /** keygate only: RSS and heap in use after a full GC in the process (null when it cannot say). */
  memoryAfterGc?(): Promise<{ rssMb: number; heapUsedMb: number } | null>;
  stop(): Promise<void>;
}

export type StartResult = { ok: true; target: RunningTarget } | { ok: false; reason: string };

export interface TargetOptions {
  mockOrigin: string;
  mockPid: number | undefined;
  /** Targets run under `node --cpu-prof` (profiles written to profileDir on stop). */
  profiled: readonly TargetId[];
  profileDir: string;
  redisUrl?: string;
}

const UPSTREAM_KEY = 'sk-bench-0000000000000000000000000000';
const CHAT = '/v1/chat/completions';

function running(child: Started, path: string, headers: Record<string, string>, features: Record<string, string> = {}): RunningTarget {
  return {
    origin: `http://127.0.0.1:${child.ready.port}`,
    path,
    headers,
    features: { ...features, ...child.ready.features },
    rssMb: () => rssMb(child.proc.pid),
    cpuMs: () => cpuMs(child.proc.pid),
    memoryAfterGc: () => askMemory(child),
    stop: () => stopChild(child.proc),
  };
}

function askMemory(child: Started): Promise<{ rssMb: number; heapUsedMb: number } | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), 10_000);
    const onMessage = (m: { type?: string; rssMb?: number; heapUsedMb?: number }) => {
      if (m?.type === 'memory' && typeof m.rssMb === 'number' && typeof m.heapUsedMb === 'number') done({ rssMb: m.rssMb, heapUsedMb: m.heapUsedMb });
    };
    const done = (v: { rssMb: number; heapUsedMb: number } | null) => {
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve(v);
    };
    child.proc.on('message', onMessage);
    if (!child.proc.send?.({ type: 'memory' })) done(null);
  });
}

function profFlags(id: TargetId, o: TargetOptions): string[] {
  if (!o.profiled.includes(id)) return [];
  // The profile is written only on a normal exit: make SIGTERM one for servers without a handler (Portkey).
  const exitOnTerm = `data:text/javascript,process.once('SIGTERM',()=>setImmediate(()=>process.exit(0)))`;
  return ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=${id}-${Date.now()}.cpuprofile`, ...(id === 'portkey' ? ['--import', exitOnTerm] : [])];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startTarget(id: TargetId, o: TargetOptions): Promise<StartResult> {
  try {
    switch (id) {
      case 'direct':
        // The mock itself: its RSS is the mock's, shown for scale.
        return { ok: true, target: { origin: o.mockOrigin, path: CHAT, headers: { authorization: `Bearer ${UPSTREAM_KEY}` }, features: {}, rssMb: () => rssMb(o.mockPid), cpuMs: () => cpuMs(o.mockPid), stop: async () => undefined } };
      case 'floor': {
        const c = await startChild({ name: 'floor', args: [...profFlags(id, o), built('bench/servers/floor-proxy.ts')], env: { UPSTREAM_ORIGIN: o.mockOrigin } });
        return { ok: true, target: running(c, CHAT, { authorization: `Bearer ${UPSTREAM_KEY}` }) };
      }
      case 'keygate-sqlite':
      case 'keygate-open':
      case 'keygate-redis':
      case 'keygate-pg': {
        // SQLite run: in-process limits, even if the shell has REDIS_URL set.
        const env: Record<string, string> = { UPSTREAM_ORIGIN: o.mockOrigin, REDIS_URL: '', ...(id === 'keygate-open' ? { BENCH_OPEN: '1' } : {}) };
        if (id === 'keygate-pg') {
          const db = await freshBenchDatabase();
          if (!db.ok) return { ok: false, reason: db.reason };
          env.BENCH_DATABASE_URL = db.url;
        }
        if (id === 'keygate-redis' || id === 'keygate-pg') {
          // Redis limit counters (the gateway reads REDIS_URL): asked first, so a missing Redis is a skip.
          if (!o.redisUrl) return { ok: false, reason: 'no Redis (set REDIS_URL)' };
          const redis = await redisReachable(o.redisUrl);
          if (!redis.ok) return { ok: false, reason: redis.reason };
          env.REDIS_URL = o.redisUrl;
        }
        // --expose-gc: only for the soak's memory reading, never called otherwise.
        const c = await startChild({ name: id, args: [...profFlags(id, o), '--expose-gc', built('bench/servers/keygate.ts')], env });
        if (!c.ready.clientKey) return { ok: false, reason: 'keygate child sent no client key' };
        return { ok: true, target: running(c, CHAT, { authorization: `Bearer ${c.ready.clientKey}` }) };
      }
      case 'portkey': {
        const peer = await ensurePortkey();
        if (!peer.ok) return { ok: false, reason: peer.reason };
        const port = await freePort();
        const c = await startChild({
          name: 'portkey',
          args: [...profFlags(id, o), PORTKEY_ENTRY, `--port=${port}`, '--headless'],
          readyUrl: `http://127.0.0.1:${port}/`,
          env: { NODE_ENV: 'production' },
        });
        return {
          ok: true,
          target: running(
            c,
            CHAT,
            { authorization: `Bearer ${UPSTREAM_KEY}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${o.mockOrigin}/v1` },
            { version: `@portkey-ai/gateway ${peer.version}` },
          ),
        };
      }
    }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export const PROFILE_DIR = join(ROOT, 'bench/results/profiles');
