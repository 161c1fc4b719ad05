/**
 * Fernet, version 0x80, to the letter of https://github.com/fernet/spec (Spec.md):
 *
 *   token = base64url( 0x80 ‖ timestamp (u64 BE, seconds) ‖ IV (16) ‖ AES-128-CBC/PKCS7 ciphertext ‖ HMAC-SHA256 (32) )
 *   key   = base64url( signing key (16) ‖ encryption key (16) )
 *
 * Tokens and keys interoperate with Python's `cryptography.fernet` both ways. Verification follows
 * the spec's order: decode, version, timestamp (TTL and clock skew), HMAC (constant time), decrypt,
 * unpad. Every failure throws the same `InvalidToken`, with no detail that could help an attacker.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 0x80;
const HEADER_LEN = 1 + 8 + 16; // version ‖ timestamp ‖ IV
const HMAC_LEN = 32;
const BLOCK = 16;
const MIN_TOKEN_LEN = HEADER_LEN + BLOCK + HMAC_LEN; // PKCS7 always adds at least one block
// Module-private: lets MultiFernet skip the time checks without widening the public API.
const OPEN_WITHOUT_TIME_CHECKS = Symbol('openWithoutTimeChecks');
/** With a TTL, a token stamped further than this in the future is refused (Python's _MAX_CLOCK_SKEW). */
export const FERNET_MAX_CLOCK_SKEW_SECONDS = 60;

// Strict url-safe alphabet with mandatory padding, as Python's encoder writes it.
const B64URL_PADDED = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

/** The one error every bad token produces. Deliberately says nothing about why. */
export class InvalidToken extends Error {
  constructor() {
    super('Invalid Fernet token');
    this.name = 'InvalidToken';
  }
}

export interface FernetEncryptOptions {
  /** Unix time in seconds to stamp into the token (default: the current time). */
  now?: number;
  /** A fixed 16-byte IV, for test vectors only; leave unset in real use. */
  iv?: Buffer;
}

