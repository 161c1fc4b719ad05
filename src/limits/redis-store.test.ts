/**
 * Several gateway processes sharing one Redis enforce one limit: two stores with separate
 * connections in this process, then a real second Node process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLimitStore, LimitStoreError, type LimitStore, type ReserveResult, type SubjectLimits } from './index.js';
import { countPrefix, deletePrefix, probeRedis, REDIS_URL, runPrefix, SERVICES_REQUIRED } from './__tests__/redis-env.js';
import { warnSkip } from '../../test/support/skip-log.js';

const redisDown = await probeRedis();
const prefix = runPrefix('multi');
const opened: LimitStore[] = [];

function open(keyPrefix: string): LimitStore {
  const s = createLimitStore({ timeZone: 'UTC', redisUrl: REDIS_URL, keyPrefix });
  opened.push(s);
  return s;
}

const okCount = (rs: ReserveResult[]) => rs.filter((r) => r.ok).length;

interface Child {
  go(): void;
  result: Promise<number>;
}

/** Starts the second process and resolves once it is connected and waiting. */
async function startChild(env: Record<string, string>): Promise<Child> {
  const script = fileURLToPath(new URL('./__tests__/reserve-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  lines.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else queue.push(l);
  });
  const exited = new Promise<never>((_, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
  const nextLine = () => Promise.race([new Promise<string>((res) => (queue.length > 0 ? res(queue.shift() ?? '') : waiters.push(res))), exited]);
  expect(await nextLine()).toBe('ready');
  return {
    go: () => child.stdin.write('go\n'),
    result: nextLine().then((l) => (JSON.parse(l) as { ok: number }).ok),
  };
}

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (redisDown === null) await deletePrefix(prefix);
});

describe('Redis store shared by several gateway processes', () => {
  if (redisDown !== null) {
    if (SERVICES_REQUIRED) {
      it('needs Redis (KEYGATE_REQUIRE_SERVICES=1)', () => {
        throw new Error(redisDown);
      });
    } else {
      it.skip(`skipped: ${redisDown} (set KEYGATE_REQUIRE_SERVICES=1 to fail instead)`, () => {});
      warnSkip(`[limits] Redis multi-process tests skipped: ${redisDown}`);
    }
    return;
  }

  it('two store instances with separate connections enforce one limit', async () => {
    const p = `${prefix}two:`;
    const a = open(p);
    const b = open(p);
    const subjects: SubjectLimits[] = [{ subject: 'key:shared', limits: { dailyRequests: 10, maxParallel: 10, monthlyBudgetUsd: 1 } }];
    const fire = (s: LimitStore) => s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 50_000 });
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => fire(i % 2 === 0 ? a : b)));
    expect(okCount(rs)).toBe(10);
    const ua = await a.usage(subjects[0]);
    const ub = await b.usage(subjects[0]);
    expect(ua.map((x) => [x.limit, x.used])).toEqual(ub.map((x) => [x.limit, x.used]));
    expect(ua.find((x) => x.limit === 'dailyRequests')?.used).toBe(10);
    // A slot taken in one process is freed by a release in that process, seen by the other.
    const held = rs.filter((r) => r.ok);
    await Promise.all(held.map((r) => (r.ok ? r.release() : undefined)));
    expect((await b.usage(subjects[0])).find((x) => x.limit === 'maxParallel')?.used).toBe(0);
  });

  it.each([
    ['requests per day', { dailyRequests: 10 }, 1, 0],
    ['tokens per day', { dailyTokens: 1000 }, 100, 0],
    ['spend per month', { monthlyBudgetUsd: 1 }, 1, 100_000],
    ['concurrent requests', { maxParallel: 10 }, 1, 0],
  ])('a second Node process and this one share one limit: %s', async (_name, limits, tokens, cost) => {
    const p = `${prefix}proc-${_name.replace(/\W+/g, '-')}:`;
    const subjects: SubjectLimits[] = [{ subject: 'key:proc', limits }];
    const child = await startChild({
      REDIS_URL,
      PREFIX: p,
      COUNT: '50',
      LIMITS: JSON.stringify(subjects),
      TOKENS: String(tokens),
      COST: String(cost),
    });
    const s = open(p);
    await s.usage(subjects[0]);
    child.go();
    const mine = await Promise.all(Array.from({ length: 50 }, () => s.reserve({ subjects, estimatedTokens: tokens, estimatedCostMicros: cost })));
    const theirs = await child.result;
    expect(okCount(mine) + theirs).toBe(10);
  });

  it('keys expire: quota counters carry a TTL, released buckets and slots leave nothing behind', async () => {
    const p = `${prefix}ttl:`;
    const s = open(p);
    const subjects: SubjectLimits[] = [{ subject: 'key:ttl', limits: { rpm: 10, tpm: 1000, maxParallel: 2, dailyTokens: 100, monthlyRequests: 5 } }];
    const r = await s.reserve({ subjects, estimatedTokens: 10, estimatedCostMicros: 0 });
    if (!r.ok) throw new Error('expected a reservation');
    const redis = new Redis(REDIS_URL);
    try {
      const keys = (await redis.keys(`${p}*`)).sort();
      expect(keys.map((k) => k.slice(p.length))).toEqual([
        'par:key:ttl',
        expect.stringMatching(/^quota:key:ttl:day:\d{4}-\d{2}-\d{2}$/),
        expect.stringMatching(/^quota:key:ttl:month:\d{4}-\d{2}$/),
        'rate:key:ttl:rpm',
        'rate:key:ttl:tpm',
      ]);
      for (const k of keys) expect(await redis.pttl(k), k).toBeGreaterThan(0);
      await r.release();
      // Refunded buckets and freed slots are deleted or empty; quota hashes stay until expiry.
      expect(await redis.exists(`${p}rate:key:ttl:rpm`, `${p}rate:key:ttl:tpm`, `${p}par:key:ttl`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    expect(await countPrefix(p)).toBe(2);
  });

  it('an unreachable Redis fails with LimitStoreError, not a hang', async () => {
    const s = createLimitStore({ timeZone: 'UTC', redisUrl: 'redis://127.0.0.1:1', keyPrefix: `${prefix}down:`, commandTimeoutMs: 300 });
    try {
      await expect(s.reserve({ subjects: [{ subject: 'key:x', limits: { rpm: 1 } }], estimatedTokens: 1, estimatedCostMicros: 0 })).rejects.toThrow(LimitStoreError);
    } finally {
      await s.close();
    }
  });

  it("can use the caller's ioredis client and leaves it open on close()", async () => {
    const client = new Redis(REDIS_URL);
    try {
      const s = createLimitStore({ timeZone: 'UTC', redis: client, keyPrefix: `${prefix}shared-client:` });
      expect(s.kind).toBe('redis');
      expect((await s.reserve({ subjects: [{ subject: 'key:c', limits: { dailyRequests: 1 } }], estimatedTokens: 1, estimatedCostMicros: 0 })).ok).toBe(true);
      await s.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
