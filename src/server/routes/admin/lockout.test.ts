/**
 * The admin address guard and its lockout counters: the in-process default (clock injected),
 * and the Redis counter against a real server, shared by two separate connections.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deletePrefix, probeRedis, REDIS_URL, runPrefix, SERVICES_REQUIRED } from '../../../limits/__tests__/redis-env.js';
import { warnSkip } from '../../../../test/support/skip-log.js';
import { AdminGuard } from './guard.js';
import { MemoryLockout } from './lockout.js';
import { RedisLockout } from './lockout-redis.js';

const settings = { maxFailures: 3, windowSeconds: 60, lockSeconds: 120 };

describe('in-process lockout (the default)', () => {
  it('locks an address at maxFailures within the window, for lockSeconds, and only that address', async () => {
    let now = 1_000_000;
    const guard = new AdminGuard({ rpm: 1000, ...settings, now: () => now });
    expect(guard.lockout.shared).toBe(false);
    expect(await guard.fail('10.0.0.1')).toBe(false);
    expect(await guard.fail('10.0.0.1')).toBe(false);
    expect(await guard.admit('10.0.0.1')).toEqual({ ok: true });
    expect(await guard.fail('10.0.0.1')).toBe(true);
    expect(await guard.admit('10.0.0.1')).toEqual({ ok: false, reason: 'locked', retryAfterSeconds: 120 });
    expect(await guard.admit('10.0.0.2')).toEqual({ ok: true });
    now += 119_500;
    expect(await guard.admit('10.0.0.1')).toEqual({ ok: false, reason: 'locked', retryAfterSeconds: 1 });
    now += 500;
    expect(await guard.admit('10.0.0.1')).toEqual({ ok: true });
  });

  it('forgets failures older than the window', async () => {
    let now = 0;
    const lockout = new MemoryLockout(settings, () => now);
    await lockout.fail('a');
    await lockout.fail('a');
    now += 60_001;
    expect(await lockout.fail('a')).toBe(false);
    expect(await lockout.lockedForMs('a')).toBe(0);
  });

  it('keeps the per-process request rate', async () => {
    let now = 0;
    const guard = new AdminGuard({ rpm: 2, ...settings, now: () => now });
    expect((await guard.admit('a')).ok).toBe(true);
    now += 10_000;
    expect((await guard.admit('a')).ok).toBe(true);
    expect(await guard.admit('a')).toEqual({ ok: false, reason: 'rate', retryAfterSeconds: 50 });
  });
});

const redisDown = await probeRedis();
if (redisDown && SERVICES_REQUIRED) throw new Error(`Redis is required (KEYGATE_REQUIRE_SERVICES=1): ${redisDown}`);
if (redisDown) warnSkip(`[skip] ${redisDown}; the Redis admin lockout tests are skipped`);

describe.skipIf(redisDown !== null)('Redis lockout (limit store shared)', () => {
  const prefix = runPrefix('admin-lockout-unit');
  const clients: Redis[] = [];
  const connect = () => {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    clients.push(r);
    return r;
  };
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await deletePrefix(prefix);
  });

  it('two connections (two replicas) add up to one lock that both see, with its expiry in Redis', async () => {
    const a = new RedisLockout({ redis: connect(), keyPrefix: prefix }, settings);
    const b = new RedisLockout({ redis: connect(), keyPrefix: prefix }, settings);
    expect(await a.fail('198.51.100.1')).toBe(false);
    expect(await b.fail('198.51.100.1')).toBe(false);
    expect(await a.lockedForMs('198.51.100.1')).toBe(0);
    expect(await b.fail('198.51.100.1')).toBe(true);
    for (const l of [a, b]) {
      const left = await l.lockedForMs('198.51.100.1');
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(120_000);
    }
    // Failures while locked are not counted again, and another address is untouched.
    expect(await a.fail('198.51.100.1')).toBe(false);
    expect(await b.lockedForMs('198.51.100.2')).toBe(0);
    // The failure set was cleared by the lock; the lock key expires by itself.
    const r = connect();
    expect(await r.exists(`${prefix}admin-lockout:{198.51.100.1}:fails`)).toBe(0);
    expect(await r.pttl(`${prefix}admin-lockout:{198.51.100.1}:lock`)).toBeGreaterThan(0);
  });

  it('drops failures older than the window (Redis time) and lets the failure set expire', async () => {
    const r = connect();
    const lockout = new RedisLockout({ redis: r, keyPrefix: prefix }, settings);
    const fails = `${prefix}admin-lockout:{198.51.100.3}:fails`;
    // Two failures from long ago (score: epoch ms 1000) are outside any window.
    await r.zadd(fails, 1000, 'old-1', 1000, 'old-2');
    expect(await lockout.fail('198.51.100.3')).toBe(false);
    expect(await r.zcard(fails)).toBe(1);
    const ttl = await r.pttl(fails);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('an unreachable Redis rejects (the admin scope fails closed on it)', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => undefined);
    clients.push(dead);
    const guard = new AdminGuard({ rpm: 1000, ...settings }, new RedisLockout({ redis: dead, keyPrefix: prefix }, settings));
    expect(guard.lockout.shared).toBe(true);
    await expect(guard.admit('198.51.100.4')).rejects.toThrow();
    await expect(guard.fail('198.51.100.4')).rejects.toThrow();
  });
});