export interface FernetDecryptOptions {
  /** Maximum token age in seconds; unset means tokens never expire (as in Python). */
  ttlSeconds?: number;
  /** Unix time in seconds to check against (default: the current time). */
  now?: number;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Strict base64url decode with padding; returns null on anything non-canonical. */
function decodeBase64Url(text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0 || !B64URL_PADDED.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  // Refuse non-canonical encodings (stray bits in the last character).
  if (bytes.toString('base64url') !== text.replace(/=+$/, '')) return null;
  return bytes;
}

function encodeBase64UrlPadded(bytes: Buffer): string {
  const s = bytes.toString('base64url');
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

/** A new random key, formatted exactly as Python's `Fernet.generate_key()` prints it. */
export function generateFernetKey(): string {
  return encodeBase64UrlPadded(randomBytes(32));
}

/** Decodes a Fernet key (url-safe base64 string of 32 bytes, or the 32 raw bytes). */
export function decodeFernetKey(key: string | Buffer): Buffer {
  if (Buffer.isBuffer(key)) {
    if (key.length !== 32) throw new TypeError('A Fernet key must be 32 bytes');
    return Buffer.from(key);
  }
  if (typeof key !== 'string') throw new TypeError('A Fernet key must be a string or a Buffer');
  const bytes = decodeBase64Url(key.trim());
  if (!bytes || bytes.length !== 32) {
    throw new TypeError('A Fernet key must be 32 url-safe base64-encoded bytes (44 characters, as Fernet.generate_key() prints)');
  }
  return bytes;
}

export class Fernet {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  constructor(key: string | Buffer) {
    const bytes = decodeFernetKey(key);
    this.#signingKey = bytes.subarray(0, 16);
    this.#encryptionKey = bytes.subarray(16, 32);
  }

  encrypt(data: string | Buffer, opts: FernetEncryptOptions = {}): string {
    const plain = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const now = opts.now ?? nowSeconds();
    if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('Fernet timestamp must be a non-negative integer of seconds');
    const iv = opts.iv ?? randomBytes(16);
    if (iv.length !== 16) throw new RangeError('Fernet IV must be 16 bytes');

    const header = Buffer.alloc(HEADER_LEN);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(now), 1);
    iv.copy(header, 9);
    // Node's default auto-padding is PKCS7, which is what the spec (RFC 5652 6.3) asks for.
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const body = Buffer.concat([header, cipher.update(plain), cipher.final()]);
    const mac = createHmac('sha256', this.#signingKey).update(body).digest();
    return encodeBase64UrlPadded(Buffer.concat([body, mac]));
  }

  decrypt(token: string, opts: FernetDecryptOptions = {}): Buffer {
    return this.decryptWithTimestamp(token, opts).plaintext;
  }

  /** The verified creation time (Unix seconds) of a token; throws InvalidToken like decrypt. */
  extractTimestamp(token: string): number {
    const data = parseToken(token);
    this.#verifyMac(data);
    return readTimestamp(data);
  }

  /** Decrypts and also returns the token's timestamp (MultiFernet.rotate keeps it). */
  decryptWithTimestamp(token: string, opts: FernetDecryptOptions = {}): { plaintext: Buffer; timestamp: number } {
    // 1-2. decode and check the version (and the fixed layout).
    const data = parseToken(token);
    // 3. timestamp: TTL and clock skew, before any MAC work. As in Python's cryptography, both
    // are checked only when a TTL is given: without one a token's time is not looked at.
    const timestamp = readTimestamp(data);
    // A NaN TTL would silently disable expiry: treat it as the caller's bug, not a bad token.
    if (opts.ttlSeconds !== undefined && !(opts.ttlSeconds >= 0)) throw new RangeError('ttlSeconds must be a non-negative number');
    if (opts.ttlSeconds !== undefined) {
      const now = opts.now ?? nowSeconds();
      if (timestamp + opts.ttlSeconds < now) throw new InvalidToken();
      if (now + FERNET_MAX_CLOCK_SKEW_SECONDS < timestamp) throw new InvalidToken();
    }
    // 4-7. HMAC, decrypt, unpad.
    return { plaintext: this.#verifyAndDecrypt(data), timestamp };
  }

  /** For MultiFernet.rotate only: like Python, rotation applies no time checks. */
  [OPEN_WITHOUT_TIME_CHECKS](token: string): { plaintext: Buffer; timestamp: number } {
    const data = parseToken(token);
    return { plaintext: this.#verifyAndDecrypt(data), timestamp: readTimestamp(data) };
  }

  #verifyAndDecrypt(data: Buffer): Buffer {
    this.#verifyMac(data);
    const iv = data.subarray(9, HEADER_LEN);
    const ciphertext = data.subarray(HEADER_LEN, data.length - HMAC_LEN);
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, iv);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new InvalidToken(); // bad padding: only reachable with a valid MAC, i.e. a key holder's bug
    }
  }

  #verifyMac(data: Buffer): void {
    const expected = createHmac('sha256', this.#signingKey).update(data.subarray(0, data.length - HMAC_LEN)).digest();
    if (!timingSafeEqual(expected, data.subarray(data.length - HMAC_LEN))) throw new InvalidToken();
  }
}

function parseToken(token: string): Buffer {
  if (typeof token !== 'string') throw new InvalidToken();
  const data = decodeBase64Url(token);
  if (!data || data[0] !== VERSION) throw new InvalidToken();
  if (data.length < MIN_TOKEN_LEN || (data.length - HEADER_LEN - HMAC_LEN) % BLOCK !== 0) throw new InvalidToken();
  return data;
}

function readTimestamp(data: Buffer): number {
  // Beyond 2^53 precision is lost, but such a value is far in the future and refused anyway.
  return Number(data.readBigUInt64BE(1));
}

/**
 * Several keys for rotation, as Python's MultiFernet: encrypts with the first, decrypts with any,
 * and `rotate()` re-encrypts a token under the first key keeping its original timestamp.
 */
export class MultiFernet {
  readonly #fernets: readonly Fernet[];

  constructor(keys: ReadonlyArray<Fernet | string | Buffer>) {
    if (keys.length === 0) throw new TypeError('MultiFernet needs at least one key');
    this.#fernets = keys.map((k) => (k instanceof Fernet ? k : new Fernet(k)));
  }

  encrypt(data: string | Buffer, opts: FernetEncryptOptions = {}): string {
    return this.#fernets[0]!.encrypt(data, opts);
  }

  decrypt(token: string, opts: FernetDecryptOptions = {}): Buffer {
    return this.decryptWithTimestamp(token, opts).plaintext;
  }

  decryptWithTimestamp(token: string, opts: FernetDecryptOptions = {}): { plaintext: Buffer; timestamp: number } {
    for (const f of this.#fernets) {
      try {
        return f.decryptWithTimestamp(token, opts);
      } catch (err) {
        if (!(err instanceof InvalidToken)) throw err;
      }
    }
    throw new InvalidToken();
  }

  /** Re-encrypts under the first key; the timestamp is kept so TTLs keep their meaning. */
  rotate(token: string): string {
    for (const f of this.#fernets) {
      let opened: { plaintext: Buffer; timestamp: number };
      try {
        opened = f[OPEN_WITHOUT_TIME_CHECKS](token);
      } catch (err) {
        if (err instanceof InvalidToken) continue;
        throw err;
      }
      return this.#fernets[0]!.encrypt(opened.plaintext, { now: opened.timestamp });
    }
    throw new InvalidToken();
  }
}
