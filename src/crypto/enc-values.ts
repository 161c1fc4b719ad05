/**
 * `enc:` values: a Fernet token under the master key behind an `enc:` prefix, e.g.
 * `OPENAI_API_KEY=enc:gAAAAA...`. The token is plain Fernet, so a value made with Python's
 * `Fernet(key).encrypt(b"...")` works unchanged, and ours open in Python.
 * Errors name the variable, never its value.
 */
import { Fernet, InvalidToken, MultiFernet } from './fernet.js';
import { SecretString } from './secret-string.js';

export const ENC_PREFIX = 'enc:';

/** Anything that yields the master key's Fernet (a MasterKey), or a Fernet / MultiFernet itself. */
export type EncValueKey = Fernet | MultiFernet | { fernet(): Fernet | MultiFernet };

/** Raised when an `enc:` value cannot be used; carries the variable name only. */
export class EncValueError extends Error {
  readonly varName: string;
  constructor(varName: string, message: string) {
    super(message);
    this.name = 'EncValueError';
    this.varName = varName;
  }
}

export function isEncValue(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(ENC_PREFIX);
}

function fernetOf(key: EncValueKey): Fernet | MultiFernet {
  return key instanceof Fernet || key instanceof MultiFernet ? key : key.fernet();
}

/** `enc:<fernet token>` for a plaintext value (what `keygate secrets encrypt VALUE` prints). */
export function encryptEnvValue(key: EncValueKey, plain: string | SecretString): string {
  const text = plain instanceof SecretString ? plain.reveal() : plain;
  return ENC_PREFIX + fernetOf(key).encrypt(text);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decrypts an `enc:` value into a SecretString. No TTL: these values are long-lived config. */
export function decryptEnvValue(key: EncValueKey, value: string, varName: string): SecretString {
  if (!isEncValue(value)) {
    throw new EncValueError(varName, `${varName} is not an enc: value (it must start with "enc:" followed by a Fernet token).`);
  }
  const token = value.slice(ENC_PREFIX.length).trim();
  let plain: Buffer;
  try {
    plain = fernetOf(key).decrypt(token);
  } catch (err) {
    if (!(err instanceof InvalidToken)) throw err;
    throw new EncValueError(
      varName,
      `${varName} holds an enc: value that cannot be decrypted with the current master key ` +
        '(it was altered or truncated, or encrypted under another key). ' +
        'Re-create it with `keygate secrets encrypt` under this master key, or set the master key it was made with.',
    );
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(plain);
  } catch {
    throw new EncValueError(varName, `${varName} decrypts to bytes that are not UTF-8 text; encrypt the text value itself.`);
  } finally {
    plain.fill(0);
  }
  return SecretString.from(text);
}
