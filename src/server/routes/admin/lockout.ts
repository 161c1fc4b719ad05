/**
 * The admin lockout's counter: failed authentications per client address in a sliding
 * window, and the lock they lead to. In-process by default; in Redis when the gateway's limit
 * store is (lockout-redis.ts), so every replica counts the same failures and a restart
 * forgets nothing.
 */
export interface LockoutSettings {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

export interface LockoutCounter {
  readonly shared: boolean;
  /** Milliseconds left on the address's lock; 0 when it is not locked. */
  lockedForMs(address: string): Promise<number>;
  /** Counts one failure; true when this one locks the address. */
  fail(address: string): Promise<boolean>;
}

// Bounded memory: beyond this many tracked addresses, stale entries are swept.
const MAX_TRACKED = 10_000;

export class MemoryLockout implements LockoutCounter {
  readonly shared = false;
  readonly #failures = new Map<string, number[]>();
  readonly #lockedUntil = new Map<string, number>();

  constructor(
    private readonly o: LockoutSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async lockedForMs(address: string): Promise<number> {
    const until = this.#lockedUntil.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.#lockedUntil.delete(address);
    return 0;
  }

  async fail(address: string): Promise<boolean> {
    const now = this.now();
    const failures = recent(this.#failures.get(address), now - this.o.windowSeconds * 1000);
    failures.push(now);
    if (failures.length >= this.o.maxFailures) {
      this.#failures.delete(address);
      this.#lockedUntil.set(address, now + this.o.lockSeconds * 1000);
      return true;
    }
    this.#failures.set(address, failures);
    if (sweepIfFull(this.#failures, now - this.o.windowSeconds * 1000)) {
      for (const [a, u] of this.#lockedUntil) if (u <= now) this.#lockedUntil.delete(a);
    }
    return false;
  }
}

/**
 * Past MAX_TRACKED addresses: drops entries whose last time is at or before the horizon,
 * then the oldest beyond the cap. True when it swept.
 */
export function sweepIfFull(map: Map<string, number[]>, horizon: number): boolean {
  if (map.size <= MAX_TRACKED) return false;
  for (const [a, t] of map) if (t[t.length - 1] <= horizon) map.delete(a);
  // Still too many (addresses from a large range): forget the oldest first.
  for (const a of map.keys()) {
    if (map.size <= MAX_TRACKED) break;
    map.delete(a);
  }
  return true;
}

/** The times after `after` (the list is in ascending order). */
export function recent(times: number[] | undefined, after: number): number[] {
  if (!times) return [];
  let i = 0;
  while (i < times.length && times[i] <= after) i++;
  return i === 0 ? times : times.slice(i);
}
