import type { AnyDb, MigrationFactory } from './dialect.js';

/** The shield's findings: categories, score, action, a redacted excerpt. Never the raw text. */
export const threats: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('threats')
      .addColumn('id', t.serial, (c) => (t.dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('ts', t.bigint, (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('client_id', 'text')
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('categories', 'text', (c) => c.notNull())
      .addColumn('risk', 'integer', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('excerpt', 'text')
      .addColumn('findings', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('threats_ts').on('threats').column('ts').execute();
  },
});
