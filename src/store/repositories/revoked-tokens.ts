/** The persisted deny list of signed-token ids (jti). */
import type { Store } from '../connect.js';

export class RevokedTokenRepository {
  constructor(private readonly store: Store) {}

  async add(jti: string, expiresAt: number, now = Date.now()): Promise<void> {
    await this.store.db
      .insertInto('revoked_tokens')
      .values({ jti, expires_at: expiresAt, revoked_at: now })
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
    await this.store.notifyChange();
  }

  /** Ids still worth remembering (not yet expired anyway). */
  async active(now = Date.now()): Promise<string[]> {
    const rows = await this.store.db.selectFrom('revoked_tokens').select('jti').where('expires_at', '>', now).execute();
    return rows.map((r) => r.jti);
  }

  async prune(now = Date.now()): Promise<number> {
    const res = await this.store.db.deleteFrom('revoked_tokens').where('expires_at', '<=', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
