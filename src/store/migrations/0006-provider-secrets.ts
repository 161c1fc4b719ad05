import type { AnyDb, MigrationFactory } from './dialect.js';

/**
 * Provider keys held by the `store` secret backend (src/secrets/backends/store.ts): one row per
 * logical name (`openai`, `openai.2`), the value sealed under the master key with the name as
 * AAD. `updated_at` doubles as the change marker running gateways poll.
 */
export const providerSecrets: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema
      .createTable('provider_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      // An envelope (kge1.<master key id>.<...>), never the key itself.
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('master_key_id', 'text', (c) => c.notNull())
      .addColumn('created_at', t.bigint, (c) => c.notNull())
      .addColumn('updated_at', t.bigint, (c) => c.notNull())
      .execute();
  },
});
