/**
 * The one interface every secret backend implements (env, store, vault, aws, azure,
 * keyring). Names are logical, e.g. `openai` or `openai.2`; each backend maps them to its
 * own naming (a path prefix, an env variable, an Azure-safe name) and back in list().
 */
import type { SecretString } from '../crypto/secret-string.js';

export interface SecretBackendCapabilities {
  read: boolean;
  write: boolean;
  delete: boolean;
  list: boolean;
}

export interface SecretBackend {
  /** Short id used in errors, logs and /readyz: 'env', 'store', 'vault', 'aws', 'azure', 'keyring'. */
  readonly name: string;
  readonly capabilities: SecretBackendCapabilities;
  /** Rejects with SecretNotFoundError when absent, SecretBackendError on failure. Never resolves undefined. */
  get(name: string): Promise<SecretString>;
  /** Creates or replaces. */
  put(name: string, value: SecretString): Promise<void>;
  /** Rejects with SecretNotFoundError when there was nothing to delete. */
  delete(name: string): Promise<void>;
  /** Logical names this backend holds (under its prefix), sorted. */
  list(): Promise<string[]>;
  /** Checks configuration and connectivity; rejects with a SecretBackendError that says what to fix. */
  validate(): Promise<void>;
}

/** Logical secret names: lower-case, so they survive case-insensitive stores (Azure) unchanged. */
export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

export function assertSecretName(name: string): void {
  if (typeof name !== 'string' || !SECRET_NAME_PATTERN.test(name)) {
    throw new TypeError(`Invalid secret name '${String(name).slice(0, 40)}': use lower-case letters, digits, '.', '_' or '-' (1-100 characters).`);
  }
}
