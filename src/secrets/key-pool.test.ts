import { describe, expect, it } from 'vitest';
import { SecretString } from '../crypto/secret-string.js';
import { KeyPool, NoKeyAvailableError, type KeyPoolEvent } from './key-pool.js';
import { recordSecret } from '../../test/mock-secrets/scan.js';

const k = (n: number) => SecretString.from(recordSecret(`sk-proj-poolTestKey${n}-0123456789abcdef`));

function setup(opts: ConstructorParameters<typeof KeyPool>[0] = {}) {
  const clock = { now: 1_000_000 };
  const pool = new KeyPool({ now: () => clock.now, ...opts });
  const events: KeyPoolEvent[] = [];
  pool.on((e) => events.push(e));
  return { pool, clock, events };
}

describe('KeyPool', () => {
  it('round-robins over the keys of a provider', () => {
    const { pool } = setup();
    pool.setKeys('openai', [{ key: k(1), keyId: 'a' }, { key: k(2), keyId: 'b' }, { key: k(3), keyId: 'c' }]);
    const ids = Array.from({ length: 6 }, () => {
      const l = pool.acquire('openai');
      l.release('ok');
      return l.keyId;
    });
    expect(ids).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(pool.acquire('openai').key.equals(k(1))).toBe(true);
  });

  it('least-in-flight picks the least busy key', () => {
    const { pool } = setup({ strategy: 'least-in-flight' });
    pool.setKeys('openai', [{ key: k(1), keyId: 'a' }, { key: k(2), keyId: 'b' }]);
    const l1 = pool.acquire('openai');
    const l2 = pool.acquire('openai');
    expect([l1.keyId, l2.keyId].sort()).toEqual(['a', 'b']);
    l2.release('ok');
    expect(pool.acquire('openai').keyId).toBe(l2.keyId);
    expect(pool.acquire('openai').keyId).toBe(l1.keyId === 'a' ? 'a' : 'b');
  });

  it('skips a rejected key for the auth cooling period, then takes it back', () => {
    const { pool, clock, events } = setup({ authCooldownMs: 60_000 });
    pool.setKeys('openai', [{ key: k(1), keyId: 'a' }, { key: k(2), keyId: 'b' }]);
    pool.acquire('openai').release('auth_failed');
    expect(pool.snapshot('openai').find((s) => s.keyId === 'a')).toMatchObject({ state: 'cooling', cooldownReason: 'auth_failed' });
    for (let i = 0; i < 3; i++) {
      const l = pool.acquire('openai');
      expect(l.keyId).toBe('b');
      l.release('ok');
    }
    clock.now += 60_000;
    const seen = new Set([pool.acquire('openai').keyId, pool.acquire('openai').keyId]);
    expect(seen).toEqual(new Set(['a', 'b']));
    expect(events.map((e) => e.type)).toContain('key.recovered');
  });

  it('honours Retry-After on 429, and says when to retry when every key is cooling', () => {
    const { pool, clock } = setup({ rateLimitCooldownMs: 30_000 });
    pool.setKeys('groq', [{ key: k(1), keyId: 'a' }]);
    pool.acquire('groq').release('rate_limited', 7);
    const err = (() => {
      try {
        pool.acquire('groq');
      } catch (e) {
        return e as NoKeyAvailableError;
      }
    })();
    expect(err).toBeInstanceOf(NoKeyAvailableError);
    expect(err?.retryAfterSeconds).toBe(7);
    expect(err?.message).not.toContain('poolTestKey');
    clock.now += 7_000;
    pool.acquire('groq').release('rate_limited'); // no Retry-After: default 30 s
    clock.now += 29_000;
    expect(() => pool.acquire('groq')).toThrow(NoKeyAvailableError);
    clock.now += 1_000;
    expect(pool.acquire('groq').keyId).toBe('a');
  });

  it('an error outcome does not cool a key; release is idempotent', () => {
    const { pool } = setup();
    pool.setKeys('openai', [{ key: k(1), keyId: 'a' }]);
    const l = pool.acquire('openai');
    l.release('error');
    l.release('auth_failed');
    expect(pool.snapshot('openai')).toEqual([{ keyId: 'a', masked: k(1).masked, state: 'active', inFlight: 0 }]);
  });

  it('no keys at all is NoKeyAvailableError without retryAfter', () => {
    const { pool } = setup();
    expect(() => pool.acquire('mistral')).toThrow(/No mistral key is configured/);
  });

  it('rotate: the old key drains (in-flight finish on it, no new leases), then retires', async () => {
    const { pool, events } = setup();
    pool.setKeys('openai', [{ key: k(1), keyId: 'old' }]);
    const inflight1 = pool.acquire('openai');
    const inflight2 = pool.acquire('openai');
    expect(inflight1.keyId).toBe('old');

    const rotation = pool.rotate('openai', k(2), { keyId: 'new' });
    expect(rotation.draining).toEqual(['old']);
    let retired = false;
    void rotation.retired.then(() => (retired = true));

    // New requests only get the new key while the old one still serves its in-flight requests.
    for (let i = 0; i < 4; i++) {
      const l = pool.acquire('openai');
      expect(l.keyId).toBe('new');
      expect(l.key.equals(k(2))).toBe(true);
      l.release('ok');
    }
    expect(inflight1.key.equals(k(1))).toBe(true);
    expect(pool.snapshot('openai').find((s) => s.keyId === 'old')).toMatchObject({ state: 'draining', inFlight: 2 });

    inflight1.release('ok');
    await Promise.resolve();
    expect(retired).toBe(false);
    expect(pool.snapshot('openai').map((s) => s.keyId)).toEqual(['old', 'new']);

    // A 401 on a draining key does not matter any more; the last release retires it.
    inflight2.release('auth_failed');
    await rotation.retired;
    expect(retired).toBe(true);
    expect(pool.snapshot('openai').map((s) => s.keyId)).toEqual(['new']);
    expect(events.map((e) => e.type)).toEqual(['key.added', 'key.added', 'key.rotated', 'key.draining', 'key.retired']);
    expect(events.find((e) => e.type === 'key.rotated')).toMatchObject({ provider: 'openai', keyId: 'new', replaced: ['old'] });
    expect(JSON.stringify(events)).not.toContain('poolTestKey');
  });

  it('rotate with nothing in flight retires the old key at once; replace picks which keys go', async () => {
    const { pool } = setup();
    pool.setKeys('openai', [{ key: k(1), keyId: 'a' }, { key: k(2), keyId: 'b' }]);
    const r = pool.rotate('openai', k(3), { keyId: 'c', replace: ['a'] });
    await r.retired;
    expect(pool.snapshot('openai').map((s) => s.keyId)).toEqual(['b', 'c']);
    expect(() => pool.rotate('openai', k(4), { replace: ['zzz'] })).toThrow(/Unknown key id/);
  });

  it('setKeys keeps identical keys (and their state) and drains the ones that disappeared', async () => {
    const { pool } = setup();
    pool.setKeys('openai', [{ key: k(1), keyId: 'a' }, { key: k(2), keyId: 'b' }]);
    const busy = pool.acquire('openai');
    expect(busy.keyId).toBe('a');
    const ids = pool.setKeys('openai', [{ key: k(2) }, { key: k(3), keyId: 'c' }]);
    expect(ids).toEqual(['b', 'c']);
    expect(pool.snapshot('openai').map((s) => [s.keyId, s.state])).toEqual([['a', 'draining'], ['b', 'active'], ['c', 'active']]);
    busy.release('ok');
    expect(pool.snapshot('openai').map((s) => s.keyId)).toEqual(['b', 'c']);
  });

  it('a throwing listener does not break the pool', () => {
    const { pool } = setup();
    pool.on(() => {
      throw new Error('webhook queue full');
    });
    expect(() => pool.addKey('openai', k(1))).not.toThrow();
    expect(pool.providers()).toEqual(['openai']);
  });
});
