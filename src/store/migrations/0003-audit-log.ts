import type { AnyDb, MigrationFactory } from './dialect.js';

/** The hash-chained audit log (src/usage/audit). seq is assigned by the writer, under a lock. */
export const auditLog: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('audit_log')
      .addColumn('seq', t.bigint, (c) => c.primaryKey())
      .addColumn('ts', t.bigint, (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('address', 'text')
      .addColumn('details', 'text')
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_ts').on('audit_log').column('ts').execute();
    await db.schema.createIndex('audit_log_actor_seq').on('audit_log').columns(['actor', 'seq']).execute();
    await db.schema.createIndex('audit_log_action_seq').on('audit_log').columns(['action', 'seq']).execute();
  },
});
