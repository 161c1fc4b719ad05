/**
 * A secret held encrypted in memory. The plaintext exists only for the moment of use
 * (`reveal()` / `use()`); every way a value can be printed (toString, toJSON, util.inspect,
 * template strings, error messages) yields a mask like `sk-...abcd`.
 *
 * The in-memory key is random per process and never leaves it, so a heap dump or a log of
 * the object shows ciphertext, not the key.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { maskSecret } from '../core/redact.js';

const MEMORY_KEY = randomBytes(32);

export class SecretString {
  readonly #iv: Buffer;
  readonly #ciphertext: Buffer;
  readonly #tag: Buffer;
  readonly #mask: string;
  readonly #length: number;

  private constructor(plain: string) {
    this.#iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', MEMORY_KEY, this.#iv);
    this.#ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    this.#tag = cipher.getAuthTag();
    this.#mask = maskSecret(plain);
    this.#length = plain.length;
  }

  static from(plain: string): SecretString {
    if (typeof plain !== 'string') throw new TypeError('SecretString.from expects a string');
    return new SecretString(plain);
  }

  static isSecretString(v: unknown): v is SecretString {
    return v instanceof SecretString;
  }

  /** The plaintext. Call at the point of use and do not keep the result. */
  reveal(): string {
    const decipher = createDecipheriv('aes-256-gcm', MEMORY_KEY, this.#iv);
    decipher.setAuthTag(this.#tag);
    return Buffer.concat([decipher.update(this.#ciphertext), decipher.final()]).toString('utf8');
  }

  /** Runs `fn` with the plaintext; the plaintext is not retained by this object. */
  use<T>(fn: (plain: string) => T): T {
    return fn(this.reveal());
  }

  /** Constant-time comparison with a candidate plaintext. */
  equals(candidate: string | SecretString): boolean {
    const other = candidate instanceof SecretString ? candidate.reveal() : candidate;
    // Hash both sides first so lengths are equal and timing does not reveal the length.
    const a = createHash('sha256').update(this.reveal()).digest();
    const b = createHash('sha256').update(other).digest();
    return timingSafeEqual(a, b);
  }

  get masked(): string {
    return this.#mask;
  }

  get length(): number {
    return this.#length;
  }

  toString(): string {
    return this.#mask;
  }

  toJSON(): string {
    return this.#mask;
  }

  [Symbol.toPrimitive](): string {
    return this.#mask;
  }

  [inspect.custom](): string {
    return `SecretString(${this.#mask})`;
  }
}
