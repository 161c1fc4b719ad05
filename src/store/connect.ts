/**
 * Opens the store: SQLite (embedded default, WAL) or PostgreSQL, behind one Kysely handle,
 * applies migrations, and exposes a cheap synchronous "did anything change elsewhere?" check
 * that caches use to drop stale entries (e.g. a key revoked by the CLI in another process).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { CustomTypesConfig } from 'pg';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import { migrationProvider, type Dialect } from './migrations/index.js';
import { OwnWrites } from './own-writes.js';
import { ImmediateSqliteDialect } from './sqlite-immediate.js';
import type { Database } from './schema.js';

export const CHANGE_CHANNEL = 'keygate_changed';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** The SQLite connection itself, for the few hot writes that skip the query builder. */
  readonly sqlite?: BetterSqlite3.Database;
  /** SQLite: commits of this process's other connection (the usage worker), not "elsewhere". */
  readonly ownWrites?: OwnWrites;
  /** True when another connection or process committed changes since the last call. */
  changedElsewhere(): boolean;
  /** Tells other processes that shared state (keys, rules) changed. */
  notifyChange(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openStore(url: string, opts: { migrate?: boolean } = {}): Promise<Store> {
  const store = url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length)) : await openPostgres(url);
  if (opts.migrate !== false) await migrate(store);
  return store;
}

async function migrate(store: Store): Promise<void> {
  // Features add migrations independently; each creates its own tables, so their order does not matter.
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function openSqlite(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  // Transactions BEGIN IMMEDIATE: the usage worker is a second writer on the same file.
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: raw }) });
  // data_version changes when another connection commits: a ~1 µs check instead of a query.
  const dataVersion = raw.prepare('PRAGMA data_version').pluck();
  let seen = dataVersion.get() as number;
  const ownWrites = new OwnWrites();
  return {
    db,
    dialect: 'sqlite',
    sqlite: raw,
    ownWrites,
    changedElsewhere() {
      const v = dataVersion.get() as number;
      const moved = v !== seen;
      seen = v;
      return ownWrites.judge(moved);
    },
    async notifyChange() {
      /* other processes see data_version move */
    },
    async ping() {
      raw.prepare('SELECT 1').get();
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPostgres(url: string): Promise<Store> {
  // Loaded here, not at the top: the embedded default (SQLite) never pays for the driver.
  const { default: pg } = await import('pg');
  const { ChangeListener } = await import('./pg-listener.js');
  // int8 (bigint) and numeric columns as JS numbers: our values are epoch ms and counters.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types: types as CustomTypesConfig });
  pool.on('error', () => {
    /* an idle client failed; the pool replaces it and the next query reports real errors */
  });
  // pg-pool listens for errors only on idle clients: a backend killed (restart, failover,
  // pg_terminate_backend) while its client is checked out would emit an unhandled 'error'
  // and end the process. The query in flight fails on its own; the pool drops the client.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  const listener = new ChangeListener(url, CHANGE_CHANNEL);
  try {
    await listener.start();
  } catch (err) {
    await db.destroy();
    throw err;
  }

  return {
    db,
    dialect: 'postgres',
    changedElsewhere: () => listener.changedElsewhere(),
    async notifyChange() {
      await sql`SELECT pg_notify(${CHANGE_CHANNEL}, '')`.execute(db);
    },
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    async close() {
      await listener.close();
      await db.destroy();
    },
  };
}
