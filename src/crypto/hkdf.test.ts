import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hkdfSha256 } from './hkdf.js';

describe('hkdfSha256', () => {
  it('matches RFC 5869 test cases 1 and 3', () => {
    const ikm = Buffer.alloc(22, 0x0b);
    const okm1 = hkdfSha256(ikm, Buffer.from('000102030405060708090a0b0c', 'hex'), Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'), 42);
    expect(okm1.toString('hex')).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
    // Test case 3: empty salt and info.
    expect(hkdfSha256(ikm, Buffer.alloc(0), Buffer.alloc(0), 42).toString('hex')).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  });

  it("equals node's hkdfSync for random inputs and lengths", () => {
    for (let i = 0; i < 50; i++) {
      const ikm = randomBytes(1 + (i % 70));
      const salt = randomBytes(i % 3 === 0 ? 0 : 16);
      const info = randomBytes(i % 90);
      const len = 1 + ((i * 37) % 100);
      expect(hkdfSha256(ikm, salt, info, len).equals(Buffer.from(hkdfSync('sha256', ikm, salt, info, len)))).toBe(true);
    }
  });

  it('refuses a length HKDF cannot produce', () => {
    expect(() => hkdfSha256(Buffer.alloc(1), Buffer.alloc(0), Buffer.alloc(0), 0)).toThrow(RangeError);
    expect(() => hkdfSha256(Buffer.alloc(1), Buffer.alloc(0), Buffer.alloc(0), 255 * 32 + 1)).toThrow(RangeError);
  });
});
