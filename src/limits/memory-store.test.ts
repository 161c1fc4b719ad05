import { describe, expect, it } from 'vitest';
import { CoreLimitStore } from './core.js';
import { MemoryBackend } from './memory-store.js';
import { WindowClock } from './windows.js';

function make() {
  const backend = new MemoryBackend({ leaseMs: 60_000, graceMs: 24 * 3_600_000 });
  const store = new CoreLimitStore(backend, { kind: 'memory', clock: new WindowClock('UTC'), keyPrefix: 't:', thresholds: [0.8, 1] });
  return { backend, store };
}

describe('memory store housekeeping', () => {
  it('drops drained buckets, ended leases and past windows, so a long run does not grow', async () => {
    const { backend, store } = make();
    const t0 = Date.UTC(2031, 0, 1, 12);
    const subjects = [{ subject: 'key:m', limits: { rpm: 10, tpm: 1000, maxParallel: 5, dailyRequests: 10, monthlyTokens: 10_000 } }];
    const r = await store.reserve({ subjects, estimatedTokens: 100, estimatedCostMicros: 0, now: t0 });
    expect(r.ok).toBe(true);
    expect(backend.size()).toBe(5);
    backend.sweep(t0 + 61_000); // buckets drained, lease ended
    expect(backend.size()).toBe(2);
    backend.sweep(Date.UTC(2031, 0, 3)); // the day window plus its grace day is over
    expect(backend.size()).toBe(1);
    backend.sweep(Date.UTC(2031, 1, 3)); // and the month's
    expect(backend.size()).toBe(0);
  });

  it('a refund on a window already dropped does not create a negative counter', async () => {
    const { backend, store } = make();
    const t0 = Date.UTC(2031, 0, 1, 12);
    const subjects = [{ subject: 'key:n', limits: { dailyTokens: 1000 } }];
    const r = await store.reserve({ subjects, estimatedTokens: 100, estimatedCostMicros: 0, now: t0 });
    if (!r.ok) throw new Error('expected a reservation');
    backend.sweep(Date.UTC(2031, 0, 5));
    await r.settle({ tokens: 10, costMicros: 0, now: Date.UTC(2031, 0, 5) });
    expect(backend.size()).toBe(0);
  });
});
