/**
 * The gateway's provider keys in service: one KeyPool fed from the environment (plain or
 * `enc:`) and the configured secret backend. A backend entry overrides the environment
 * variable of the same logical name (`openai` <-> OPENAI_API_KEY, `openai.2` <-> OPENAI_API_KEY_2),
 * so writing `openai` to the backend is a rotation of that key. reload() applies changes
 * without a restart: a changed value rotates (the old key drains, then retires), a vanished
 * name drains, a failed read keeps the last good value.
 */
import type { SecretString } from '../crypto/secret-string.js';
import type { SecretBackend } from '../secrets/backend.js';
import { CachedBackend, type BackendStatus } from '../secrets/cached-backend.js';
import { SecretNotFoundError } from '../secrets/errors.js';
import { KeyPool, NoKeyAvailableError, type KeyLease, type KeyPoolEvent, type KeyPoolOptions, type PoolKeyInfo } from '../secrets/key-pool.js';
import { poolNames } from '../secrets/secure-key-manager.js';
import { describeCause } from '../secrets/errors.js';

export { NoKeyAvailableError };

export interface KeySourceProvider {
  id: string;
  /** The provider's key variable (OPENAI_API_KEY, or providers.<id>.apiKeyEnv); null = none. */
  envVar: string | null;
}

/** Reads one environment variable as a key (opens `enc:` values); null when unset. */
export type EnvKeyReader = (varName: string) => SecretString | null;

export interface ProviderKeyServiceOptions {
  providers: readonly KeySourceProvider[];
  env: Readonly<Record<string, string | undefined>>;
  readEnvKey: EnvKeyReader;
  /** The configured backend; null when it is `env` (the environment is always read). */
  backend: SecretBackend | null;
  pool?: KeyPoolOptions;
  onEvent?: (e: KeyPoolEvent) => void;
  /** A reload problem (backend down, a value that does not open); never carries a key. */
  onError?: (message: string) => void;
  /** Run before each reload (e.g. re-read master key files during a master-key rotation). */
  beforeReload?: () => Promise<void>;
}

export interface RotationResult {
  provider: string;
  keyId: string;
  draining: string[];
  retired: Promise<void>;
}

interface Slot {
  keyId: string;
  key: SecretString;
  source: 'env' | 'backend';
}

export class ProviderKeyService {
  readonly pool: KeyPool;
  readonly backend: SecretBackend | null;
  readonly #o: ProviderKeyServiceOptions;
  /** provider -> logical name -> slot. */
  readonly #slots = new Map<string, Map<string, Slot>>();
  #lastError: string | undefined;
  #failingSince: string | undefined;
  #version: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<RotationResult[]> | null = null;
  /** Set at start-up when the backend failed validate(): what failed and what to check (no secret). */
  validationProblem: string | undefined;

  constructor(opts: ProviderKeyServiceOptions) {
    this.#o = opts;
    this.backend = opts.backend;
    this.pool = new KeyPool(opts.pool);
    if (opts.onEvent) this.pool.on(opts.onEvent);
  }

  /** A lease on one of the provider's keys; null when the gateway holds none. Throws NoKeyAvailableError when all are cooling. */
  acquire(provider: string): KeyLease | null {
    if (!this.has(provider)) return null;
    const lease = this.pool.acquire(provider);
    return {
      provider,
      keyId: lease.keyId,
      key: lease.key,
      release: (outcome, retryAfterSeconds) => {
        // The last usable key is never benched: with nothing to switch to, the provider's own
        // answer (401, 429) is more useful to the caller than keygate's "every key is resting".
        const bench = (outcome === 'auth_failed' || outcome === 'rate_limited') && this.canSwitch(provider, lease.keyId);
        lease.release(bench || outcome === 'ok' ? outcome : 'error', retryAfterSeconds);
      },
    };
  }

  /** Another key of the provider is usable now (not cooling, not draining). */
  canSwitch(provider: string, keyId: string): boolean {
    return this.pool.snapshot(provider).some((k) => k.keyId !== keyId && k.state === 'active');
  }

