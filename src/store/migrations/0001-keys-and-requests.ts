import type { AnyDb, MigrationFactory } from './dialect.js';

export const keysAndRequests: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('key_prefix', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .addColumn('expires_at', t.bigint)
      .addColumn('revoked_at', t.bigint)
      .execute();
    await db.schema
      .createTable('requests')
      .addColumn('id', t.serial, (c) => (t.dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('ts', t.bigint, (c) => c.notNull())
      .addColumn('key_id', 'text')
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('prompt_tokens', 'integer')
      .addColumn('completion_tokens', 'integer')
      .addColumn('total_tokens', 'integer')
      .addColumn('stream', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('custody', 'text', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .execute();
    await db.schema.createIndex('requests_ts').on('requests').column('ts').execute();
    await db.schema.createIndex('requests_key_ts').on('requests').columns(['key_id', 'ts']).execute();
  },
});
