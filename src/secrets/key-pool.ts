/**
 * Several upstream keys per provider. acquire() picks a usable key (round-robin or
 * least-in-flight), release() reports how the call went: a key the provider rejected (401/403)
 * or rate-limited (429, honouring Retry-After) cools down before it is used again.
 * rotate() adds a new key and drains the old ones: requests already on them finish, no new
 * request gets them, and each is retired when its in-flight count reaches zero.
 * Synchronous on purpose: it sits on the hot path and needs no I/O.
 */
import { randomBytes } from 'node:crypto';
import type { SecretString } from '../crypto/secret-string.js';

export type KeyOutcome = 'ok' | 'auth_failed' | 'rate_limited' | 'error';
export type PoolStrategy = 'round-robin' | 'least-in-flight';
export type KeyState = 'active' | 'cooling' | 'draining';

export interface KeyLease {
  readonly provider: string;
  readonly keyId: string;
  readonly key: SecretString;
  /** Idempotent: only the first call counts. */
  release(outcome: KeyOutcome, retryAfterSeconds?: number): void;
}

export interface PoolKeyInfo {
  keyId: string;
  /** Masked, e.g. `sk-...abcd`. */
  masked: string;
  state: KeyState;
  inFlight: number;
  coolingUntil?: string;
  cooldownReason?: 'auth_failed' | 'rate_limited';
}

export type KeyPoolEvent =
  | { type: 'key.added'; provider: string; keyId: string; at: string }
  | { type: 'key.rotated'; provider: string; keyId: string; replaced: string[]; at: string }
  | { type: 'key.draining'; provider: string; keyId: string; inFlight: number; at: string }
  | { type: 'key.retired'; provider: string; keyId: string; at: string }
  | { type: 'key.cooling'; provider: string; keyId: string; reason: 'auth_failed' | 'rate_limited'; until: string; at: string }
  | { type: 'key.recovered'; provider: string; keyId: string; at: string };

export type KeyPoolListener = (event: KeyPoolEvent) => void;

export interface KeyPoolOptions {
  strategy?: PoolStrategy;
  /** Cooling after a 401/403, default 5 minutes (a revoked key will not come back sooner). */
  authCooldownMs?: number;
  /** Cooling after a 429 without Retry-After, default 30 s. */
  rateLimitCooldownMs?: number;
  /** Upper bound for Retry-After, default 1 hour. */
  maxCooldownMs?: number;
  now?: () => number;
}

