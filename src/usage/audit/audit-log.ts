/**
 * The audit log. `record()` only queues (nothing on the request path waits for the
 * database); a timer or a full batch appends the queue to the hash chain in one locked
 * transaction. Flushes run one after another (a promise queue), so the process never
 * races itself; the lock in chain-writer.ts covers other processes. `append()` is for
 * callers that want the stored record back (the CLI, admin actions).
 */
import type { Writable } from 'node:stream';
import type { Store } from '../../store/connect.js';
import { appendChained, type UnsealedRecord } from './chain-writer.js';
import { cleanField, sanitizeDetails } from './details.js';
import { exportAuditJsonl, queryAudit, type AuditPage, type AuditQuery } from './query.js';
import { auditDb, toRecord, type AuditDb, type AuditEvent, type AuditRecord, type VerifyResult } from './types.js';
import { verifyChain, type VerifyOptions } from './verify.js';

export interface AuditLogOptions {
  flushIntervalMs?: number;
  batchSize?: number;
  now?: () => number;
  /** A failed batch is reported here (its records are lost; the chain stays valid). */
  onError?: (err: unknown, lost: number) => void;
}

const OUTCOMES = new Set(['success', 'failure', 'denied']);

export class AuditLog {
  readonly #db: AuditDb;
  readonly #now: () => number;
  #pending: UnsealedRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly store: Store,
    private readonly opts: AuditLogOptions = {},
  ) {
    this.#db = auditDb(store);
    this.#now = opts.now ?? Date.now;
  }

  /** Queues an event and returns at once. Throws only for a malformed event (a caller bug). */
  record(event: AuditEvent): void {
    this.#pending.push(this.#normalise(event));
    if (this.#pending.length >= (this.opts.batchSize ?? 100)) void this.flush();
    else if (!this.#timer && !this.#closed) {
      this.#timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 1000);
      this.#timer.unref();
    }
  }

  /** Appends now (after anything already queued) and returns the stored record. */
  async append(event: AuditEvent): Promise<AuditRecord> {
    const rec = this.#normalise(event);
    await this.flush();
    const rows = await this.#serialised(() => appendChained(this.store, [rec]));
    return toRecord(rows[0]);
  }

  get pending(): number {
    return this.#pending.length;
  }

  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const batch = this.#pending;
    this.#pending = [];
    return this.#serialised(async () => {
      if (batch.length === 0) return;
      try {
        await appendChained(this.store, batch);
      } catch (err) {
        this.opts.onError?.(err, batch.length);
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  verify(opts?: VerifyOptions): Promise<VerifyResult> {
    return verifyChain(this.#db, opts);
  }

  query(q?: AuditQuery): Promise<AuditPage> {
    return queryAudit(this.#db, q);
  }

  exportJsonl(out: Writable, range?: { from?: number; to?: number }, signal?: AbortSignal): Promise<number> {
    return exportAuditJsonl(this.#db, out, range, 1000, signal);
  }

  /** The newest record's seq and hash: worth copying somewhere else as an anchor for verify(). */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const row = await this.#db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row ? { seq: Number(row.seq), hash: row.hash } : null;
  }

  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #normalise(e: AuditEvent): UnsealedRecord {
    const outcome = e.outcome ?? 'success';
    if (!OUTCOMES.has(outcome)) throw new TypeError(`audit outcome must be success, failure or denied`);
    if (typeof e.action !== 'string' || !/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(e.action) || e.action.length > 64) {
      throw new TypeError('audit action must look like "key.created"');
    }
    return {
      ts: e.ts ?? this.#now(),
      actor: cleanField(e.actor, 128) ?? 'system',
      client_id: cleanField(e.clientId, 128),
      action: e.action,
      target: cleanField(e.target),
      outcome,
      address: cleanField(e.address, 64),
      details: sanitizeDetails(e.details),
    };
  }
}
