/**
 * BYOK split keys: a user's provider key, encrypted so that neither the database row nor the
 * client's part alone can recover it.
 *
 *   data key   = HKDF-SHA256(ikm = serverSecret ‖ clientPart, salt = per-key random 16 bytes,
 *                            info = "keygate split-key v1" ‖ keyId ‖ ownerId ‖ provider)
 *   ciphertext = AES-256-GCM(data key, random IV, AAD = keyId ‖ ownerId ‖ provider)
 *
 * The row holds ciphertext, IV, tag and salt; the client holds its part (256 random bits, shown
 * once); the server secret lives outside the row (sealed under the master key, see the docs).
 * Binding owner and provider into both HKDF info and AAD means another user's id or another
 * provider's route fails authentication. Every failure is one `SplitKeyError` with one message.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hkdfSha256 } from './hkdf.js';
import { SecretString } from './secret-string.js';

const LABEL = 'keygate split-key v1';
const CLIENT_PREFIX = 'kg-sp-'; // matches the redaction pattern for kg- keys, so logs mask it
const CLIENT_PART = /^kg-sp-([A-Za-z0-9_-]{43})$/;
const KEY_ID_PREFIX = 'kgsk_';
const KEY_ID = /^kgsk_[A-Za-z0-9_-]{22}$/;
const MIN_SERVER_SECRET = 32;

/** What the database keeps for one split key. Binary fields are base64url. No secret part in it. */
export interface SplitKeyRecord {
  keyId: string;
  ownerId: string;
  provider: string;
  ciphertext: string;
  iv: string;
  tag: string;
  salt: string;
}

export interface CreatedSplitKey {
  keyId: string;
  /** Returned to the client once (X-Partial-Key); never stored by the server. */
  clientPart: string;
  stored: SplitKeyRecord;
}

export interface CreateSplitKeyInput {
  serverSecret: Buffer;
  plaintextKey: string | SecretString;
  ownerId: string;
  provider: string;
}

export interface OpenSplitKeyInput {
  serverSecret: Buffer;
  stored: SplitKeyRecord;
  /** From the request (X-Partial-Key). */
  clientPart: string;
  /** From the authenticated caller and the route, never from the row. */
  ownerId: string;
  provider: string;
}

/** The only error split keys throw when opening: nothing says which input was wrong. */
export class SplitKeyError extends Error {
  constructor() {
    super('Split key could not be opened');
    this.name = 'SplitKeyError';
  }
}

/** A fresh server secret (32 bytes). Keep it sealed under the master key, not in the split-key rows. */
export function generateSplitKeyServerSecret(): Buffer {
  return randomBytes(32);
}

export function isSplitKeyId(v: unknown): v is string {
  return typeof v === 'string' && KEY_ID.test(v);
}

export function isSplitKeyClientPart(v: unknown): v is string {
  return typeof v === 'string' && CLIENT_PART.test(v);
}

// Length-prefixed fields, so ("ab","c") and ("a","bc") never encode the same.
function fields(...parts: string[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    out.push(len, b);
  }
  return Buffer.concat(out);
}

function deriveDataKey(serverSecret: Buffer, clientBytes: Buffer, salt: Buffer, keyId: string, ownerId: string, provider: string): Buffer {
  const ikm = Buffer.concat([serverSecret, clientBytes]);
  try {
    const info = Buffer.concat([Buffer.from(LABEL, 'utf8'), fields(keyId, ownerId, provider)]);
    // RFC 5869 through two HMACs: the same bytes as hkdfSync at about half its cost per request.
    return hkdfSha256(ikm, salt, info, 32);
  } finally {
    ikm.fill(0);
  }
}

function checkServerSecret(serverSecret: Buffer): void {
  if (!Buffer.isBuffer(serverSecret) || serverSecret.length < MIN_SERVER_SECRET) {
    throw new TypeError(`The split-key server secret must be a Buffer of at least ${MIN_SERVER_SECRET} bytes`);
  }
}

function checkLabel(name: string, v: string): void {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new TypeError(`${name} must be a non-empty string of at most 256 characters`);
}

