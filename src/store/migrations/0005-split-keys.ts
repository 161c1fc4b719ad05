import type { AnyDb, MigrationFactory } from './dialect.js';

/**
 * BYOK split keys (src/byok): one row per key with only the ciphertext side of the split,
 * the server-side secrets kept sealed under the master key, and which split key a request used.
 */
export const splitKeys: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('split_keys')
      .addColumn('key_id', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('ciphertext', 'text', (c) => c.notNull())
      .addColumn('iv', 'text', (c) => c.notNull())
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('salt', 'text', (c) => c.notNull())
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .addColumn('rotated_at', t.bigint)
      .addColumn('revoked_at', t.bigint)
      .addColumn('last_used_at', t.bigint)
      .addColumn('use_count', t.bigint, (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('split_keys_owner').on('split_keys').columns(['owner_id', 'created_at']).execute();
    await db.schema
      .createTable('server_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      // An envelope (kge1.<master key id>.<...>), never the secret itself.
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.alterTable('requests').addColumn('split_key_id', 'text').execute();
  },
});
