/**
 * App secrets: 256 random bits, shown once, stored as a SHA-256 hash (like keygate keys: with
 * that much entropy a fast hash is safe). Checked in constant time.
 */
import { randomBytes } from 'node:crypto';
import { hashKey, hashesEqual } from '../../../auth/keygate-keys.js';

export const APP_SECRET_PREFIX = 'kgs_';
const SHAPE = /^kgs_[A-Za-z0-9_-]{43}$/;
// Compared against when an app has no secret, so both paths do the same work.
const NO_SECRET = hashKey('keygate: no app secret');

export function newAppSecret(): { secret: string; hash: string } {
  const secret = APP_SECRET_PREFIX + randomBytes(32).toString('base64url');
  return { secret, hash: hashKey(secret) };
}

/** True when `secret` is the app's secret. A missing hash or a malformed secret never matches. */
export function appSecretMatches(secret: string, storedHash: string | null): boolean {
  const shaped = SHAPE.test(secret);
  const equal = hashesEqual(hashKey(secret), storedHash ?? NO_SECRET);
  return shaped && storedHash !== null && equal;
}
