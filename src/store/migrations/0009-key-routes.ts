import type { AnyDb, MigrationFactory } from './dialect.js';

/** A key's allowed routes: a JSON array of route patterns (`/v1/chat/completions`, `/anthropic/*`); null = any. */
export const keyRoutes: MigrationFactory = () => ({
  async up(db: AnyDb) {
    await db.schema.alterTable('api_keys').addColumn('routes', 'text').execute();
  },
});
