import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createEnvelopeKey, EnvelopeError, isSealed, open, openSecret, rewrap, seal, sealedKeyId } from './envelope.js';

const PLAIN = 'sk-ant-envelope-0123456789abcdef';
const k1 = createEnvelopeKey('mk-one', randomBytes(32));
const k2 = createEnvelopeKey('mk-two', randomBytes(32));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as Error).message).not.toContain(PLAIN);
    return (err as EnvelopeError).code;
  }
  throw new Error('expected EnvelopeError');
}

describe('AES-256-GCM envelope', () => {
  it('round-trips, names its key, and uses a fresh IV', () => {
    const a = seal(k1, PLAIN);
    expect(a).toMatch(/^kge1\.mk-one\.[A-Za-z0-9_-]+$/);
    expect(a).not.toContain(PLAIN);
    expect(seal(k1, PLAIN)).not.toBe(a);
    expect(isSealed(a)).toBe(true);
    expect(sealedKeyId(a)).toBe('mk-one');
    expect(open(k1, a).toString()).toBe(PLAIN);
    expect(openSecret([k2, k1], a).reveal()).toBe(PLAIN);
    expect(open(k1, seal(k1, '')).length).toBe(0);
  });

  it('binds the caller AAD: a value moved to another row fails', () => {
    const a = seal(k1, PLAIN, 'provider:openai:1');
    expect(open(k1, a, 'provider:openai:1').toString()).toBe(PLAIN);
    expect(codeOf(() => open(k1, a, 'provider:openai:2'))).toBe('auth-failed');
    expect(codeOf(() => open(k1, a))).toBe('auth-failed');
  });

  it('detects tampering anywhere, a relabelled key id, a wrong key and junk', () => {
    const a = seal(k1, PLAIN);
    const body = a.slice('kge1.mk-one.'.length);
    for (let i = 0; i < body.length - 1; i++) {
      const c = body[i] === 'A' ? 'B' : 'A';
      const bad = 'kge1.mk-one.' + body.slice(0, i) + c + body.slice(i + 1);
      expect(codeOf(() => open(k1, bad))).toBe('auth-failed');
    }
    const k1Renamed = createEnvelopeKey('mk-two', k1.key);
    expect(codeOf(() => open(k1Renamed, a.replace('mk-one', 'mk-two')))).toBe('auth-failed');
    expect(codeOf(() => open(createEnvelopeKey('mk-one', randomBytes(32)), a))).toBe('auth-failed');
    expect(codeOf(() => open(k2, a))).toBe('unknown-key');
    expect(codeOf(() => open(k1, 'kge1.mk-one.AAAA'))).toBe('malformed');
    expect(codeOf(() => open(k1, PLAIN))).toBe('malformed');
    expect(isSealed(PLAIN)).toBe(false);
  });

  it('re-wraps under a new key (master-key rotation), idempotently', () => {
    const a = seal(k1, PLAIN, 'row-7');
    const b = rewrap(k1, k2, a, 'row-7');
    expect(sealedKeyId(b)).toBe('mk-two');
    expect(open(k2, b, 'row-7').toString()).toBe(PLAIN);
    expect(codeOf(() => open(k1, b, 'row-7'))).toBe('unknown-key');
    const c = rewrap(k1, k2, b, 'row-7'); // already on the new key: still fine
    expect(open(k2, c, 'row-7').toString()).toBe(PLAIN);
    expect(codeOf(() => rewrap(k1, k2, a, 'row-8'))).toBe('auth-failed');
  });

  it('validates keys', () => {
    expect(() => createEnvelopeKey('bad id', randomBytes(32))).toThrow(TypeError);
    expect(() => createEnvelopeKey('ok', randomBytes(16))).toThrow(TypeError);
  });
});
