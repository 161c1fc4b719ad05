/** The shield's stored policy overrides (admin API); config overrides are not stored here. */
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../connect.js';
import type { GuardPoliciesTable } from '../schema.js';

export type StoredGuardPolicy = Selectable<GuardPoliciesTable>;

export class GuardPolicyRepository {
  constructor(private readonly store: Store) {}

  async list(): Promise<StoredGuardPolicy[]> {
    return this.store.db.selectFrom('guard_policies').selectAll().orderBy('scope').orderBy('subject').execute();
  }

  async get(scope: string, subject: string): Promise<StoredGuardPolicy | undefined> {
    return this.store.db.selectFrom('guard_policies').selectAll().where('scope', '=', scope).where('subject', '=', subject).executeTakeFirst();
  }

  /** Creates or replaces the override of one subject. */
  async put(row: StoredGuardPolicy): Promise<void> {
    await this.store.db
      .insertInto('guard_policies')
      .values(row)
      .onConflict((oc) => oc.columns(['scope', 'subject']).doUpdateSet({ policy: row.policy, updated_at: row.updated_at, updated_by: row.updated_by }))
      .execute();
  }

  /** Whether a row was there to delete. */
  async remove(scope: string, subject: string): Promise<boolean> {
    const r = await this.store.db.deleteFrom('guard_policies').where('scope', '=', scope).where('subject', '=', subject).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * A change marker over every row's content: a newest-time-and-count marker missed a replace
   * by a replica whose clock is behind (neither moved). Overrides are few; a digest is cheap.
   */
  async version(): Promise<string> {
    const rows = await this.store.db.selectFrom('guard_policies').select(['scope', 'subject', 'policy', 'updated_at']).orderBy('scope').orderBy('subject').execute();
    const digest = createHash('sha256');
    for (const r of rows) digest.update(JSON.stringify([r.scope, r.subject, r.policy, String(r.updated_at)]));
    return `${rows.length}:${digest.digest('hex')}`;
  }
}
