import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { SecretString } from './secret-string.js';

const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789wxyz';

describe('SecretString', () => {
  it('reveals the plaintext only on request', () => {
    const s = SecretString.from(KEY);
    expect(s.reveal()).toBe(KEY);
    expect(s.use((p) => p.length)).toBe(KEY.length);
  });

  it('masks in every printable form', () => {
    const s = SecretString.from(KEY);
    const forms = [String(s), `${s}`, JSON.stringify({ s }), inspect(s), inspect({ nested: { s } }), new Error(`bad ${s}`).message, s + ''];
    for (const f of forms) {
      expect(f).not.toContain(KEY);
      expect(f).not.toContain('abcdefghij');
      expect(f).toContain('sk-...wxyz');
    }
  });

  it('does not expose plaintext through enumerable properties', () => {
    const s = SecretString.from(KEY);
    expect(Object.keys(s)).toEqual([]);
    expect(JSON.stringify(Object.entries(s))).not.toContain('abcdef');
  });

  it('compares in constant time and correctly', () => {
    const s = SecretString.from(KEY);
    expect(s.equals(KEY)).toBe(true);
    expect(s.equals(`${KEY}x`)).toBe(false);
    expect(s.equals(SecretString.from(KEY))).toBe(true);
    expect(s.equals('')).toBe(false);
  });
});