/** No usable key right now; retryAfterSeconds says when the first cooling key returns. */
export class NoKeyAvailableError extends Error {
  readonly provider: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(provider: string, retryAfterSeconds?: number) {
    super(
      retryAfterSeconds === undefined
        ? `No ${provider} key is configured in the pool.`
        : `Every ${provider} key is cooling down after a rejection or rate limit; retry in ${retryAfterSeconds} s.`,
    );
    this.name = 'NoKeyAvailableError';
    this.provider = provider;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface PoolKey {
  id: string;
  key: SecretString;
  inFlight: number;
  draining: boolean;
  coolingUntil: number;
  cooldownReason?: 'auth_failed' | 'rate_limited';
  drained?: () => void;
  drainedPromise?: Promise<void>;
}

interface ProviderPool {
  keys: PoolKey[];
  cursor: number;
}

export class KeyPool {
  readonly #pools = new Map<string, ProviderPool>();
  readonly #listeners = new Set<KeyPoolListener>();
  readonly #strategy: PoolStrategy;
  readonly #authCooldown: number;
  readonly #rateCooldown: number;
  readonly #maxCooldown: number;
  readonly #now: () => number;

  constructor(opts: KeyPoolOptions = {}) {
    this.#strategy = opts.strategy ?? 'round-robin';
    this.#authCooldown = opts.authCooldownMs ?? 5 * 60_000;
    this.#rateCooldown = opts.rateLimitCooldownMs ?? 30_000;
    this.#maxCooldown = opts.maxCooldownMs ?? 60 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Subscribes to pool events (audit log, webhooks). Events carry key ids, never keys. */
  on(listener: KeyPoolListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  providers(): string[] {
    return [...this.#pools.keys()].filter((p) => this.#pools.get(p)!.keys.length > 0).sort();
  }

  /** Adds a key; an identical key already in the pool (constant-time compare) keeps its id. */
  addKey(provider: string, key: SecretString, keyId?: string): string {
    const pool = this.#pool(provider);
    const same = pool.keys.find((k) => !k.draining && k.key.equals(key));
    if (same) return same.id;
    const id = keyId ?? `${provider}-${randomBytes(4).toString('hex')}`;
    if (pool.keys.some((k) => k.id === id)) throw new Error(`Key id '${id}' is already in the ${provider} pool.`);
    pool.keys.push({ id, key, inFlight: 0, draining: false, coolingUntil: 0 });
    this.#emit({ type: 'key.added', provider, keyId: id, at: this.#iso() });
    return id;
  }

  /**
   * Makes the pool hold exactly these keys (start-up, or a re-read after SIGHUP): new ones are
   * added, identical ones kept with their state, missing ones drained and retired.
   */
  setKeys(provider: string, keys: ReadonlyArray<{ key: SecretString; keyId?: string }>): string[] {
    const kept = keys.map(({ key, keyId }) => this.addKey(provider, key, keyId));
    for (const k of this.#pool(provider).keys) if (!kept.includes(k.id)) this.#drain(provider, k);
    return kept;
  }

  /** Leases a key. Throws NoKeyAvailableError when the provider has none, or all are cooling. */
  acquire(provider: string): KeyLease {
    const pool = this.#pools.get(provider);
    const live = pool?.keys.filter((k) => !k.draining) ?? [];
    if (!pool || live.length === 0) throw new NoKeyAvailableError(provider);
    const now = this.#now();
    for (const k of live) {
      if (k.coolingUntil !== 0 && k.coolingUntil <= now) {
        k.coolingUntil = 0;
        k.cooldownReason = undefined;
        this.#emit({ type: 'key.recovered', provider, keyId: k.id, at: this.#iso() });
      }
    }
    const usable = live.filter((k) => k.coolingUntil === 0);
    if (usable.length === 0) {
      const soonest = Math.min(...live.map((k) => k.coolingUntil));
      throw new NoKeyAvailableError(provider, Math.max(1, Math.ceil((soonest - now) / 1000)));
    }
    const chosen = this.#pick(pool, live, usable);
    chosen.inFlight++;
    return this.#lease(provider, chosen);
  }

  #pick(pool: ProviderPool, live: PoolKey[], usable: PoolKey[]): PoolKey {
    // Round-robin over the live list so a key coming back from cooling takes its turn again.
    const order: PoolKey[] = [];
    for (let i = 0; i < live.length; i++) {
      const k = live[(pool.cursor + i) % live.length];
      if (usable.includes(k)) order.push(k);
    }
    let chosen = order[0];
    if (this.#strategy === 'least-in-flight') for (const k of order) if (k.inFlight < chosen.inFlight) chosen = k;
    pool.cursor = (live.indexOf(chosen) + 1) % live.length;
    return chosen;
  }

  #lease(provider: string, k: PoolKey): KeyLease {
    let released = false;
    return {
      provider,
      keyId: k.id,
      key: k.key,
      release: (outcome, retryAfterSeconds) => {
        if (released) return;
        released = true;
        k.inFlight--;
        if (!k.draining && (outcome === 'auth_failed' || outcome === 'rate_limited')) this.#cool(provider, k, outcome, retryAfterSeconds);
        if (k.draining && k.inFlight === 0) this.#retire(provider, k);
      },
    };
  }

  #cool(provider: string, k: PoolKey, reason: 'auth_failed' | 'rate_limited', retryAfterSeconds?: number): void {
    const ms =
      reason === 'auth_failed'
        ? this.#authCooldown
        : retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0
          ? Math.min(retryAfterSeconds * 1000, this.#maxCooldown)
          : this.#rateCooldown;
    const until = this.#now() + ms;
    // Never shorten a cooling period already running (e.g. a 429 landing after a 401).
    if (until <= k.coolingUntil) return;
    k.coolingUntil = until;
    k.cooldownReason = reason;
    this.#emit({ type: 'key.cooling', provider, keyId: k.id, reason, until: new Date(until).toISOString(), at: this.#iso() });
  }

  /**
   * Hot rotation: adds `newKey`, then drains `replace` (default: every other key of the
   * provider). `retired` resolves once every drained key has no request left on it.
   */
  rotate(provider: string, newKey: SecretString, opts: { keyId?: string; replace?: string[] } = {}): { keyId: string; draining: string[]; retired: Promise<void> } {
    const keyId = this.addKey(provider, newKey, opts.keyId);
    const pool = this.#pool(provider);
    const targets = pool.keys.filter((k) => k.id !== keyId && !k.draining && (opts.replace === undefined || opts.replace.includes(k.id)));
    if (opts.replace) {
      const unknown = opts.replace.filter((id) => !pool.keys.some((k) => k.id === id));
      if (unknown.length) throw new Error(`Unknown key id(s) in the ${provider} pool: ${unknown.join(', ')}`);
    }
    this.#emit({ type: 'key.rotated', provider, keyId, replaced: targets.map((k) => k.id), at: this.#iso() });
    const retired = Promise.all(targets.map((k) => this.#drain(provider, k))).then(() => undefined);
    return { keyId, draining: targets.map((k) => k.id), retired };
  }

  /** Drains and retires one key. Resolves when it is gone. */
  retire(provider: string, keyId: string): Promise<void> {
    const k = this.#pools.get(provider)?.keys.find((x) => x.id === keyId);
    if (!k) throw new Error(`Unknown key id '${keyId}' in the ${provider} pool.`);
    return this.#drain(provider, k);
  }

  #drain(provider: string, k: PoolKey): Promise<void> {
    if (k.drainedPromise) return k.drainedPromise;
    k.draining = true;
    k.drainedPromise = new Promise<void>((resolve) => (k.drained = resolve));
    this.#emit({ type: 'key.draining', provider, keyId: k.id, inFlight: k.inFlight, at: this.#iso() });
    if (k.inFlight === 0) this.#retire(provider, k);
    return k.drainedPromise;
  }

  #retire(provider: string, k: PoolKey): void {
    const pool = this.#pool(provider);
    const i = pool.keys.indexOf(k);
    if (i < 0) return;
    pool.keys.splice(i, 1);
    if (pool.cursor > i) pool.cursor--;
    this.#emit({ type: 'key.retired', provider, keyId: k.id, at: this.#iso() });
    k.drained?.();
  }

  /** State of each key (for the admin API and /readyz); no key material. */
  snapshot(provider: string): PoolKeyInfo[] {
    const now = this.#now();
    return (this.#pools.get(provider)?.keys ?? []).map((k) => {
      const cooling = !k.draining && k.coolingUntil > now;
      const info: PoolKeyInfo = { keyId: k.id, masked: k.key.masked, state: k.draining ? 'draining' : cooling ? 'cooling' : 'active', inFlight: k.inFlight };
      if (cooling) {
        info.coolingUntil = new Date(k.coolingUntil).toISOString();
        info.cooldownReason = k.cooldownReason;
      }
      return info;
    });
  }

  #pool(provider: string): ProviderPool {
    let p = this.#pools.get(provider);
    if (!p) {
      p = { keys: [], cursor: 0 };
      this.#pools.set(provider, p);
    }
    return p;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  #emit(event: KeyPoolEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // A failing listener (webhook queue full, ...) must not break key selection.
      }
    }
  }
}
