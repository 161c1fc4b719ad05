/**
 * Webhooks: endpoints, event fan-out into the persisted queue, and the delivery loop with
 * exponential backoff and jitter. Everything runs off the request path; `emit()` only
 * inserts rows. A restart loses nothing: the queue is in the database.
 */
import { redactJson } from '../../core/redact.js';
import type { Store } from '../../store/connect.js';
import { attemptDelivery } from './deliver.js';
import { EndpointRepository, newId } from './endpoints.js';
import { DeliveryQueue } from './queue.js';
import { SIGNATURE_HEADER, signPayload } from './signature.js';
import type { Resolver, TargetPolicy } from './ssrf.js';
import { TEST_EVENT, toDelivery, webhookDb, type DeliveryStatus, type Sealer, type WebhookDeliveriesTable, type WebhookDelivery, type WebhookEventType, type WebhookPayload } from './types.js';

export interface WebhookDispatcherOptions {
  sealer: Sealer;
  /** Config `webhooks.allowPrivateTargets`, `webhooks.allowCidrs`, `webhooks.allowHttp`. */
  policy?: TargetPolicy;
  resolve?: Resolver;
  now?: () => number;
  random?: () => number;
  /** Attempts before a delivery is marked failed (default 10, about 3 hours with the defaults). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** How long a claimed delivery is reserved before another dispatcher may retry it. */
  leaseMs?: number;
  pollIntervalMs?: number;
  batchSize?: number;
  concurrency?: number;
  /** Finished deliveries older than this are deleted, in small batches (default 30 days; 0 keeps them). */
  retentionMs?: number;
  pruneIntervalMs?: number;
  onError?: (err: unknown) => void;
}

export class WebhookDispatcher {
  readonly endpoints: EndpointRepository;
  readonly #queue: DeliveryQueue;
  readonly #o: Required<Omit<WebhookDispatcherOptions, 'resolve' | 'onError'>> & Pick<WebhookDispatcherOptions, 'resolve' | 'onError'>;
  #timer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #closed = false;
  /** Events being queued: close() waits for them, so one emitted during shutdown is not lost. */
  readonly #queueing = new Set<Promise<unknown>>();

  constructor(store: Store, opts: WebhookDispatcherOptions) {
    this.#o = {
      policy: {},
      now: Date.now,
      random: Math.random,
      maxAttempts: 10,
      baseDelayMs: 30_000,
      maxDelayMs: 3_600_000,
      timeoutMs: 10_000,
      leaseMs: 60_000,
      pollIntervalMs: 1000,
      batchSize: 20,
      concurrency: 8,
      retentionMs: 30 * 86_400_000,
      pruneIntervalMs: 3_600_000,
      ...opts,
    };
    const db = webhookDb(store);
    this.endpoints = new EndpointRepository(db, opts.sealer, this.#o.policy, this.#o.now);
    this.#queue = new DeliveryQueue(db);
  }

