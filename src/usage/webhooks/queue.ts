/**
 * The persisted delivery queue. A delivery is claimed by moving it to 'delivering' with a
 * lease (next_attempt_at = now + lease) in a conditional UPDATE: of two dispatchers only
 * one sees its update count as 1. If the process dies mid-attempt, the lease expires and
 * the delivery is picked up again, so nothing is lost (receivers dedupe by payload id).
 */
import type { DeliveryStatus, WebhookDb, WebhookDeliveriesTable, WebhookDelivery } from './types.js';
import { toDelivery } from './types.js';

export class DeliveryQueue {
  constructor(private readonly db: WebhookDb) {}

  async enqueue(rows: readonly WebhookDeliveriesTable[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) await this.db.insertInto('webhook_deliveries').values(rows.slice(i, i + 200)).execute();
  }

  due(now: number, limit: number): Promise<WebhookDeliveriesTable[]> {
    return this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', 'in', ['pending', 'delivering'])
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at', 'asc')
      .limit(limit)
      .execute();
  }

  /** Deletes up to `limit` finished deliveries (succeeded or failed) last touched before `before`; returns how many. */
  async prune(before: number, limit: number): Promise<number> {
    const ids = this.db.selectFrom('webhook_deliveries').select('id').where('status', 'in', ['succeeded', 'failed']).where('updated_at', '<', before).limit(limit);
    const r = await this.db.deleteFrom('webhook_deliveries').where('id', 'in', ids).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async get(id: string): Promise<WebhookDeliveriesTable | undefined> {
    return this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async claim(row: WebhookDeliveriesTable, now: number, leaseMs: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'delivering', next_attempt_at: now + leaseMs, updated_at: now })
      .where('id', '=', row.id)
      .where('status', '=', row.status)
      .where('next_attempt_at', '=', row.next_attempt_at)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async settle(
    id: string,
    update: { status: DeliveryStatus; attempts: number; nextAttemptAt: number; statusCode: number | null; error: string | null; now: number },
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: update.status,
        attempts: update.attempts,
        next_attempt_at: update.nextAttemptAt,
        last_status_code: update.statusCode,
        last_error: update.error,
        updated_at: update.now,
        delivered_at: update.status === 'succeeded' ? update.now : null,
      })
      .where('id', '=', id)
      .execute();
  }

  /** The delivery log of one endpoint, newest first; `cursor` is the previous page's nextCursor. */
  async list(endpointId: string, opts: { limit?: number; cursor?: string; status?: DeliveryStatus } = {}): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? 50)), 500);
    let q = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
    if (opts.cursor !== undefined) q = q.where('id', '<', opts.cursor);
    if (opts.status !== undefined) q = q.where('status', '=', opts.status);
    const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(toDelivery);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }
}
