import type { AnyDb, MigrationFactory } from './dialect.js';

/** Apps and users (limits at each level), key attributes, the token deny list, IP rules. */
export const accessControl: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('apps')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('secret_hash', 'text')
      .addColumn('limits', 'text')
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .addColumn('disabled_at', t.bigint)
      .execute();
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('app_id', 'text')
      .addColumn('limits', 'text')
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .addColumn('disabled_at', t.bigint)
      .execute();
    for (const [column, type] of [
      ['user_id', 'text'],
      ['app_id', 'text'],
      ['client_id', 'text'],
      ['models', 'text'],
      ['providers', 'text'],
      ['ip_allow', 'text'],
      ['limits', 'text'],
    ] as const) {
      await db.schema.alterTable('api_keys').addColumn(column, type).execute();
    }
    await db.schema
      .createTable('revoked_tokens')
      .addColumn('jti', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', t.bigint, (c) => c.notNull())
      .addColumn('revoked_at', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('ip_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('list', 'text', (c) => c.notNull())
      .addColumn('cidr', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .execute();
  },
});
