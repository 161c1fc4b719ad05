/**
 * The master key: 32 random bytes that protect every secret keygate stores.
 *
 * Sources, first match wins:
 *   1. KEYGATE_MASTER_KEY: a Fernet key (what Python's `Fernet.generate_key()` prints);
 *   2. KEYGATE_MASTER_PASSPHRASE: PBKDF2-HMAC-SHA256 (>= 600,000 iterations) with a random salt
 *      kept in `<dataDir>/master.salt.json`, beside a verifier so a wrong passphrase is named
 *      as such instead of producing a wrong key;
 *   3. `<dataDir>/master.key`: created on first use with mode 0600; a file readable by group or
 *      others is refused.
 * Errors name the variable or the file and the fix, never the value.
 */
import { createHmac, hkdfSync, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { decodeFernetKey, Fernet, generateFernetKey } from './fernet.js';
import { decryptEnvValue, encryptEnvValue } from './enc-values.js';
import { createEnvelopeKey, type EnvelopeKey } from './envelope.js';
import type { SecretString } from './secret-string.js';

const pbkdf2Async = promisify(pbkdf2);

export const MASTER_KEY_ENV = 'KEYGATE_MASTER_KEY';
export const MASTER_PASSPHRASE_ENV = 'KEYGATE_MASTER_PASSPHRASE';
export const MASTER_KEY_FILE = 'master.key';
export const MASTER_SALT_FILE = 'master.salt.json';
/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256; files asking for fewer are refused. */
export const PBKDF2_MIN_ITERATIONS = 600_000;
const PBKDF2_MAX_ITERATIONS = 50_000_000; // a tampered file must not stall start-up for hours
export const MIN_PASSPHRASE_LENGTH = 12;

export type MasterKeySource = 'env-key' | 'passphrase' | 'key-file' | 'bytes';

export type MasterKeyErrorCode =
  | 'invalid-env-key'
  | 'weak-passphrase'
  | 'wrong-passphrase'
  | 'bad-salt-file'
  | 'insecure-key-file'
  | 'bad-key-file'
  | 'missing';

export class MasterKeyError extends Error {
  readonly code: MasterKeyErrorCode;
  constructor(code: MasterKeyErrorCode, message: string) {
    super(message);
    this.name = 'MasterKeyError';
    this.code = code;
  }
}

export class MasterKey {
  readonly #bytes: Buffer;
  readonly source: MasterKeySource;
  /** Public key-version id (a keyed hash, reveals nothing about the key); used in envelope headers. */
  readonly id: string;
  #fernet: Fernet | undefined;
  #envelopeKey: EnvelopeKey | undefined;

  private constructor(bytes: Buffer, source: MasterKeySource) {
    this.#bytes = Buffer.from(bytes);
    this.source = source;
    this.id = 'mk-' + createHmac('sha256', this.#bytes).update('keygate master-key id v1').digest('base64url').slice(0, 12);
  }

  static fromBytes(bytes: Buffer, source: MasterKeySource = 'bytes'): MasterKey {
    if (!Buffer.isBuffer(bytes) || bytes.length !== 32) throw new TypeError('A master key must be 32 bytes');
    return new MasterKey(bytes, source);
  }

  /** From a Fernet key string (url-safe base64 of 32 bytes). */
  static fromFernetKey(key: string, source: MasterKeySource = 'bytes'): MasterKey {
    return new MasterKey(decodeFernetKey(key), source);
  }

  /** The Fernet over the raw master key: `enc:` values, interoperable with Python given the same key. */
  fernet(): Fernet {
    this.#fernet ??= new Fernet(this.#bytes);
    return this.#fernet;
  }

  /** `enc:<token>` for a value (what `keygate secrets encrypt` prints). */
  encryptValue(plain: string | SecretString): string {
    return encryptEnvValue(this, plain);
  }

  /** Opens an `enc:` value; an error names `varName`, never the value. */
  decryptValue(value: string, varName: string): SecretString {
    return decryptEnvValue(this, value, varName);
  }

  /**
   * A 32-byte sub-key for one purpose (HKDF-SHA256), so no key is shared between algorithms.
   * It changes when the master key rotates: use it only for data that is re-wrapped on rotation.
   */
  deriveKey(purpose: string, length = 32): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#bytes, 'keygate master key', `keygate/${purpose}`, length));
  }

  /** The AES-256-GCM key for the envelope (values at rest), tagged with this key's id. */
  envelopeKey(): EnvelopeKey {
    this.#envelopeKey ??= createEnvelopeKey(this.id, this.deriveKey('envelope v1'));
    return this.#envelopeKey;
  }

  toString(): string {
    return `MasterKey(${this.id})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** A new master key in the KEYGATE_MASTER_KEY format (same as Python's `Fernet.generate_key()`). */
export function generateMasterKey(): string {
  return generateFernetKey();
}

export interface LoadMasterKeyOptions {
  /** keygate's data directory: holds master.key or master.salt.json. */
  dataDir: string;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Create master.key when no source is configured (default true). */
  createIfMissing?: boolean;
}

export interface LoadedMasterKey {
  key: MasterKey;
  /** Where it came from, for a start-up log line, e.g. "KEYGATE_MASTER_KEY" or the file path. */
  origin: string;
  /** Non-fatal remarks worth logging (e.g. an ignored, lower-priority source). */
  notes: string[];
}

export async function loadMasterKey(opts: LoadMasterKeyOptions): Promise<LoadedMasterKey> {
  const env = opts.env ?? process.env;
  const envKey = nonEmpty(env[MASTER_KEY_ENV]);
  const passphrase = nonEmpty(env[MASTER_PASSPHRASE_ENV]);
  const notes: string[] = [];

  if (envKey !== undefined) {
    if (passphrase !== undefined) notes.push(`${MASTER_PASSPHRASE_ENV} is ignored because ${MASTER_KEY_ENV} is set.`);
    let bytes: Buffer;
    try {
      bytes = decodeFernetKey(envKey);
    } catch {
      throw new MasterKeyError(
        'invalid-env-key',
        `${MASTER_KEY_ENV} is not a valid key: it must be the url-safe base64 of 32 bytes (44 characters ending in "="), ` +
          'as Python\'s `Fernet.generate_key()` prints it. See docs/key-management.md.',
      );
    }
    const key = MasterKey.fromBytes(bytes, 'env-key'); // copies; wipe our copy
    bytes.fill(0);
    return { key, origin: MASTER_KEY_ENV, notes };
  }
  if (passphrase !== undefined) {
    const key = await keyFromPassphrase(passphrase, opts.dataDir);
    return { key, origin: MASTER_PASSPHRASE_ENV, notes };
  }
  const path = join(opts.dataDir, MASTER_KEY_FILE);
  return { key: await keyFromFile(path, opts.createIfMissing ?? true), origin: path, notes };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

// ---- passphrase ----

interface SaltFile {
  version: 1;
  kdf: 'pbkdf2-sha256';
  iterations: number;
  salt: string; // base64url, 16 bytes
  verifier: string; // base64url HMAC of a constant under the derived key
}

function verifierFor(key: Buffer): Buffer {
  return createHmac('sha256', key).update('keygate master-key passphrase verifier v1').digest();
}

async function keyFromPassphrase(passphrase: string, dataDir: string): Promise<MasterKey> {
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new MasterKeyError(
      'weak-passphrase',
      `${MASTER_PASSPHRASE_ENV} is too short: use at least ${MIN_PASSPHRASE_LENGTH} characters (a few random words), or set ${MASTER_KEY_ENV} instead.`,
    );
  }
  const path = join(dataDir, MASTER_SALT_FILE);
  const existing = await readSaltFile(path);
  if (existing) {
    const key = await pbkdf2Async(passphrase, Buffer.from(existing.salt, 'base64url'), existing.iterations, 32, 'sha256');
    const expected = Buffer.from(existing.verifier, 'base64url');
    const actual = verifierFor(key);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      key.fill(0);
      throw new MasterKeyError(
        'wrong-passphrase',
        `${MASTER_PASSPHRASE_ENV} is not the passphrase this data directory was set up with (checked against ${path}). ` +
          'Set the original passphrase; to change it, rotate the master key.',
      );
    }
    return takeKey(key, 'passphrase');
  }
  // First use: a fresh salt, then write salt and verifier together, never replacing a file.
  const salt = randomBytes(16);
  const key = await pbkdf2Async(passphrase, salt, PBKDF2_MIN_ITERATIONS, 32, 'sha256');
  const file: SaltFile = {
    version: 1,
    kdf: 'pbkdf2-sha256',
    iterations: PBKDF2_MIN_ITERATIONS,
    salt: salt.toString('base64url'),
    verifier: verifierFor(key).toString('base64url'),
  };
  const created = await createExclusive(path, `${JSON.stringify(file, null, 2)}\n`);
  if (!created) {
    key.fill(0);
    return keyFromPassphrase(passphrase, dataDir); // another process won the race: use its salt
  }
  return takeKey(key, 'passphrase');
}

/** Wraps key bytes and wipes the caller's buffer (MasterKey keeps its own copy). */
function takeKey(bytes: Buffer, source: MasterKeySource): MasterKey {
  try {
    return MasterKey.fromBytes(bytes, source);
  } finally {
    bytes.fill(0);
  }
}

async function readSaltFile(path: string): Promise<SaltFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MasterKeyError('bad-salt-file', `Cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check its owner and permissions.`);
  }
  const bad = (why: string): MasterKeyError =>
    new MasterKeyError('bad-salt-file', `${path} is not a valid keygate salt file (${why}). Restore it from backup: without it the passphrase cannot recreate the master key.`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const f = v as Partial<SaltFile> | null;
  if (!f || f.version !== 1 || f.kdf !== 'pbkdf2-sha256') throw bad('unknown version or kdf');
  if (typeof f.iterations !== 'number' || !Number.isInteger(f.iterations) || f.iterations < PBKDF2_MIN_ITERATIONS || f.iterations > PBKDF2_MAX_ITERATIONS) {
    throw bad(`iterations must be an integer from ${PBKDF2_MIN_ITERATIONS} to ${PBKDF2_MAX_ITERATIONS}`);
  }
  if (typeof f.salt !== 'string' || Buffer.from(f.salt, 'base64url').length < 16) throw bad('salt');
  if (typeof f.verifier !== 'string' || Buffer.from(f.verifier, 'base64url').length !== 32) throw bad('verifier');
  return f as SaltFile;
}

// ---- key file ----

async function keyFromFile(path: string, createIfMissing: boolean): Promise<MasterKey> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new MasterKeyError('bad-key-file', `Cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check its owner and permissions.`);
    }
    if (!createIfMissing) {
      throw new MasterKeyError(
        'missing',
        `No master key: set ${MASTER_KEY_ENV} (the url-safe base64 of 32 random bytes, as Python's Fernet.generate_key() prints), set ${MASTER_PASSPHRASE_ENV}, or create ${path} with mode 0600.`,
      );
    }
    // If another process created it meanwhile, its key wins and is read below like any file.
    await createExclusive(path, `${generateFernetKey()}\n`);
    return keyFromFile(path, false);
  }
  if (!st.isFile()) throw new MasterKeyError('bad-key-file', `${path} is not a regular file.`);
  // POSIX permissions only; Windows reports synthetic modes.
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new MasterKeyError(
      'insecure-key-file',
      `${path} is readable or writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); refusing to use it. Fix: chmod 600 ${path}`,
    );
  }
  const text = await readFile(path, 'utf8');
  try {
    return takeKey(decodeFernetKey(text.trim()), 'key-file');
  } catch {
    throw new MasterKeyError(
      'bad-key-file',
      `${path} does not hold a valid master key (one line: the url-safe base64 of 32 bytes). Restore it from backup; a new key cannot open existing secrets.`,
    );
  }
}

/**
 * Writes a file only if none exists, atomically: the content goes to a private temp file, then
 * link() publishes it, so no reader ever sees a half-written key. Returns false if one existed.
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
