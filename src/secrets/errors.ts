/**
 * Errors of the secret layer. "Not found" is its own class so callers never confuse a
 * missing secret with a broken backend. Messages are built here from names and statuses
 * only; anything taken from a backend's answer passes through redactText first.
 */
import { redactText } from '../core/redact.js';

export class SecretNotFoundError extends Error {
  readonly backend: string;
  readonly secretName: string;
  constructor(backend: string, secretName: string) {
    super(`Secret '${secretName}' was not found in the ${backend} backend.`);
    this.name = 'SecretNotFoundError';
    this.backend = backend;
    this.secretName = secretName;
  }
}

export type SecretOperation = 'get' | 'put' | 'delete' | 'list' | 'validate' | 'auth';

export class SecretBackendError extends Error {
  readonly backend: string;
  readonly operation: SecretOperation;
  readonly secretName: string | undefined;
  /** HTTP status or service error code when the backend gave one. */
  readonly code: string | undefined;

  constructor(
    backend: string,
    operation: SecretOperation,
    detail: string,
    opts: { secretName?: string; code?: string | number; secrets?: readonly string[] } = {},
  ) {
    const what = opts.secretName ? ` '${opts.secretName}'` : '';
    super(redactText(`${backend} backend: ${operation}${what} failed: ${detail}`, opts.secrets ?? []));
    this.name = 'SecretBackendError';
    this.backend = backend;
    this.operation = operation;
    this.secretName = opts.secretName;
    this.code = opts.code === undefined ? undefined : String(opts.code);
  }
}

/** The backend cannot do this at all (e.g. writing to environment variables). */
export class SecretUnsupportedError extends SecretBackendError {
  constructor(backend: string, operation: SecretOperation) {
    super(backend, operation, `the ${backend} backend does not support ${operation}`, { code: 'unsupported' });
    this.name = 'SecretUnsupportedError';
  }
}

/** A short, redacted description of an unknown thrown value, for wrapping into SecretBackendError. */
export function describeCause(err: unknown, secrets: readonly string[] = []): string {
  const msg = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  // Cap the length: third-party messages can embed whole request dumps.
  return redactText(msg.length > 300 ? `${msg.slice(0, 300)}...` : msg, secrets);
}
