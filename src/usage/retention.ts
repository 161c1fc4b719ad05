/**
 * Retention: raw request records older than `retentionDays` and rollup rows older than
 * `rollupRetentionDays` are deleted on a timer, a small batch per statement with a yield to
 * the event loop between batches, so a large backlog never holds a long lock or blocks
 * requests. Analytics keep working over pruned ranges: they read the rollup.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Store } from '../store/connect.js';
import { DAY_MS } from './analytics.js';

export interface RetentionOptions {
  retentionDays: number;
  rollupRetentionDays: number;
  /** Rows per DELETE statement. */
  batchSize?: number;
  /** Time between runs (the first run is one interval after start). */
  intervalMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export interface RetentionResult {
  requests: number;
  rollups: number;
  /** DELETE statements run (for the raw records). */
  batches: number;
}

export class RetentionJob {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<RetentionResult> | null = null;
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly opts: RetentionOptions,
  ) {}

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      if (!this.#running) void this.runOnce().catch((err: unknown) => this.opts.onError?.(err));
    }, this.opts.intervalMs ?? 3_600_000);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  runOnce(): Promise<RetentionResult> {
    this.#running ??= this.#run().finally(() => (this.#running = null));
    return this.#running;
  }

  async #run(): Promise<RetentionResult> {
    const now = (this.opts.now ?? Date.now)();
    const size = this.opts.batchSize ?? 1000;
    const db = this.store.db;
    const out: RetentionResult = { requests: 0, rollups: 0, batches: 0 };
    const recordsBefore = now - this.opts.retentionDays * DAY_MS;
    for (;;) {
      // Oldest ids first, through the ts index; one short statement per batch.
      const ids = db.selectFrom('requests').select('id').where('ts', '<', recordsBefore).orderBy('ts').limit(size);
      const r = await db.deleteFrom('requests').where('id', 'in', ids).executeTakeFirst();
      const n = Number(r.numDeletedRows);
      out.requests += n;
      out.batches += 1;
      if (n < size || this.#stopped) break;
      await yieldToLoop();
    }
    const rollupsBefore = now - this.opts.rollupRetentionDays * DAY_MS;
    for (;;) {
      // Rollup rows have no id: a day of hours per statement (rows an hour: keys x models).
      const hours = db.selectFrom('usage_hourly').select('hour').distinct().where('hour', '<', rollupsBefore).orderBy('hour').limit(24);
      const r = await db.deleteFrom('usage_hourly').where('hour', 'in', hours).executeTakeFirst();
      const n = Number(r.numDeletedRows);
      out.rollups += n;
      if (n === 0 || this.#stopped) break;
      await yieldToLoop();
    }
    return out;
  }
}
