/**
 * Migrations as a static map (Kysely's recommendation): no file-system scanning, so the
 * same list runs from source, from dist/ and from a bundle. Never edit a shipped entry;
 * add a new one.
 */
import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

// Migrations operate on a schema that changes over time, so they use an untyped handle.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

function migrationsFor(dialect: Dialect): Record<string, Migration> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    '0001_keys_and_requests': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('key_prefix', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addColumn('expires_at', bigint)
          .addColumn('revoked_at', bigint)
          .execute();
        await db.schema
          .createTable('requests')
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('ts', bigint, (c) => c.notNull())
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
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
