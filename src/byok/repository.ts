/** split_keys rows: the ciphertext side of each split key, its status and its use counters. */
import { sql, type Selectable } from 'kysely';
import type { SplitKeyRecord } from '../crypto/index.js';
import type { Store } from '../store/connect.js';
import type { SplitKeysTable } from '../store/schema.js';

export type SplitKeyRow = Selectable<SplitKeysTable>;

export type SplitKeyStatus = 'active' | 'revoked' | 'rotated';

/** Uses of one key since the last flush. */
export interface UseTally {
  count: number;
  lastUsedAt: number;
}

export function toRecord(row: SplitKeyRow): SplitKeyRecord {
  return { keyId: row.key_id, ownerId: row.owner_id, provider: row.provider, ciphertext: row.ciphertext, iv: row.iv, tag: row.tag, salt: row.salt };
}

export function statusOf(row: SplitKeyRow): SplitKeyStatus {
  if (row.revoked_at === null) return 'active';
  return row.rotated_at !== null ? 'rotated' : 'revoked';
}

export class SplitKeyRepository {
  constructor(private readonly store: Store) {}

  async insert(record: SplitKeyRecord, now = Date.now()): Promise<SplitKeyRow> {
    const row = { ...rowOf(record), created_at: now, rotated_at: null, revoked_at: null, last_used_at: null, use_count: 0 };
    await this.store.db.insertInto('split_keys').values(row).execute();
    return row;
  }

  async find(keyId: string): Promise<SplitKeyRow | undefined> {
    return this.store.db.selectFrom('split_keys').selectAll().where('key_id', '=', keyId).executeTakeFirst();
  }

  async list(ownerId?: string): Promise<SplitKeyRow[]> {
    let q = this.store.db.selectFrom('split_keys').selectAll();
    if (ownerId !== undefined) q = q.where('owner_id', '=', ownerId);
    return q.orderBy('created_at').orderBy('key_id').execute();
  }

  /**
   * Replaces an active key by a new one in one transaction: the old row is marked rotated (and
   * stops working), the new one inserted. Null when the old key was no longer active.
   */
  async replace(oldKeyId: string, record: SplitKeyRecord, now = Date.now()): Promise<SplitKeyRow | null> {
    return this.store.db.transaction().execute(async (trx) => {
      const res = await trx.updateTable('split_keys').set({ revoked_at: now, rotated_at: now }).where('key_id', '=', oldKeyId).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return null;
      const row = { ...rowOf(record), created_at: now, rotated_at: null, revoked_at: null, last_used_at: null, use_count: 0 };
      await trx.insertInto('split_keys').values(row).execute();
      return row;
    });
  }

  /** True when the key was active and is now revoked. */
  async revoke(keyId: string, now = Date.now()): Promise<boolean> {
    const res = await this.store.db.updateTable('split_keys').set({ revoked_at: now }).where('key_id', '=', keyId).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Adds counted uses, one statement per key, in one transaction. */
  async addUses(tallies: ReadonlyMap<string, UseTally>): Promise<void> {
    if (tallies.size === 0) return;
    await this.store.db.transaction().execute(async (trx) => {
      for (const [keyId, t] of tallies) {
        await trx
          .updateTable('split_keys')
          .set({
            use_count: sql<number>`use_count + ${t.count}`,
            last_used_at: sql<number>`CASE WHEN last_used_at IS NULL OR last_used_at < ${t.lastUsedAt} THEN ${t.lastUsedAt} ELSE last_used_at END`,
          })
          .where('key_id', '=', keyId)
          .execute();
      }
    });
  }
}

function rowOf(r: SplitKeyRecord): Pick<SplitKeyRow, 'key_id' | 'owner_id' | 'provider' | 'ciphertext' | 'iv' | 'tag' | 'salt'> {
  return { key_id: r.keyId, owner_id: r.ownerId, provider: r.provider, ciphertext: r.ciphertext, iv: r.iv, tag: r.tag, salt: r.salt };
}
