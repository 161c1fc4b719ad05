/** Per-request usage records. Written in batches by usage/usage-writer.ts, never on the request path. */
import type { Insertable, Selectable } from 'kysely';
import type { Store } from '../connect.js';
import type { RequestsTable } from '../schema.js';
import { upsertHourly } from '../../usage/rollup.js';
import { SqliteRequestWriter } from './requests-sqlite.js';

export type RequestRecord = Insertable<RequestsTable>;
export type StoredRequestRecord = Selectable<RequestsTable>;

export class RequestRepository {
  // Made on the first write: its statements are prepared against tables migrations create.
  #sqlite: SqliteRequestWriter | null = null;

  constructor(private readonly store: Store) {}

  async insertMany(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.store.sqlite) return (this.#sqlite ??= new SqliteRequestWriter(this.store.sqlite)).write(records);
    // One transaction per batch, the hourly rollup included; chunks keep PostgreSQL under
    // its bind-parameter limit.
    await this.store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < records.length; i += 500) {
        await trx.insertInto('requests').values(records.slice(i, i + 500)).execute();
      }
      await upsertHourly(trx, records);
    });
  }

  async recent(limit = 100): Promise<StoredRequestRecord[]> {
    return this.store.db.selectFrom('requests').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }

  async findByRequestId(requestId: string): Promise<StoredRequestRecord | undefined> {
    return this.store.db.selectFrom('requests').selectAll().where('request_id', '=', requestId).executeTakeFirst();
  }
}
