/**
 * AES-256-GCM envelope for values at rest (provider keys in the database, under the master key).
 *
 *   sealed = "kge1." <key id> "." base64url( IV (12) ‖ ciphertext ‖ tag (16) )
 *
 * The key id names the key version that sealed the value, so master-key rotation can find the
 * right key and re-wrap (`rewrap`) rows one by one while old and new keys are both loaded.
 * The header and an optional caller AAD (e.g. the row's name) are authenticated, so a value
 * cannot be moved to another row or relabelled with another key id. Text, so it fits a TEXT
 * column in SQLite and PostgreSQL alike.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretString } from './secret-string.js';

const PREFIX = 'kge1';
const IV_LEN = 12;
const TAG_LEN = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEALED = /^kge1\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]+)$/;

export interface EnvelopeKey {
  /** Key-version id written into every sealed value (not secret). */
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

export type EnvelopeErrorCode = 'malformed' | 'unknown-key' | 'auth-failed';

/** One error class; `code` says which kind of failure without revealing any content. */
export class EnvelopeError extends Error {
  readonly code: EnvelopeErrorCode;
  constructor(code: EnvelopeErrorCode, message: string) {
    super(message);
    this.name = 'EnvelopeError';
    this.code = code;
  }
}

export function createEnvelopeKey(id: string, key: Buffer): EnvelopeKey {
  if (!KEY_ID.test(id)) throw new TypeError('An envelope key id must be 1-64 characters of [A-Za-z0-9_-]');
  if (!Buffer.isBuffer(key) || key.length !== 32) throw new TypeError('An envelope key must be 32 bytes');
  return Object.freeze({ id, key: Buffer.from(key) });
}

export function isSealed(v: unknown): v is string {
  return typeof v === 'string' && SEALED.test(v);
}

/** The id of the key that sealed a value, to pick the key or to find rows still on an old key. */
export function sealedKeyId(sealed: string): string {
  const m = SEALED.exec(sealed);
  if (!m) throw new EnvelopeError('malformed', 'Not a sealed value');
  return m[1]!;
}

function keyList(keys: EnvelopeKey | readonly EnvelopeKey[]): readonly EnvelopeKey[] {
  return 'id' in keys ? [keys] : keys;
}

function toBuffer(v: string | Buffer | undefined): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

// The header and the caller's AAD, separated so ("a", "b.c") and ("a.b", "c") cannot collide.
function aadFor(keyId: string, aad: string | Buffer | undefined): Buffer {
  return Buffer.concat([Buffer.from(`${PREFIX}.${keyId}.`, 'utf8'), Buffer.from([0]), toBuffer(aad)]);
}

export function seal(key: EnvelopeKey, plaintext: string | Buffer, aad?: string | Buffer): string {
  const iv = randomBytes(IV_LEN);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_LEN });
  cipher.setAAD(aadFor(key.id, aad));
  const ct = Buffer.concat([cipher.update(toBuffer(plaintext)), cipher.final()]);
  return `${PREFIX}.${key.id}.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}`;
}

/** Opens a sealed value with the key it names, chosen from `keys`. */
export function open(keys: EnvelopeKey | readonly EnvelopeKey[], sealed: string, aad?: string | Buffer): Buffer {
  const m = typeof sealed === 'string' ? SEALED.exec(sealed) : null;
  if (!m) throw new EnvelopeError('malformed', 'Not a sealed value');
  const keyId = m[1]!;
  const key = keyList(keys).find((k) => k.id === keyId);
  if (!key) throw new EnvelopeError('unknown-key', `Sealed with key "${keyId}", which is not loaded`);
  const body = Buffer.from(m[2]!, 'base64url');
  if (body.length < IV_LEN + TAG_LEN) throw new EnvelopeError('malformed', 'Sealed value is truncated');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, IV_LEN), { authTagLength: TAG_LEN });
    decipher.setAAD(aadFor(keyId, aad));
    decipher.setAuthTag(body.subarray(body.length - TAG_LEN));
    return Buffer.concat([decipher.update(body.subarray(IV_LEN, body.length - TAG_LEN)), decipher.final()]);
  } catch {
    throw new EnvelopeError('auth-failed', 'Sealed value failed authentication (altered, moved, or wrong key)');
  }
}

/** Opens straight into a SecretString and wipes the intermediate buffer. */
export function openSecret(keys: EnvelopeKey | readonly EnvelopeKey[], sealed: string, aad?: string | Buffer): SecretString {
  const plain = open(keys, sealed, aad);
  try {
    return SecretString.from(plain.toString('utf8'));
  } finally {
    plain.fill(0);
  }
}

/** Re-seals under `newKey` (master-key rotation). `oldKeys` may include `newKey`, so it is idempotent. */
export function rewrap(
  oldKeys: EnvelopeKey | readonly EnvelopeKey[],
  newKey: EnvelopeKey,
  sealed: string,
  aad?: string | Buffer,
): string {
  const keys = [...keyList(oldKeys), newKey];
  const plain = open(keys, sealed, aad);
  try {
    return seal(newKey, plain, aad);
  } finally {
    plain.fill(0);
  }
}
