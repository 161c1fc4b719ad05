/**
 * One suite, both stores: the memory store and the Redis store must behave identically.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildRateLimitHeaders, createLimitStore, type LimitStore, type Limits, type Refusal, type Reservation, type ReserveResult } from './index.js';
import { deletePrefix, probeRedis, REDIS_URL, runPrefix, SERVICES_REQUIRED } from './__tests__/redis-env.js';
import { warnSkip } from '../../test/support/skip-log.js';

const redisDown = await probeRedis();
const prefix = runPrefix('store');

interface StoreCase {
  name: 'memory' | 'redis';
  skip: string | null;
}
const cases: StoreCase[] = [
  { name: 'memory', skip: null },
  { name: 'redis', skip: redisDown },
];

let seq = 0;
const opened: LimitStore[] = [];
function open(c: StoreCase, opts: { timeZone?: string; leaseSeconds?: number } = {}): LimitStore {
  const s = createLimitStore({
    timeZone: opts.timeZone ?? 'UTC',
    redisUrl: c.name === 'redis' ? REDIS_URL : undefined,
    keyPrefix: `${prefix}${++seq}:`,
    leaseSeconds: opts.leaseSeconds,
  });
  opened.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  if (redisDown === null) await deletePrefix(prefix);
});

const one = (limits: Limits, subject = 'key:k1') => [{ subject, limits }];

function okCount(rs: ReserveResult[]): number {
  return rs.filter((r) => r.ok).length;
}

function reserved(r: ReserveResult): Reservation {
  if (!r.ok) throw new Error(`expected a reservation, got a refusal on ${r.subject} ${r.limit}`);
  return r;
}

function refused(r: ReserveResult): Refusal {
  if (r.ok) throw new Error('expected a refusal, got a reservation');
  return r;
}

// Quota keys expire after their window (real clock, in Redis), so fixed instants must be in the future.
const FUTURE = Date.UTC(2031, 5, 10, 12, 0, 0);

describe.each(cases)('$name store', (c) => {
  if (c.skip !== null) {
    if (SERVICES_REQUIRED) {
      it('needs Redis (KEYGATE_REQUIRE_SERVICES=1)', () => {
        throw new Error(c.skip ?? '');
      });
    } else {
      it.skip(`skipped: ${c.skip} (set KEYGATE_REQUIRE_SERVICES=1 to fail instead)`, () => {});
      warnSkip(`[limits] ${c.name} store tests skipped: ${c.skip}`);
    }
    return;
  }

  describe('100 simultaneous reservations against a budget of 10', () => {
    it('requests per day: exactly 10 pass', async () => {
      const s = open(c);
      const subjects = one({ dailyRequests: 10 });
      const rs = await Promise.all(Array.from({ length: 100 }, () => s.reserve({ subjects, estimatedTokens: 5, estimatedCostMicros: 0 })));
      expect(okCount(rs)).toBe(10);
      const no = refused(rs.find((r) => !r.ok) ?? rs[0]);
      expect(no.limit).toBe('dailyRequests');
      expect(no.subject).toBe('key:k1');
      expect(no.used).toBe(10);
      const u = await s.usage(subjects[0]);
      expect(u.find((x) => x.limit === 'dailyRequests')?.used).toBe(10);
    });

    it('tokens per day: exactly 10 pass', async () => {
      const s = open(c);
      const subjects = one({ dailyTokens: 1000 });
      const rs = await Promise.all(Array.from({ length: 100 }, () => s.reserve({ subjects, estimatedTokens: 100, estimatedCostMicros: 0 })));
      expect(okCount(rs)).toBe(10);
      expect(refused(rs.find((r) => !r.ok) ?? rs[0]).limit).toBe('dailyTokens');
    });

    it('spend per month: exactly 10 pass', async () => {
      const s = open(c);
      const subjects = one({ monthlyBudgetUsd: 1 });
      const rs = await Promise.all(Array.from({ length: 100 }, () => s.reserve({ subjects, estimatedTokens: 10, estimatedCostMicros: 100_000 })));
      expect(okCount(rs)).toBe(10);
      const no = refused(rs.find((r) => !r.ok) ?? rs[0]);
      expect(no.limit).toBe('monthlyBudgetUsd');
      expect(no.unit).toBe('micros');
      expect(no.limitValue).toBe(1_000_000);
    });

    it('concurrent requests: exactly 10 in flight, slots come back on settle and release', async () => {
      const s = open(c);
      const subjects = one({ maxParallel: 10 });
      const fire = () => Promise.all(Array.from({ length: 100 }, () => s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0 })));
      const rs = await fire();
      expect(okCount(rs)).toBe(10);
      expect(refused(rs.find((r) => !r.ok) ?? rs[0]).limit).toBe('maxParallel');
      // Nothing freed yet: still full.
      expect(okCount(await fire())).toBe(0);
      const held = rs.filter((r): r is Reservation => r.ok);
      await Promise.all(held.slice(0, 5).map((r) => r.settle({ tokens: 1, costMicros: 0 })));
      await Promise.all(held.slice(5).map((r) => r.release()));
      const again = await fire();
      expect(okCount(again)).toBe(10);
    });

    it('several subjects: the tightest applies and a refusal reserves nothing anywhere', async () => {
      const s = open(c);
      const key = { subject: 'key:k2', limits: { dailyRequests: 10, maxParallel: 100, dailyTokens: 100_000 } };
      const user = { subject: 'user:u2', limits: { dailyRequests: 5 } };
      const rs = await Promise.all(Array.from({ length: 100 }, () => s.reserve({ subjects: [key, user], estimatedTokens: 7, estimatedCostMicros: 0 })));
      expect(okCount(rs)).toBe(5);
      const no = refused(rs.find((r) => !r.ok) ?? rs[0]);
      expect(no.subject).toBe('user:u2');
      const ku = await s.usage(key);
      expect(ku.find((x) => x.limit === 'dailyRequests')?.used).toBe(5);
      expect(ku.find((x) => x.limit === 'dailyTokens')?.used).toBe(35);
      expect(ku.find((x) => x.limit === 'maxParallel')?.used).toBe(5);
      // The key alone still has 5 requests left.
      const more = await Promise.all(Array.from({ length: 20 }, () => s.reserve({ subjects: [key], estimatedTokens: 7, estimatedCostMicros: 0 })));
      expect(okCount(more)).toBe(5);
    });
  });

  describe('settle and release', () => {
    it('settle replaces the token and cost estimates with real usage', async () => {
      const s = open(c);
      const subjects = one({ dailyTokens: 1000, monthlyBudgetUsd: 2, tpm: 100_000 });
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 800, estimatedCostMicros: 1_500_000 }));
      expect(refused(await s.reserve({ subjects, estimatedTokens: 300, estimatedCostMicros: 0 })).limit).toBe('dailyTokens');
      await r.settle({ tokens: 100, costMicros: 250_000 });
      const u = await s.usage(subjects[0]);
      expect(u.find((x) => x.limit === 'dailyTokens')?.used).toBe(100);
      expect(u.find((x) => x.limit === 'monthlyBudgetUsd')?.used).toBe(250_000);
      expect(u.find((x) => x.limit === 'tpm')?.used).toBeLessThanOrEqual(100);
      reserved(await s.reserve({ subjects, estimatedTokens: 900, estimatedCostMicros: 1_750_000 }));
    });

    it('release refunds everything; a failed request costs nothing', async () => {
      const s = open(c);
      const subjects = one({ dailyRequests: 1, dailyTokens: 50, monthlyBudgetUsd: 0.01, rpm: 1, tpm: 50, maxParallel: 1 });
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 50, estimatedCostMicros: 10_000 }));
      refused(await s.reserve({ subjects, estimatedTokens: 50, estimatedCostMicros: 10_000 }));
      await r.release();
      for (const st of await s.usage(subjects[0])) expect(st.used, st.limit).toBe(0);
      reserved(await s.reserve({ subjects, estimatedTokens: 50, estimatedCostMicros: 10_000 }));
    });

    it('settle and release are idempotent and exclusive', async () => {
      const s = open(c);
      const subjects = one({ dailyTokens: 1000, maxParallel: 5, dailyRequests: 100 });
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 100, estimatedCostMicros: 0 }));
      const other = reserved(await s.reserve({ subjects, estimatedTokens: 100, estimatedCostMicros: 0 }));
      await r.settle({ tokens: 300, costMicros: 0 });
      await r.settle({ tokens: 300, costMicros: 0 });
      await r.release();
      const u = await s.usage(subjects[0]);
      expect(u.find((x) => x.limit === 'dailyTokens')?.used).toBe(400);
      expect(u.find((x) => x.limit === 'dailyRequests')?.used).toBe(2);
      // Only `other` still holds a slot.
      expect(u.find((x) => x.limit === 'maxParallel')?.used).toBe(1);
      await other.release();
    });

    it('settle above the estimate may overrun once, then refuses', async () => {
      const s = open(c);
      const subjects = one({ dailyTokens: 1000 });
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 100, estimatedCostMicros: 0 }));
      const res = await r.settle({ tokens: 1500, costMicros: 0 });
      expect(res.quotaEvents.map((e) => [e.type, e.threshold])).toEqual([
        ['quota.threshold', 0.8],
        ['quota.exceeded', 1],
      ]);
      // Exhausted counters refuse even a zero-token estimate.
      const no = refused(await s.reserve({ subjects, estimatedTokens: 0, estimatedCostMicros: 0 }));
      expect(no.used).toBe(1500);
      expect(no.tooLarge).toBe(false);
    });

    it('a parallel slot never released is reclaimed after its lease', async () => {
      const s = open(c, { leaseSeconds: 1 });
      const subjects = one({ maxParallel: 1 });
      const t0 = Date.now();
      reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 }));
      refused(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 + 500 }));
      reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 + 1500 }));
    });
  });

  describe('rate limits', () => {
    it('rpm refills continuously and says when to retry', async () => {
      const s = open(c);
      const subjects = one({ rpm: 10 });
      const t0 = FUTURE;
      const rs = await Promise.all(Array.from({ length: 30 }, () => s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 })));
      expect(okCount(rs)).toBe(10);
      const no = refused(rs.find((r) => !r.ok) ?? rs[0]);
      expect(no.limit).toBe('rpm');
      expect(no.retryAfterSeconds).toBeCloseTo(6, 3);
      refused(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 + 5_000 }));
      reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 + 6_000 }));
      refused(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 + 6_000 }));
    });

    it('tpm reserves the estimate; a request above the limit is too large', async () => {
      const s = open(c);
      const subjects = one({ tpm: 1000 });
      const t0 = FUTURE;
      reserved(await s.reserve({ subjects, estimatedTokens: 600, estimatedCostMicros: 0, now: t0 }));
      const no = refused(await s.reserve({ subjects, estimatedTokens: 600, estimatedCostMicros: 0, now: t0 }));
      expect(no.limit).toBe('tpm');
      expect(no.retryAfterSeconds).toBeCloseTo(12, 3);
      expect(no.tooLarge).toBe(false);
      const big = refused(await s.reserve({ subjects, estimatedTokens: 2000, estimatedCostMicros: 0, now: t0 + 120_000 }));
      expect(big.tooLarge).toBe(true);
    });

    it('refusal reports the longest wait among all refusing limits', async () => {
      const s = open(c);
      const subjects = [
        { subject: 'key:a', limits: { rpm: 1 } },
        { subject: 'user:b', limits: { dailyRequests: 1 } },
      ];
      const t0 = Date.UTC(2031, 5, 10, 23, 0, 0); // 1 h before the UTC day ends
      reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 }));
      const no = refused(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t0 }));
      expect(no.violations.map((v) => v.limit)).toEqual(['dailyRequests', 'rpm']);
      expect(no.limit).toBe('dailyRequests');
      expect(no.retryAfterSeconds).toBe(3600);
      expect(buildRateLimitHeaders(no)['retry-after']).toBe('3600');
    });
  });

  describe('calendar windows', () => {
    it('a day starts at local midnight of the configured zone (Europe/Paris)', async () => {
      const s = open(c, { timeZone: 'Europe/Paris' });
      const subjects = one({ dailyRequests: 1 });
      // 2031-11-22 23:59:59 in Paris (UTC+1).
      const before = Date.UTC(2031, 10, 22, 22, 59, 59);
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: before }));
      expect(r.states[0].windowId).toBe('2031-11-22');
      const no = refused(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: before }));
      expect(no.retryAfterSeconds).toBe(1);
      expect(no.windowId).toBe('2031-11-22');
      const next = reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: before + 1000 }));
      expect(next.states[0].windowId).toBe('2031-11-23');
    });

    it('the same instants fall in one UTC day', async () => {
      const s = open(c, { timeZone: 'UTC' });
      const subjects = one({ dailyRequests: 1 });
      const before = Date.UTC(2031, 10, 22, 22, 59, 59);
      reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: before }));
      refused(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: before + 1000 }));
    });

    it('a month resets on the first local day, and the day counter is separate', async () => {
      const s = open(c, { timeZone: 'America/New_York' });
      const subjects = one({ monthlyRequests: 2, dailyRequests: 1 });
      // 2031-03-31 23:30 in New York (EDT, UTC-4).
      const t = Date.UTC(2031, 3, 1, 3, 30);
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t }));
      expect(r.states.map((x) => x.windowId)).toEqual(['2031-03-31', '2031-03']);
      const t2 = t + 3_600_000; // 00:30 on April 1st
      const r2 = reserved(await s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0, now: t2 }));
      expect(r2.states.map((x) => x.windowId)).toEqual(['2031-04-01', '2031-04']);
      expect(r2.states.map((x) => x.used)).toEqual([1, 1]);
    });
  });

  describe('quota events and headers', () => {
    it('80% and 100% crossings are reported exactly once under concurrency', async () => {
      const s = open(c);
      const subjects = one({ dailyRequests: 10 });
      const rs = await Promise.all(Array.from({ length: 100 }, () => s.reserve({ subjects, estimatedTokens: 1, estimatedCostMicros: 0 })));
      const events = rs.flatMap((r) => (r.ok ? r.quotaEvents : []));
      expect(events.map((e) => `${e.type}@${e.threshold}:${e.used}`).sort()).toEqual(['quota.exceeded@1:10', 'quota.threshold@0.8:8']);
    });

    it('headers show the tightest requests and tokens limits', async () => {
      const s = open(c);
      const subjects = [
        { subject: 'key:h', limits: { rpm: 60, tpm: 10_000, dailyRequests: 3 } },
        { subject: 'app:h', limits: { dailyTokens: 500 } },
      ];
      const t0 = Date.UTC(2031, 5, 10, 12, 0, 0);
      const r = reserved(await s.reserve({ subjects, estimatedTokens: 200, estimatedCostMicros: 0, now: t0 }));
      expect(buildRateLimitHeaders(r)).toEqual({
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '2',
        'x-ratelimit-reset-requests': '12h0m0s',
        'x-ratelimit-limit-tokens': '500',
        'x-ratelimit-remaining-tokens': '300',
        'x-ratelimit-reset-tokens': '12h0m0s',
      });
      const no = refused(await s.reserve({ subjects, estimatedTokens: 400, estimatedCostMicros: 0, now: t0 }));
      const h = buildRateLimitHeaders(no);
      expect(h['x-ratelimit-remaining-tokens']).toBe('300');
      expect(h['retry-after']).toBe(String(12 * 3600));
    });

    it('a request with no limits configured is reserved with no states', async () => {
      const s = open(c);
      const r = reserved(await s.reserve({ subjects: one({}), estimatedTokens: 1, estimatedCostMicros: 1 }));
      expect(r.states).toEqual([]);
      expect(buildRateLimitHeaders(r)).toEqual({});
      await r.settle({ tokens: 5, costMicros: 5 });
    });

    it('rejects negative or non-finite estimates', async () => {
      const s = open(c);
      await expect(s.reserve({ subjects: one({ dailyTokens: 1 }), estimatedTokens: -1, estimatedCostMicros: 0 })).rejects.toThrow(RangeError);
      await expect(s.reserve({ subjects: one({ dailyTokens: 1 }), estimatedTokens: Number.NaN, estimatedCostMicros: 0 })).rejects.toThrow(RangeError);
    });
  });
});
