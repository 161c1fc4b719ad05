/**
 * Kysely's SQLite dialect with every transaction started by BEGIN IMMEDIATE. The usage worker
 * writes through its own connection, so a deferred BEGIN that reads and then writes can lose
 * the race: its read snapshot goes stale when the worker commits in between, and the write
 * then fails with SQLITE_BUSY_SNAPSHOT (busy_timeout cannot help, the snapshot is already old).
 * IMMEDIATE takes the write lock first, waiting up to busy_timeout for the other writer.
 */
import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
