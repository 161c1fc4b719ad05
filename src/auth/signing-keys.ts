/**
 * Signing secrets for HS256 tokens, each with an id (`kid`), rotated with an overlap window:
 * new tokens are signed with `current`; older keys still verify until their `notAfter`, which
 * should be at least the longest token lifetime after the rotation.
 *
 * Secrets are held as node KeyObjects, which never print their bytes (inspect, JSON, logs).
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SecretString } from '../crypto/secret-string.js';

export type SecretInput = string | Uint8Array | SecretString;

export interface SigningKeyConfig {
  kid: string;
  /** At least 32 bytes (the HS256 output size, RFC 7518 3.2). A string is used as UTF-8. */
  secret: SecretInput;
  /** After this instant the key no longer verifies. A Date, an ISO string or epoch milliseconds. */
  notAfter?: Date | string | number;
}

export interface KeyringConfig {
  current: string;
  keys: readonly SigningKeyConfig[];
}

export interface SigningKey {
  readonly kid: string;
  readonly key: KeyObject;
  /** The same secret as a WebCrypto key: jose verifies ~2x faster with it than with raw bytes. */
  readonly cryptoKey: Promise<CryptoKey>;
  /** Epoch milliseconds, or null for no end. */
  readonly notAfter: number | null;
}

export const MIN_SECRET_BYTES = 32;
const KID_SHAPE = /^[A-Za-z0-9._-]{1,64}$/;

/** A configuration mistake in the keyring; thrown at start-up, never on the request path. */
export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

function secretBytes(secret: SecretInput, kid: string): Buffer {
  if (secret instanceof SecretString) return Buffer.from(secret.reveal(), 'utf8');
  if (typeof secret === 'string') return Buffer.from(secret, 'utf8');
  if (secret instanceof Uint8Array) return Buffer.from(secret);
  throw new KeyringError(`Signing key '${kid}': secret must be a string, a Uint8Array or a SecretString.`);
}

function parseNotAfter(value: SigningKeyConfig['notAfter'], kid: string): number | null {
  if (value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new KeyringError(`Signing key '${kid}': notAfter is not a valid date.`);
  return ms;
}

export class SigningKeyring {
  readonly #keys: ReadonlyMap<string, SigningKey>;
  readonly #current: SigningKey;

  constructor(config: KeyringConfig, now: number = Date.now()) {
    if (!config || !Array.isArray(config.keys) || config.keys.length === 0) {
      throw new KeyringError('The signing keyring needs at least one key: { current, keys: [{ kid, secret }] }.');
    }
    const keys = new Map<string, SigningKey>();
    for (const k of config.keys) {
      if (typeof k?.kid !== 'string' || !KID_SHAPE.test(k.kid)) {
        throw new KeyringError(`Signing key id '${String(k?.kid).slice(0, 64)}' is not valid: 1-64 of A-Z a-z 0-9 . _ -.`);
      }
      if (keys.has(k.kid)) throw new KeyringError(`Signing key id '${k.kid}' appears twice.`);
      const bytes = secretBytes(k.secret, k.kid);
      if (bytes.length < MIN_SECRET_BYTES) {
        throw new KeyringError(`Signing key '${k.kid}': the secret has ${bytes.length} bytes; HS256 needs at least ${MIN_SECRET_BYTES}.`);
      }
      const key = createSecretKey(bytes);
      bytes.fill(0);
      const cryptoKey = globalThis.crypto.subtle.importKey('raw', key.export(), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
      // Awaited at use; this only keeps a failed import from being an unhandled rejection meanwhile.
      cryptoKey.catch(() => undefined);
      keys.set(k.kid, { kid: k.kid, key, cryptoKey, notAfter: parseNotAfter(k.notAfter, k.kid) });
    }
    const current = keys.get(config.current);
    if (!current) throw new KeyringError(`The current signing key '${String(config.current).slice(0, 64)}' is not in the keyring.`);
    if (current.notAfter !== null && current.notAfter <= now) {
      throw new KeyringError(`The current signing key '${current.kid}' is past its notAfter; rotate to a new key.`);
    }
    this.#keys = keys;
    this.#current = current;
  }

  /** The key new tokens are signed with. */
  get current(): SigningKey {
    return this.#current;
  }

  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  /** The key for `kid` if it exists and is still within its window at `now`; else null. */
  verificationKey(kid: string, now: number = Date.now()): SigningKey | null {
    const key = this.#keys.get(kid);
    if (!key) return null;
    if (key.notAfter !== null && key.notAfter <= now) return null;
    return key;
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }
}

/** A fresh 32-byte secret, base64url (43 characters), for config files and rotation. */
export function generateSigningSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The config after a rotation: `next` becomes current; the previous current key keeps verifying
 * for `overlapSeconds` (use at least the longest token lifetime); keys whose window has closed
 * are dropped. Pure: returns a new config, the caller persists it and rebuilds the keyring.
 */
export function rotateKeyring(
  config: KeyringConfig,
  next: { kid: string; secret?: SecretInput },
  overlapSeconds: number,
  now: number = Date.now(),
): KeyringConfig {
  if (!Number.isFinite(overlapSeconds) || overlapSeconds < 0) throw new KeyringError('overlapSeconds must be a non-negative number.');
  if (config.keys.some((k) => k.kid === next.kid)) throw new KeyringError(`Signing key id '${next.kid}' is already in the keyring.`);
  const closeAt = now + overlapSeconds * 1000;
  const keys: SigningKeyConfig[] = [];
  for (const k of config.keys) {
    const end = parseNotAfter(k.notAfter, k.kid);
    if (end !== null && end <= now) continue;
    if (k.kid === config.current) keys.push({ ...k, notAfter: end === null ? closeAt : Math.min(end, closeAt) });
    else keys.push(k);
  }
  keys.push({ kid: next.kid, secret: next.secret ?? generateSigningSecret() });
  return { current: next.kid, keys };
}
