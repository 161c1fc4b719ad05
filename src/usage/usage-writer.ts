/**
 * Batches usage records off the request path: `record()` only pushes to an array; a timer
 * (or a full batch) writes them in one transaction. `close()` flushes what is left, so a
 * graceful shutdown loses nothing; a crash loses at most the last batch. On SQLite with a file
 * the write itself happens in a worker thread (usage-worker-sink.ts).
 */
import type { RequestRecord } from '../store/repositories/requests.js';

/** Where batches go: the repository itself, or the SQLite usage worker (usage-worker-sink.ts). */
export interface UsageSink {
  insertMany(records: readonly RequestRecord[]): Promise<void>;
  close?(): Promise<void>;
  /** The usage worker's state ('starting', 'worker', 'event-loop'), for /readyz. */
  readonly mode?: string;
}

export interface UsageWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  onError?: (err: unknown, lost: number) => void;
}

export class UsageWriter {
  #pending: RequestRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly repo: UsageSink,
    private readonly opts: UsageWriterOptions,
  ) {}

  record(r: RequestRecord): void {
    this.#pending.push(r);
    if (this.#pending.length >= this.opts.batchSize) void this.flush();
    else if (!this.#timer && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Where batches are written: the worker's state, or undefined for the repository itself. */
  get sinkMode(): string | undefined {
    return this.repo.mode;
  }

  /** The sink itself (the usage worker on SQLite with a file), for tests and /readyz. */
  get sink(): UsageSink {
    return this.repo;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Writes everything recorded so far; flushes are serialised so batches keep their order. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.repo.insertMany(batch);
      } catch (err) {
        this.opts.onError?.(err, batch.length);
      }
    });
    return this.#flushing;
  }

  /** Flushes, then stops the sink (the worker's last commit included). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    await this.repo.close?.();
  }
}
