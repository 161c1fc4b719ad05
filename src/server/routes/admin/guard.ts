/**
 * The admin scope's own defences, per client address (never the Host header): a stricter
 * request rate (sliding window over one minute, per process) and a lockout after repeated
 * failed authentications, counted by a LockoutCounter: in-process by default, in Redis when
 * the limit store is shared (lockout-redis.ts), so replicas add up their failures.
 */
import { MemoryLockout, recent, sweepIfFull, type LockoutCounter, type LockoutSettings } from './lockout.js';

export interface AdminGuardOptions extends LockoutSettings {
  rpm: number;
  now?: () => number;
}

export type GuardDecision = { ok: true } | { ok: false; reason: 'locked' | 'rate'; retryAfterSeconds: number };

export class AdminGuard {
  readonly #hits = new Map<string, number[]>();
  readonly #rpm: number;
  readonly #now: () => number;
  readonly lockout: LockoutCounter;

  constructor(opts: AdminGuardOptions, lockout?: LockoutCounter) {
    this.#rpm = opts.rpm;
    this.#now = opts.now ?? Date.now;
    this.lockout = lockout ?? new MemoryLockout(opts, this.#now);
  }

  /**
   * Called before authentication: a locked or too-busy address learns nothing more.
   * Rejects when a shared counter cannot be read (the caller fails closed).
   */
  async admit(address: string): Promise<GuardDecision> {
    const lockedMs = await this.lockout.lockedForMs(address);
    if (lockedMs > 0) return { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil(lockedMs / 1000) };
    const now = this.#now();
    const hits = recent(this.#hits.get(address), now - 60_000);
    if (hits.length >= this.#rpm) {
      this.#hits.set(address, hits);
      return { ok: false, reason: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((hits[0] + 60_000 - now) / 1000)) };
    }
    hits.push(now);
    this.#hits.set(address, hits);
    sweepIfFull(this.#hits, now - 60_000);
    return { ok: true };
  }

  /** Records a failed authentication; resolves true when this failure locks the address. */
  fail(address: string): Promise<boolean> {
    return this.lockout.fail(address);
  }
}
