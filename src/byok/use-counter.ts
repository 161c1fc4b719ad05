/**
 * Counts split-key uses off the request path: `count()` only touches a map; a timer writes the
 * tallies in one batch. A failed write puts its tallies back, so nothing is lost until close.
 */
import type { SplitKeyRepository, UseTally } from './repository.js';

export interface UseCounterOptions {
  /** How long uses gather before they are written (default 1 s). */
  flushIntervalMs?: number;
  onError?: (err: unknown) => void;
}

export class UseCounter {
  #pending = new Map<string, UseTally>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  readonly #intervalMs: number;
  readonly #onError: (err: unknown) => void;

  constructor(
    private readonly repo: Pick<SplitKeyRepository, 'addUses'>,
    opts: UseCounterOptions = {},
  ) {
    this.#intervalMs = opts.flushIntervalMs ?? 1000;
    this.#onError = opts.onError ?? (() => undefined);
  }

  count(keyId: string, now = Date.now()): void {
    const t = this.#pending.get(keyId);
    if (t) {
      t.count += 1;
      if (now > t.lastUsedAt) t.lastUsedAt = now;
    } else {
      this.#pending.set(keyId, { count: 1, lastUsedAt: now });
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Writes what has gathered; flushes run one after another, never overlapping. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.repo.addUses(batch);
    } catch (err) {
      for (const [keyId, t] of batch) {
        const now = this.#pending.get(keyId);
        this.#pending.set(keyId, now ? { count: now.count + t.count, lastUsedAt: Math.max(now.lastUsedAt, t.lastUsedAt) } : t);
      }
      this.#onError(err);
      this.#arm();
    }
  }
}