  /** Queues `type` for every enabled endpoint subscribed to it. `data` is redacted. */
  emit(type: WebhookEventType, data: Record<string, unknown>): Promise<{ eventId: string; deliveries: number }> {
    const queued = this.#emit(type, data);
    this.#queueing.add(queued);
    void queued.catch(() => undefined).finally(() => this.#queueing.delete(queued));
    return queued;
  }

  async #emit(type: WebhookEventType, data: Record<string, unknown>): Promise<{ eventId: string; deliveries: number }> {
    const subs = await this.endpoints.subscribers(type);
    const { eventId, rows } = this.#build(type, data, subs.map((s) => s.id));
    await this.#queue.enqueue(rows);
    if (rows.length && this.#timer) setImmediate(() => this.runOnce().catch((err: unknown) => this.#o.onError?.(err)));
    return { eventId, deliveries: rows.length };
  }

  /** Sends a `webhook.test` event to one endpoint now and returns its logged delivery. */
  async testFire(endpointId: string): Promise<WebhookDelivery | undefined> {
    if (!(await this.endpoints.get(endpointId))) return undefined;
    const { rows } = this.#build(TEST_EVENT, { message: 'This is a test event from keygate.' }, [endpointId]);
    await this.#queue.enqueue(rows);
    if (await this.#queue.claim(rows[0], this.#o.now(), this.#o.leaseMs)) await this.#attempt(rows[0]);
    const row = await this.#queue.get(rows[0].id);
    return row && toDelivery(row);
  }

  deliveries(endpointId: string, opts?: { limit?: number; cursor?: string; status?: DeliveryStatus }): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
    return this.#queue.list(endpointId, opts);
  }

  /** Attempts every delivery that is due; returns how many were attempted. Never runs twice at once. */
  runOnce(): Promise<number> {
    this.#running ??= this.#drain().finally(() => (this.#running = null));
    return this.#running;
  }

  /** Polls the queue until close(). */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.#o.onError?.(err));
    }, this.#o.pollIntervalMs);
    this.#timer.unref();
    if (this.#o.retentionMs > 0) {
      this.#pruneTimer = setInterval(() => {
        this.prune().catch((err: unknown) => this.#o.onError?.(err));
      }, this.#o.pruneIntervalMs);
      this.#pruneTimer.unref();
    }
  }

  /** Deletes the delivery log past its retention, 500 rows a statement so no lock is held long. */
  async prune(): Promise<number> {
    if (this.#o.retentionMs <= 0) return 0;
    const before = this.#o.now() - this.#o.retentionMs;
    let total = 0;
    for (;;) {
      const n = await this.#queue.prune(before, 500);
      total += n;
      if (n < 500 || this.#closed) return total;
    }
  }

  /** Stops polling and waits for attempts in flight; what is left stays queued in the database. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    this.#timer = null;
    this.#pruneTimer = null;
    await Promise.allSettled([...this.#queueing]);
    await this.#running?.catch(() => undefined);
  }

  /** Delay after the n-th failed attempt: exponential, capped, with "equal jitter" so retries spread out. */
  backoffMs(attempts: number): number {
    const d = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(d / 2 + this.#o.random() * (d / 2));
  }

  async #drain(): Promise<number> {
    let attempted = 0;
    const due = await this.#queue.due(this.#o.now(), this.#o.batchSize);
    for (let i = 0; i < due.length && !this.#closed; i += this.#o.concurrency) {
      const group = due.slice(i, i + this.#o.concurrency);
      await Promise.all(
        group.map(async (row) => {
          if (!(await this.#queue.claim(row, this.#o.now(), this.#o.leaseMs))) return; // another dispatcher has it
          attempted += 1;
          await this.#attempt(row);
        }),
      );
    }
    return attempted;
  }

  async #attempt(row: WebhookDeliveriesTable): Promise<void> {
    const attempts = Number(row.attempts) + 1;
    const endpoint = await this.endpoints.row(row.endpoint_id);
    const settle = (status: DeliveryStatus, statusCode: number | null, error: string | null, nextAttemptAt: number) =>
      this.#queue.settle(row.id, { status, attempts, statusCode, error, nextAttemptAt, now: this.#o.now() });
    if (!endpoint || Number(endpoint.enabled) !== 1) return settle('failed', null, 'endpoint disabled or deleted', this.#o.now());
    let secret: string;
    try {
      secret = this.#o.sealer.open(endpoint.secret);
    } catch {
      return settle('failed', null, 'endpoint secret cannot be unsealed', this.#o.now());
    }
    const t = Math.floor(this.#o.now() / 1000);
    const headers = { [SIGNATURE_HEADER]: signPayload(secret, row.payload, t), 'x-keygate-event': row.event, 'x-keygate-delivery': row.id };
    const res = await attemptDelivery(endpoint.url, row.payload, headers, secret, { policy: this.#o.policy, resolve: this.#o.resolve, timeoutMs: this.#o.timeoutMs });
    const now = this.#o.now();
    if (res.ok) return settle('succeeded', res.statusCode, null, now);
    if (res.permanent || attempts >= this.#o.maxAttempts) return settle('failed', res.statusCode, res.error, now);
    return settle('pending', res.statusCode, res.error, now + this.backoffMs(attempts));
  }

  #build(type: string, data: Record<string, unknown>, endpointIds: readonly string[]): { eventId: string; rows: WebhookDeliveriesTable[] } {
    const now = this.#o.now();
    const eventId = newId('evt', now);
    const payload: WebhookPayload = { id: eventId, type, created: Math.floor(now / 1000), data: redactJson(data) };
    const body = JSON.stringify(payload);
    const rows = endpointIds.map(
      (endpointId): WebhookDeliveriesTable => ({
        id: newId('whd', now),
        endpoint_id: endpointId,
        event_id: eventId,
        event: type,
        payload: body,
        attempts: 0,
        next_attempt_at: now,
        status: 'pending',
        last_status_code: null,
        last_error: null,
        created_at: now,
        updated_at: now,
        delivered_at: null,
      }),
    );
    return { eventId, rows };
  }
}
