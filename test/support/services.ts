/**
 * Real services for tests. Locally a missing PostgreSQL or Redis skips the tests that need
 * it, visibly; in CI (KEYGATE_REQUIRE_SERVICES=1) it fails them.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { warnSkip } from './skip-log.js';
import { redactText } from '../../src/core/redact.js';

export const REQUIRE_SERVICES = process.env.KEYGATE_REQUIRE_SERVICES === '1';
export const POSTGRES_URL = process.env.KEYGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (err) {
    if (REQUIRE_SERVICES) throw new Error(`PostgreSQL is required (KEYGATE_REQUIRE_SERVICES=1) but not reachable at ${redactText(POSTGRES_URL)}: ${redactText((err as Error).message)}`);
    warnSkip(`[skip] PostgreSQL not reachable at ${redactText(POSTGRES_URL)}; PostgreSQL tests are skipped`);
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The database of one dialect in a test loop: none for SQLite (the gateway's own file), a throw-away one for PostgreSQL. */
export async function databaseFor(dialect: string): Promise<{ url: string | undefined; drop: () => Promise<void> }> {
  return dialect === 'postgres' ? createTempDatabase() : { url: undefined, drop: async () => undefined };
}

/** A throw-away database; returns its URL and a function that drops it. */
export async function createTempDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `kg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
