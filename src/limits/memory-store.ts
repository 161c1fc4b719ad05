/**
 * In-process counters. JavaScript runs one callback at a time, so a check-then-apply with
 * no await in between is atomic: that is the whole concurrency story here.
 */
import type { Backend, ReserveOutcome } from './core.js';
import { admits, type Check, type QuotaField } from './plan.js';

interface Bucket {
  level: number;
  ts: number;
  /** When the level reaches zero: the bucket can be dropped. */
  drainAt: number;
}

/** One quota window of one subject, like the Redis hash. */
interface Counter {
  req: number;
  tok: number;
  usd: number;
  expiresAt: number;
}

const SWEEP_EVERY_MS = 60_000;

export interface MemoryBackendOptions {
  /** A parallel slot not released within this time is reclaimed (a caller that forgot release). */
  leaseMs: number;
  /** Quota counters are kept this long after their window ends (late settles still land). */
  graceMs: number;
}

export class MemoryBackend implements Backend {
  private readonly buckets = new Map<string, Bucket>();
  /** Per key: reservation id -> lease expiry. */
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly counters = new Map<string, Counter>();
  private nextSweep = 0;

  constructor(private readonly opts: MemoryBackendOptions) {}

  reserve(checks: Check[], nowMs: number, id: string): Promise<ReserveOutcome> {
    return Promise.resolve(this.reserveSync(checks, nowMs, id));
  }

  adjust(checks: Check[], deltas: number[], nowMs: number, id: string): Promise<number[]> {
    return Promise.resolve(this.adjustSync(checks, deltas, nowMs, id));
  }

  read(checks: Check[], nowMs: number): Promise<number[]> {
    return Promise.resolve(checks.map((c) => (c.kind === 'p' ? this.liveSlots(c.key, nowMs) : this.current(c, nowMs))));
  }

  /** Slots whose lease has not ended (what Redis's ZCOUNT reports). */
  private liveSlots(key: string, nowMs: number): number {
    let n = 0;
    const s = this.slots.get(key);
    if (s !== undefined) for (const exp of s.values()) if (exp > nowMs) n++;
    return n;
  }

  close(): Promise<void> {
    this.buckets.clear();
    this.slots.clear();
    this.counters.clear();
    return Promise.resolve();
  }

  /** Number of live entries, for tests that check nothing leaks. */
  size(): number {
    return this.buckets.size + this.slots.size + this.counters.size;
  }

  /** Drops everything expired; exposed so tests can force it. */
  sweep(nowMs: number): void {
    this.nextSweep = nowMs + SWEEP_EVERY_MS;
    for (const [k, c] of this.counters) if (c.expiresAt <= nowMs) this.counters.delete(k);
    for (const [k, s] of this.slots) {
      for (const [id, exp] of s) if (exp <= nowMs) s.delete(id);
      if (s.size === 0) this.slots.delete(k);
    }
    // A bucket drained to zero is the same as no bucket.
    for (const [k, b] of this.buckets) if (b.drainAt <= nowMs) this.buckets.delete(k);
  }

  private reserveSync(checks: Check[], nowMs: number, id: string): ReserveOutcome {
    if (nowMs >= this.nextSweep) this.sweep(nowMs);
    const n = checks.length;
    const used = new Array<number>(n);
    let ok = true;
    for (let i = 0; i < n; i++) {
      const c = checks[i];
      const u = this.current(c, nowMs);
      used[i] = u;
      if (ok && !admits(u, c.amount, c.limitValue)) ok = false;
    }
    if (!ok) return { ok, used };
    for (let i = 0; i < n; i++) {
      const c = checks[i];
      const a = c.amount;
      if (c.kind === 'b') {
        const level = used[i] + a;
        this.setBucket(c, level, nowMs);
        used[i] = level;
      } else if (c.kind === 'p') {
        let s = this.slots.get(c.key);
        if (s === undefined) this.slots.set(c.key, (s = new Map()));
        s.set(id, nowMs + this.opts.leaseMs);
        used[i] = s.size;
      } else {
        used[i] = this.addCounter(c, a, nowMs);
      }
    }
    return { ok, used };
  }

  private adjustSync(checks: Check[], deltas: number[], nowMs: number, id: string): number[] {
    const out = new Array<number>(checks.length);
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const d = deltas[i];
      if (c.kind === 'b') {
        const level = Math.max(0, this.bucketLevel(c, nowMs) + d);
        this.setBucket(c, level, nowMs);
        out[i] = level;
      } else if (c.kind === 'p') {
        const s = this.slots.get(c.key);
        if (s !== undefined) {
          s.delete(id);
          if (s.size === 0) this.slots.delete(c.key);
        }
        out[i] = s === undefined ? 0 : s.size;
      } else {
        out[i] = this.addCounter(c, d, nowMs);
      }
    }
    return out;
  }

  private addCounter(c: Check, d: number, nowMs: number): number {
    const f = c.field as QuotaField;
    let e = this.counters.get(c.key);
    if (e === undefined) {
      // A refund for a window already dropped has nothing to refund.
      if (d <= 0) return 0;
      e = { req: 0, tok: 0, usd: 0, expiresAt: c.windowEndMs + this.opts.graceMs };
      this.counters.set(c.key, e);
    }
    const v = Math.max(0, e[f] + d);
    e[f] = v;
    return v;
  }

  private setBucket(c: Check, level: number, nowMs: number): void {
    const b = this.buckets.get(c.key);
    if (b === undefined) {
      if (level > 0) this.buckets.set(c.key, { level, ts: nowMs, drainAt: nowMs + level / c.ratePerMs });
      return;
    }
    // A clock that steps back must not refill the bucket twice.
    const ts = Math.max(b.ts, nowMs);
    b.level = level;
    b.ts = ts;
    b.drainAt = ts + level / c.ratePerMs;
  }

  private bucketLevel(c: Check, nowMs: number): number {
    const b = this.buckets.get(c.key);
    if (b === undefined) return 0;
    const level = b.level - Math.max(0, nowMs - b.ts) * c.ratePerMs;
    return level > 0 ? level : 0;
  }

  private current(c: Check, nowMs: number): number {
    if (c.kind === 'b') return this.bucketLevel(c, nowMs);
    if (c.kind === 'p') {
      const s = this.slots.get(c.key);
      if (s === undefined) return 0;
      // Reclaim expired leases only when they could matter.
      if (s.size >= c.limitValue) for (const [id, exp] of s) if (exp <= nowMs) s.delete(id);
      return s.size;
    }
    const e = this.counters.get(c.key);
    return e === undefined ? 0 : e[c.field as QuotaField];
  }
}
