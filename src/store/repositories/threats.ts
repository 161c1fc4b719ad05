/** The shield's audit trail of findings. */
import type { Insertable, Selectable } from 'kysely';
import type { Store } from '../connect.js';
import type { ThreatsTable } from '../schema.js';

export type ThreatRecord = Insertable<ThreatsTable>;
export type StoredThreat = Selectable<ThreatsTable>;

export interface ThreatQuery {
  category?: string;
  action?: string;
  keyId?: string;
  clientId?: string;
  requestId?: string;
  from?: number;
  to?: number;
  /** Return records with id below this (pagination, newest first). */
  before?: number;
  limit?: number;
}

export class ThreatRepository {
  constructor(private readonly store: Store) {}

  async insert(r: ThreatRecord): Promise<void> {
    await this.store.db.insertInto('threats').values(r).execute();
  }

  async query(q: ThreatQuery = {}): Promise<{ items: StoredThreat[]; nextBefore: number | null }> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    let sel = this.store.db.selectFrom('threats').selectAll().orderBy('id', 'desc').limit(limit + 1);
    // Categories are a fixed set of names (checked by the caller); `_` in LIKE matches itself too.
    if (q.category) sel = sel.where('categories', 'like', `%${q.category.replace(/%/g, '')}%`);
    if (q.action) sel = sel.where('action', '=', q.action);
    if (q.keyId) sel = sel.where('key_id', '=', q.keyId);
    if (q.clientId) sel = sel.where('client_id', '=', q.clientId);
    if (q.requestId) sel = sel.where('request_id', '=', q.requestId);
    if (q.from !== undefined) sel = sel.where('ts', '>=', q.from);
    if (q.to !== undefined) sel = sel.where('ts', '<', q.to);
    if (q.before !== undefined) sel = sel.where('id', '<', q.before);
    const rows = await sel.execute();
    const items = rows.slice(0, limit);
    return { items, nextBefore: rows.length > limit ? items[items.length - 1].id : null };
  }
}
