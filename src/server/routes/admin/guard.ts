/**
 * The admin scope's own defences, per client address (never the Host header): a stricter
 * request rate (sliding window over one minute) and a lockout after repeated failed
 * authentications. In-process: each replica guards itself, which is enough to make guessing
 * an admin key hopeless (keys have 256 bits) while keeping a typo from locking anyone out for long.
 */
export interface AdminGuardOptions {
  rpm: number;
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
  now?: () => number;
}

export type GuardDecision = { ok: true } | { ok: false; reason: 'locked' | 'rate'; retryAfterSeconds: number };

// Bounded memory: beyond this many tracked addresses, stale entries are swept.
const MAX_TRACKED = 10_000;

export class AdminGuard {
  readonly #hits = new Map<string, number[]>();
  readonly #failures = new Map<string, number[]>();
  readonly #lockedUntil = new Map<string, number>();
  readonly #o: Required<AdminGuardOptions>;

  constructor(opts: AdminGuardOptions) {
    this.#o = { now: Date.now, ...opts };
  }

  /** Called before authentication: a locked or too-busy address learns nothing more. */
  admit(address: string): GuardDecision {
    const now = this.#o.now();
    const until = this.#lockedUntil.get(address);
    if (until !== undefined) {
      if (until > now) return { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil((until - now) / 1000) };
      this.#lockedUntil.delete(address);
    }
    const hits = recent(this.#hits.get(address), now - 60_000);
    if (hits.length >= this.#o.rpm) {
      this.#hits.set(address, hits);
      return { ok: false, reason: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((hits[0] + 60_000 - now) / 1000)) };
    }
    hits.push(now);
    this.#track(this.#hits, address, hits, now);
    return { ok: true };
  }

  /** Records a failed authentication; returns true when this failure locks the address. */
  fail(address: string): boolean {
    const now = this.#o.now();
    const failures = recent(this.#failures.get(address), now - this.#o.windowSeconds * 1000);
    failures.push(now);
    if (failures.length >= this.#o.maxFailures) {
      this.#failures.delete(address);
      this.#lockedUntil.set(address, now + this.#o.lockSeconds * 1000);
      return true;
    }
    this.#track(this.#failures, address, failures, now);
    return false;
  }

  #track(map: Map<string, number[]>, address: string, times: number[], now: number): void {
    map.set(address, times);
    if (map.size <= MAX_TRACKED) return;
    const horizon = now - Math.max(60, this.#o.windowSeconds) * 1000;
    for (const [a, t] of map) if (t[t.length - 1] < horizon) map.delete(a);
    for (const [a, u] of this.#lockedUntil) if (u <= now) this.#lockedUntil.delete(a);
    // Still too many (addresses from a large range): forget the oldest first.
    for (const a of map.keys()) {
      if (map.size <= MAX_TRACKED) break;
      map.delete(a);
    }
  }
}

function recent(times: number[] | undefined, after: number): number[] {
  if (!times) return [];
  let i = 0;
  while (i < times.length && times[i] <= after) i++;
  return i === 0 ? times : times.slice(i);
}
