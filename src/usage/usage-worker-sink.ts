/**
 * Where the usage writer's batches go on SQLite with a database file: a worker thread
 * (usage-worker.ts) with its own connection, so the batch transaction (up to 200 rows and the
 * hourly rollup, a millisecond or two) no longer holds the event loop while requests wait.
 *
 * - Until the worker says it is ready, and after it stopped, batches are written on the event
 *   loop as before: nothing waits for the worker to start, nothing is dropped if it dies.
 * - A batch in flight when the worker died either committed (its rows are there) or rolled
 *   back; it is looked up and, if absent, written here.
 * - A batch travels as one flat array of column values (cheap to clone), not as objects.
 * - close() waits for the worker's last commit: a flush that resolved is on disk and readable.
 * PostgreSQL and `:memory:` never use this (their writes are async, or cannot be shared).
 */
import { Worker } from 'node:worker_threads';
import type { Store } from '../store/connect.js';
import type { OwnWrites } from '../store/own-writes.js';
import { appendValues, requestColumns } from '../store/repositories/requests-sqlite.js';
import type { RequestRecord, RequestRepository } from '../store/repositories/requests.js';

export interface WorkerInit {
  path: string;
  columns: string[];
}
export type ToWorker = { t: 'write'; id: number; n: number; values: unknown[] } | { t: 'probe' } | { t: 'close' };
export type FromWorker = { t: 'ready' } | { t: 'done'; id: number; foreign: boolean; error?: string } | { t: 'probe'; foreign: boolean };

export type UsageSinkMode = 'starting' | 'worker' | 'event-loop';

interface InFlight {
  records: readonly RequestRecord[];
  resolve(): void;
  reject(err: Error): void;
}

/** True for a store whose usage batches can go to a worker: SQLite on a file. */
export function canUseWorker(store: Store): boolean {
  return store.dialect === 'sqlite' && !!store.sqlite && !store.sqlite.memory && !!store.ownWrites;
}

/** The worker's entry: built JS next to this file, or the TypeScript source through tsx. */
function workerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./usage-worker.dev.mjs', here) : new URL('./usage-worker.js', here);
}

export class UsageWorkerSink {
  readonly #repo: RequestRepository;
  readonly #store: Store;
  readonly #own: OwnWrites;
  readonly #columns: string[];
  readonly #worker: Worker;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #exited: Promise<void>;
  readonly #probeAnswers: (() => void)[] = [];
  #settle!: (mode: UsageSinkMode) => void;
  readonly #settled = new Promise<UsageSinkMode>((resolve) => (this.#settle = resolve));
  #mode: UsageSinkMode = 'starting';
  #nextId = 1;
  #closing = false;

  /** `onStop` hears of a worker that failed or exited unasked (logged by the gateway). */
  constructor(store: Store, repo: RequestRepository, private readonly onStop: (err: Error) => void) {
    if (!canUseWorker(store)) throw new Error('the usage worker needs SQLite on a database file');
    this.#store = store;
    this.#repo = repo;
    this.#own = store.ownWrites!;
    this.#columns = requestColumns(store.sqlite!);
    const init: WorkerInit = { path: store.sqlite!.name, columns: this.#columns };
    this.#worker = new Worker(workerEntry(), { workerData: init });
    // Idle, the thread does not keep the process alive (as the flush timer does not); with a
    // batch in flight or a close under way it does, so an awaited flush is never cut short.
    this.#worker.unref();
    this.#worker.on('message', (m: FromWorker) => this.#onMessage(m));
    let failure = null as Error | null;
    this.#worker.on('error', (err: Error) => (failure = err));
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        const unasked = !this.#closing || this.#inFlight.size > 0;
        void this.#stopped(unasked ? (failure ?? new Error(`the usage worker exited with code ${code}`)) : null).finally(resolve);
      });
    });
  }

  get mode(): UsageSinkMode {
    return this.#mode;
  }

  /** Resolves once the worker is ready ('worker') or failed to start ('event-loop'). */
  started(): Promise<UsageSinkMode> {
    return this.#settled;
  }

  /**
   * Asks the worker whether another connection committed, and waits for the answer (which
   * reaches changedElsewhere as a probe's would). For tests: the gateway never waits on this.
   */
  sync(): Promise<void> {
    if (this.#mode !== 'worker') return Promise.resolve();
    return new Promise((resolve) => this.#probe(resolve));
  }

  /** For tests and diagnostics: the thread itself. */
  get worker(): Worker {
    return this.#worker;
  }

  insertMany(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    if (this.#mode !== 'worker') return this.#repo.insertMany(records);
    const values: unknown[] = [];
    for (const r of records) appendValues(values, r, this.#columns);
    const id = this.#nextId++;
    this.#own.begin();
    return new Promise<void>((resolve, reject) => {
      this.#inFlight.set(id, { records, resolve, reject });
      if (this.#inFlight.size === 1) this.#worker.ref();
      this.#post({ t: 'write', id, n: records.length, values });
    });
  }

  /** Stops the worker after the batches it has (the caller flushed first); then writes go to the event loop. */
  async close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      const started = this.#mode === 'worker';
      // A batch after this point is written here; the worker has its last ones queued before 'close'.
      this.#mode = 'event-loop';
      this.#worker.ref();
      // Not up yet: it holds no batch, so there is nothing to wait for.
      if (started) this.#post({ t: 'close' });
      else void this.#worker.terminate();
    }
    await this.#exited;
  }

  // One entry a probe, answered in order.
  #probe(answered: () => void = () => undefined): void {
    this.#probeAnswers.push(answered);
    this.#post({ t: 'probe' });
  }

  #post(m: ToWorker): void {
    this.#worker.postMessage(m);
  }

  #onMessage(m: FromWorker): void {
    if (m.t === 'ready') {
      if (this.#closing) return;
      this.#mode = 'worker';
      this.#own.attach(() => this.#probe());
      this.#settle('worker');
    } else if (m.t === 'probe') {
      if (m.foreign) this.#own.foreignChange();
      this.#probeAnswers.shift()?.();
    } else {
      const f = this.#inFlight.get(m.id);
      if (!f) return;
      this.#inFlight.delete(m.id);
      if (this.#inFlight.size === 0 && !this.#closing) this.#worker.unref();
      this.#own.end(m.foreign);
      if (m.error) f.reject(new Error(`usage batch (worker): ${m.error}`));
      else f.resolve();
    }
  }

  /** The worker is gone: back to the event loop, and no batch it held is lost. */
  async #stopped(err: Error | null): Promise<void> {
    this.#mode = 'event-loop';
    this.#own.attach(null);
    this.#settle('event-loop');
    for (const answered of this.#probeAnswers.splice(0)) answered();
    // A change it might have seen and not told: drop the caches once rather than miss it.
    this.#own.foreignChange();
    if (err) this.onStop(err);
    for (const [id, f] of [...this.#inFlight]) {
      this.#inFlight.delete(id);
      this.#own.end(true);
      try {
        // One transaction: all of the batch is there or none of it.
        if (!this.#committed(f.records)) await this.#repo.insertMany(f.records);
        f.resolve();
      } catch (e) {
        f.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  // By (request_id, ts) of its first and last record: a request id seen twice in the same
  // millisecond would be the only way to be fooled.
  #committed(records: readonly RequestRecord[]): boolean {
    const probe = this.#store.sqlite!.prepare('SELECT 1 FROM requests WHERE request_id = ? AND ts = ? LIMIT 1').pluck();
    const first = records[0];
    const last = records[records.length - 1];
    return probe.get(first.request_id, first.ts) !== undefined && probe.get(last.request_id, last.ts) !== undefined;
  }
}