function encrypt(serverSecret: Buffer, clientBytes: Buffer, keyId: string, ownerId: string, provider: string, plain: string): SplitKeyRecord {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = deriveDataKey(serverSecret, clientBytes, salt, keyId, ownerId, provider);
  const pt = Buffer.from(plain, 'utf8');
  try {
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(fields(LABEL, keyId, ownerId, provider));
    const ciphertext = Buffer.concat([cipher.update(pt), cipher.final()]);
    return {
      keyId,
      ownerId,
      provider,
      ciphertext: ciphertext.toString('base64url'),
      iv: iv.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
      salt: salt.toString('base64url'),
    };
  } finally {
    key.fill(0);
    pt.fill(0);
  }
}

export function createSplitKey(input: CreateSplitKeyInput): CreatedSplitKey {
  checkServerSecret(input.serverSecret);
  checkLabel('ownerId', input.ownerId);
  checkLabel('provider', input.provider);
  const plain = input.plaintextKey instanceof SecretString ? input.plaintextKey.reveal() : input.plaintextKey;
  if (typeof plain !== 'string' || plain.length === 0) throw new TypeError('plaintextKey must be a non-empty string');

  const keyId = KEY_ID_PREFIX + randomBytes(16).toString('base64url');
  const clientBytes = randomBytes(32);
  try {
    const stored = encrypt(input.serverSecret, clientBytes, keyId, input.ownerId, input.provider, plain);
    return { keyId, clientPart: CLIENT_PREFIX + clientBytes.toString('base64url'), stored };
  } finally {
    clientBytes.fill(0);
  }
}

function decrypt(input: OpenSplitKeyInput): Buffer {
  const { serverSecret, stored, clientPart, ownerId, provider } = input;
  const m = typeof clientPart === 'string' ? CLIENT_PART.exec(clientPart) : null;
  if (!m || !Buffer.isBuffer(serverSecret) || serverSecret.length < MIN_SERVER_SECRET) throw new SplitKeyError();
  // The crypto below already binds owner and provider; refusing early also guards against a
  // caller passing the row's own values by mistake.
  if (stored.ownerId !== ownerId || stored.provider !== provider || !isSplitKeyId(stored.keyId)) throw new SplitKeyError();
  const clientBytes = Buffer.from(m[1]!, 'base64url');
  const key = deriveDataKey(serverSecret, clientBytes, Buffer.from(stored.salt, 'base64url'), stored.keyId, ownerId, provider);
  clientBytes.fill(0);
  try {
    const iv = Buffer.from(stored.iv, 'base64url');
    const tag = Buffer.from(stored.tag, 'base64url');
    if (iv.length !== 12 || tag.length !== 16) throw new SplitKeyError();
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(fields(LABEL, stored.keyId, ownerId, provider));
    decipher.setAuthTag(tag); // GCM's tag check is constant-time inside OpenSSL
    return Buffer.concat([decipher.update(Buffer.from(stored.ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new SplitKeyError();
  } finally {
    key.fill(0);
  }
}

/** Rebuilds the provider key in memory for one request. */
export function openSplitKey(input: OpenSplitKeyInput): SecretString {
  const plain = decrypt(input);
  try {
    return SecretString.from(plain.toString('utf8'));
  } finally {
    plain.fill(0);
  }
}

/**
 * Re-encrypts a row under a new server secret. Only possible while a request carries the client
 * part, so server-secret rotation happens lazily, key by key, as clients use their keys.
 */
export function rewrapSplitKey(input: OpenSplitKeyInput & { newServerSecret: Buffer }): SplitKeyRecord {
  checkServerSecret(input.newServerSecret);
  const plain = decrypt(input);
  const m = CLIENT_PART.exec(input.clientPart)!;
  const clientBytes = Buffer.from(m[1]!, 'base64url');
  try {
    return encrypt(input.newServerSecret, clientBytes, input.stored.keyId, input.ownerId, input.provider, plain.toString('utf8'));
  } finally {
    plain.fill(0);
    clientBytes.fill(0);
  }
}
