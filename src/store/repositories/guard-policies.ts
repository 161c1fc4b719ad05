/** The shield's stored policy overrides (admin API); config overrides are not stored here. */
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

  /** A cheap change marker: the newest update time and the row count. */
  async version(): Promise<string> {
    const r = await this.store.db
      .selectFrom('guard_policies')
      .select((eb) => [eb.fn.max('updated_at').as('latest'), eb.fn.countAll().as('n')])
      .executeTakeFirst();
    return `${String(r?.latest ?? 0)}:${String(r?.n ?? 0)}`;
  }
}
