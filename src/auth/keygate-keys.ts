/**
 * keygate keys: `kg-` followed by 32 random bytes in base64url (256 bits of entropy).
 * Only a SHA-256 hash is stored; with that much entropy a fast hash is safe, and it lets the
 * CLI create keys without the master key. Lookup is by hash; the final compare is constant-time.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'kg-';
const KEY_SHAPE = /^kg-[A-Za-z0-9_-]{43}$/;

export function generateKeygateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function newKeyId(): string {
  return `key_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

export function isKeygateKeyShape(value: string): boolean {
  return KEY_SHAPE.test(value);
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Constant-time compare of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

/** What people see of a key after creation: enough to recognise it, not to use it. */
export function displayPrefix(key: string): string {
  return key.slice(0, 7);
}