  has(provider: string): boolean {
    return (this.#slots.get(provider)?.size ?? 0) > 0;
  }

  providers(): string[] {
    return [...this.#slots].filter(([, m]) => m.size > 0).map(([p]) => p).sort();
  }

  /** Key ids and states per provider, for the admin API; masks only. */
  snapshot(): Array<{ provider: string; keys: Array<PoolKeyInfo & { name?: string; source?: 'env' | 'backend' }> }> {
    return this.pool.providers().map((provider) => {
      const byId = new Map([...(this.#slots.get(provider) ?? [])].map(([name, s]) => [s.keyId, { name, source: s.source }]));
      return { provider, keys: this.pool.snapshot(provider).map((k) => ({ ...k, ...byId.get(k.keyId) })) };
    });
  }

  /** Health of the backend: a remote one that is down keeps serving its last good values. */
  status(): BackendStatus & { backend: string } {
    const name = this.backend?.name ?? 'env';
    if (this.backend instanceof CachedBackend && !this.backend.status().healthy) return { backend: name, ...this.backend.status() };
    if (this.#lastError) return { backend: name, healthy: false, lastError: this.#lastError, staleSince: this.#failingSince };
    return { backend: name, healthy: true };
  }

  /**
   * Writes a new current key for `provider` to the backend and applies it at once: new calls
   * use it, calls in flight finish on the old key, which is then retired.
   */
  async rotate(provider: string, key: SecretString): Promise<RotationResult> {
    if (!this.backend || !this.backend.capabilities.write) {
      throw new Error(`The ${this.backend?.name ?? 'env'} backend is read-only: rotate the key where it is defined, or switch secrets.backend to a writable backend.`);
    }
    await this.backend.put(provider, key);
    const changes = await this.reload();
    const done = changes.find((c) => c.provider === provider);
    const slot = this.#slots.get(provider)?.get(provider);
    if (done) return done;
    if (!slot) throw new Error(`The new ${provider} key could not be read back from the ${this.backend.name} backend.`);
    return { provider, keyId: slot.keyId, draining: [], retired: Promise.resolve() };
  }

  /**
   * Runs the backend's validate() (reachable, credentials accepted, values open) and keeps the
   * answer for the start-up log and error. A failure is not fatal by itself: keys from the
   * environment still serve, and a remote backend is retried on every reload.
   */
  async validate(fixHint: string): Promise<string | undefined> {
    if (!this.backend || this.backend.name === 'env') return undefined;
    try {
      await this.backend.validate();
      this.validationProblem = undefined;
    } catch (err) {
      this.validationProblem = `the ${this.backend.name} secret backend failed validation (${describeCause(err)}). ${fixHint}`;
      if (!this.#lastError) this.#failingSince = new Date().toISOString();
      this.#lastError = describeCause(err);
    }
    return this.validationProblem;
  }

  /** Re-reads every source and applies the differences (one reload at a time). */
  reload(opts: { refresh?: boolean } = {}): Promise<RotationResult[]> {
    this.#reloading ??= this.#reload(opts.refresh === true).finally(() => (this.#reloading = null));
    return this.#reloading;
  }

  /** Polls the backend every `intervalMs` for changes made by another process (CLI rotation). */
  watch(intervalMs: number): void {
    if (intervalMs <= 0 || !this.backend || this.backend.name === 'env') return;
    this.#timer = setInterval(() => {
      this.#pollOnce().catch((err: unknown) => this.#fail(describeCause(err)));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async #pollOnce(): Promise<void> {
    const b = this.backend as SecretBackend & { version?: () => Promise<string> };
    if (typeof b.version === 'function') {
      const v = await b.version();
      if (v === this.#version) return;
    }
    await this.reload();
  }

  async #reload(refresh: boolean): Promise<RotationResult[]> {
    await this.#o.beforeReload?.();
    if (refresh && this.backend instanceof CachedBackend) await this.backend.refresh();
    const fromBackend = await this.#readBackend();
    const results: RotationResult[] = [];
    for (const { id, envVar } of this.#o.providers) {
      const desired = new Map<string, { key: SecretString; source: 'env' | 'backend' }>();
      for (const [name, key] of this.#readEnv(id, envVar)) desired.set(name, { key, source: 'env' });
      const backendKeys = fromBackend?.get(id);
      if (backendKeys === undefined && fromBackend === null) {
        // Backend unreadable: keep its last good keys.
        for (const [name, s] of this.#slots.get(id) ?? []) if (s.source === 'backend') desired.set(name, { key: s.key, source: 'backend' });
      }
      for (const [name, key] of backendKeys ?? []) desired.set(name, { key, source: 'backend' });
      const r = this.#apply(id, desired);
      if (r) results.push(r);
    }
    return results;
  }

  /** provider -> name -> key, or null when the backend could not be listed. */
  async #readBackend(): Promise<Map<string, Map<string, SecretString>> | null> {
    const out = new Map<string, Map<string, SecretString>>();
    if (!this.backend || this.backend.name === 'env') return out;
    const b = this.backend as SecretBackend & { version?: () => Promise<string> };
    let names: string[];
    try {
      const version = typeof b.version === 'function' ? await b.version() : undefined;
      names = await b.list();
      this.#version = version;
    } catch (err) {
      this.#fail(describeCause(err));
      return null;
    }
    let failed = false;
    for (const { id } of this.#o.providers) {
      const m = new Map<string, SecretString>();
      for (const name of poolNames(names, id)) {
        try {
          m.set(name, await b.get(name));
        } catch (err) {
          if (err instanceof SecretNotFoundError) continue;
          failed = true;
          this.#fail(describeCause(err));
          const old = this.#slots.get(id)?.get(name);
          if (old?.source === 'backend') m.set(name, old.key); // keep serving the last good value
        }
      }
      if (m.size > 0) out.set(id, m);
    }
    if (!failed) {
      this.#lastError = undefined;
      this.#failingSince = undefined;
    }
    return out;
  }

  #readEnv(provider: string, envVar: string | null): Map<string, SecretString> {
    const out = new Map<string, SecretString>();
    if (!envVar) return out;
    const base = this.#o.readEnvKey(envVar);
    if (base) out.set(provider, base);
    const numbered = new RegExp(`^${envVar}_([0-9]+)$`);
    for (const v of Object.keys(this.#o.env).sort()) {
      const m = numbered.exec(v);
      const key = m ? this.#o.readEnvKey(v) : null;
      if (m && key) out.set(`${provider}.${Number(m[1])}`, key);
    }
    return out;
  }

  #apply(provider: string, desired: Map<string, { key: SecretString; source: 'env' | 'backend' }>): RotationResult | null {
    const current = this.#slots.get(provider) ?? new Map<string, Slot>();
    const next = new Map<string, Slot>();
    let rotation: RotationResult | null = null;
    const live = () => new Set(this.pool.snapshot(provider).filter((k) => k.state !== 'draining').map((k) => k.keyId));
    for (const [name, { key, source }] of desired) {
      const prev = current.get(name);
      if (prev && prev.key.equals(key)) {
        next.set(name, { ...prev, source });
        continue;
      }
      if (prev) {
        // Same name, new value: a rotation. The old key drains unless another name still holds it.
        const stillHeld = [...desired].some(([n, d]) => n !== name && d.key.equals(prev.key));
        const replace = stillHeld || !live().has(prev.keyId) ? [] : [prev.keyId];
        const r = this.pool.rotate(provider, key, { replace });
        next.set(name, { keyId: r.keyId, key, source });
        rotation = { provider, keyId: r.keyId, draining: r.draining, retired: r.retired };
        continue;
      }
      next.set(name, { keyId: this.pool.addKey(provider, key), key, source });
    }
    const kept = new Set([...next.values()].map((s) => s.keyId));
    for (const [name, s] of current) {
      if (next.has(name) || kept.has(s.keyId) || !live().has(s.keyId)) continue;
      void this.pool.retire(provider, s.keyId);
    }
    this.#slots.set(provider, next);
    return rotation;
  }

  #fail(message: string): void {
    if (!this.#lastError) this.#failingSince = new Date().toISOString();
    this.#lastError = message;
    this.#o.onError?.(message);
  }
}
