/**
 * The spec's verification order: the timestamp (TTL, clock skew) is checked before any HMAC
 * work, and the HMAC is compared with timingSafeEqual before anything is decrypted.
 * node:crypto is wrapped with call counters to observe that order.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ hmac: 0, safeEqual: 0, decipher: 0 }));

vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    createHmac: (...args: Parameters<typeof real.createHmac>) => {
      calls.hmac++;
      return real.createHmac(...args);
    },
    timingSafeEqual: (...args: Parameters<typeof real.timingSafeEqual>) => {
      calls.safeEqual++;
      return real.timingSafeEqual(...args);
    },
    createDecipheriv: (...args: Parameters<typeof real.createDecipheriv>) => {
      calls.decipher++;
      return real.createDecipheriv(...args);
    },
  };
});

const { Fernet, InvalidToken, generateFernetKey } = await import('./fernet.js');

describe('Fernet verification order', () => {
  const f = new Fernet(generateFernetKey());
  const token = f.encrypt('v', { now: 1_000_000 });

  beforeEach(() => {
    calls.hmac = calls.safeEqual = calls.decipher = 0;
  });

  it('refuses an expired token before computing any HMAC', () => {
    expect(() => f.decrypt(token, { ttlSeconds: 10, now: 2_000_000 })).toThrow(InvalidToken);
    expect(calls).toEqual({ hmac: 0, safeEqual: 0, decipher: 0 });
  });

  it('refuses a far-future token before computing any HMAC', () => {
    expect(() => f.decrypt(token, { now: 1, ttlSeconds: 3600 })).toThrow(InvalidToken);
    expect(calls.hmac).toBe(0);
  });

  it('compares the HMAC in constant time and never decrypts on a mismatch', () => {
    expect(() => new Fernet(generateFernetKey()).decrypt(token, { now: 1_000_000 })).toThrow(InvalidToken);
    expect(calls.hmac).toBe(1);
    expect(calls.safeEqual).toBe(1);
    expect(calls.decipher).toBe(0);
  });

  it('decrypts only after a matching HMAC', () => {
    expect(f.decrypt(token, { now: 1_000_000 }).toString()).toBe('v');
    expect(calls).toEqual({ hmac: 1, safeEqual: 1, decipher: 1 });
  });
});
