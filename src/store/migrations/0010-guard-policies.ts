import type { AnyDb, MigrationFactory } from './dialect.js';

/** The shield's policy overrides set through the admin API: one row per key, app or route. */
export const guardPolicies: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('guard_policies')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('updated_at', t.bigint, (c) => c.notNull())
      .addColumn('updated_by', 'text')
      .addPrimaryKeyConstraint('guard_policies_pk', ['scope', 'subject'])
      .execute();
  },
});
