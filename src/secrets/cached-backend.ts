/**
 * A TTL cache in front of a remote backend. When the backend fails, the last good value keeps
 * being served and status() says so (for /readyz and the log); "not found" is authoritative and
 * drops the cached value. refresh() re-reads everything cached (SIGHUP, or after a rotation).
 */
import type { SecretString } from '../crypto/secret-string.js';
import { redactText } from '../core/redact.js';
import type { SecretBackend, SecretBackendCapabilities } from './backend.js';
import { SecretNotFoundError } from './errors.js';

export interface CachedBackendOptions {
  /** How long a value is served without asking the backend, default 5 minutes. */
  ttlMs?: number;
  /** Stop serving a stale value after this long without a successful read; default forever. */
  maxStaleMs?: number;
  now?: () => number;
}

export interface BackendStatus {
  healthy: boolean;
  /** Redacted message of the last failure. */
  lastError?: string;
  /** When the backend started failing (ISO time); absent while healthy. */
  staleSince?: string;
}

export type StatusListener = (status: BackendStatus, backend: string) => void;

interface Entry {
  value: SecretString;
  fetchedAt: number;
}

export class CachedBackend implements SecretBackend {
  readonly name: string;
  readonly capabilities: SecretBackendCapabilities;
  readonly inner: SecretBackend;
  readonly #ttl: number;
  readonly #maxStale: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<SecretString>>();
  readonly #listeners = new Set<StatusListener>();
  #failingSince: number | undefined;
  #lastError: string | undefined;

  constructor(inner: SecretBackend, opts: CachedBackendOptions = {}) {
    this.inner = inner;
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.#ttl = opts.ttlMs ?? 5 * 60_000;
    this.#maxStale = opts.maxStaleMs ?? Number.POSITIVE_INFINITY;
    this.#now = opts.now ?? Date.now;
  }

  status(): BackendStatus {
    if (this.#failingSince === undefined) return { healthy: true };
    return { healthy: false, lastError: this.#lastError, staleSince: new Date(this.#failingSince).toISOString() };
  }

  /** Called on every change of health, so the caller can log "backend down, serving cached values". */
  onStatusChange(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async get(name: string): Promise<SecretString> {
    const hit = this.#cache.get(name);
    if (hit && this.#now() - hit.fetchedAt < this.#ttl) return hit.value;
    // One backend read per name at a time, however many requests wait for it.
    let pending = this.#inflight.get(name);
    if (!pending) {
      pending = this.#fetch(name).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, pending);
    }
    return pending;
  }

  async #fetch(name: string): Promise<SecretString> {
    try {
      const value = await this.inner.get(name);
      this.#cache.set(name, { value, fetchedAt: this.#now() });
      this.#markHealthy();
      return value;
    } catch (err) {
      if (err instanceof SecretNotFoundError) {
        this.#cache.delete(name);
        this.#markHealthy();
        throw err;
      }
      this.#markFailing(err);
      const stale = this.#cache.get(name);
      if (stale && this.#failingSince !== undefined && this.#now() - this.#failingSince <= this.#maxStale) return stale.value;
      throw err;
    }
  }

  async put(name: string, value: SecretString): Promise<void> {
    await this.inner.put(name, value);
    this.#cache.set(name, { value, fetchedAt: this.#now() });
  }

  async delete(name: string): Promise<void> {
    this.#cache.delete(name);
    await this.inner.delete(name);
  }

  list(): Promise<string[]> {
    return this.inner.list();
  }

  async validate(): Promise<void> {
    try {
      await this.inner.validate();
      this.#markHealthy();
    } catch (err) {
      this.#markFailing(err);
      throw err;
    }
  }

  /** Re-reads every cached name now. Returns the names whose value changed. */
  async refresh(): Promise<{ changed: string[]; failed: string[]; removed: string[] }> {
    const changed: string[] = [];
    const failed: string[] = [];
    const removed: string[] = [];
    for (const [name, old] of [...this.#cache]) {
      try {
        const fresh = await this.inner.get(name);
        this.#cache.set(name, { value: fresh, fetchedAt: this.#now() });
        this.#markHealthy();
        if (!fresh.equals(old.value)) changed.push(name);
      } catch (err) {
        if (err instanceof SecretNotFoundError) {
          this.#cache.delete(name);
          removed.push(name);
        } else {
          // Keep the old value for serving; the failure shows in status().
          this.#markFailing(err);
          failed.push(name);
        }
      }
    }
    return { changed, failed, removed };
  }

  /** Drops cached values (all, or one name). */
  invalidate(name?: string): void {
    if (name === undefined) this.#cache.clear();
    else this.#cache.delete(name);
  }

  #markHealthy(): void {
    if (this.#failingSince === undefined) return;
    this.#failingSince = undefined;
    this.#lastError = undefined;
    this.#emit();
  }

  #markFailing(err: unknown): void {
    const first = this.#failingSince === undefined;
    this.#lastError = redactText(err instanceof Error ? err.message : String(err)).slice(0, 300);
    if (first) {
      this.#failingSince = this.#now();
      this.#emit();
    }
  }

  #emit(): void {
    const s = this.status();
    for (const l of this.#listeners) l(s, this.name);
  }
}
