/**
 * Read-only backend over environment variables: `OPENAI_API_KEY=sk-...` or
 * `OPENAI_API_KEY=enc:gAAAA...` (a Fernet token under the master key, decrypted by the
 * injected `decryptEnc`, so this file does not depend on how the master key is loaded).
 * Logical name `openai` <-> `OPENAI_API_KEY`; `openai.2` <-> `OPENAI_API_KEY_2` (pool keys).
 */
import { SecretString } from '../../crypto/secret-string.js';
import { assertSecretName, type SecretBackend, type SecretBackendCapabilities } from '../backend.js';
import { SecretBackendError, SecretNotFoundError, SecretUnsupportedError, describeCause } from '../errors.js';

export type EnvDecryptor = (value: string, varName: string) => SecretString;

export interface EnvBackendOptions {
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Opens `enc:` values; without it an `enc:` value is an error that names the variable. */
  decryptEnc?: EnvDecryptor;
  /** Extra or unusual mappings, logical name -> variable (e.g. { gemini: 'GOOGLE_API_KEY' }). */
  vars?: Readonly<Record<string, string>>;
}

const SUFFIX = '_API_KEY';
const ENV_VAR = /^([A-Z][A-Z0-9_]*?)_API_KEY(?:_([0-9]+))?$/;

/** `openai` -> OPENAI_API_KEY, `azure-openai` -> AZURE_OPENAI_API_KEY, `openai.2` -> OPENAI_API_KEY_2. */
export function envVarForName(name: string): string {
  const dot = name.indexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const index = dot < 0 ? '' : `_${name.slice(dot + 1).toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return base.toUpperCase().replace(/[^A-Z0-9]/g, '_') + SUFFIX + index;
}

/** Inverse of envVarForName for variables that follow the convention; undefined otherwise. */
export function nameForEnvVar(varName: string): string | undefined {
  const m = ENV_VAR.exec(varName);
  if (!m) return undefined;
  const base = m[1].toLowerCase().replace(/_/g, '-');
  return m[2] ? `${base}.${m[2]}` : base;
}

export class EnvBackend implements SecretBackend {
  readonly name = 'env';
  readonly capabilities: SecretBackendCapabilities = { read: true, write: false, delete: false, list: true };
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #decrypt: EnvDecryptor | undefined;
  readonly #vars: Readonly<Record<string, string>>;

  constructor(opts: EnvBackendOptions = {}) {
    this.#env = opts.env ?? process.env;
    this.#decrypt = opts.decryptEnc;
    this.#vars = opts.vars ?? {};
  }

  varFor(name: string): string {
    return this.#vars[name] ?? envVarForName(name);
  }

  async get(name: string): Promise<SecretString> {
    assertSecretName(name);
    const varName = this.varFor(name);
    const raw = this.#env[varName];
    if (raw === undefined || raw.trim() === '') throw new SecretNotFoundError(this.name, name);
    return this.#open(raw.trim(), varName, name);
  }

  #open(value: string, varName: string, name: string): SecretString {
    if (!value.startsWith('enc:')) return SecretString.from(value);
    if (!this.#decrypt) {
      throw new SecretBackendError(this.name, 'get', `${varName} holds an enc: value but no master key is configured to decrypt it`, { secretName: name });
    }
    try {
      return this.#decrypt(value, varName);
    } catch (err) {
      // The decryptor's message names the variable only; redact anyway in case a custom one does not.
      throw new SecretBackendError(this.name, 'get', describeCause(err, [value]), { secretName: name, code: 'decrypt_failed' });
    }
  }

  async put(): Promise<void> {
    throw new SecretUnsupportedError(this.name, 'put');
  }

  async delete(): Promise<void> {
    throw new SecretUnsupportedError(this.name, 'delete');
  }

  async list(): Promise<string[]> {
    const names = new Set<string>();
    for (const [varName, value] of Object.entries(this.#env)) {
      if (!value || value.trim() === '') continue;
      const name = nameForEnvVar(varName);
      // KEYGATE_* variables are the gateway's own settings, not provider keys.
      if (name && !varName.startsWith('KEYGATE_')) names.add(name);
    }
    for (const [name, varName] of Object.entries(this.#vars)) if (this.#env[varName]?.trim()) names.add(name);
    return [...names].sort();
  }

  /** Fails start-up on an undecryptable `enc:` value, naming the variable (never its value). */
  async validate(): Promise<void> {
    for (const name of await this.list()) await this.get(name);
  }
}
