/**
 * The usage batch write on SQLite without a query builder. Prepared statements in one
 * transaction cost a few microseconds a record; building one multi-row INSERT per batch through
 * Kysely (a new SQL text, so a new prepare, each time) cost ten times that
 * (bench/micro/usage-writer.ts). In a gateway with a database file this runs in the usage
 * worker thread (src/usage/usage-worker.ts); with `:memory:` on the event loop.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { HOURLY_DIMENSIONS, HOURLY_SUMS, foldHourly } from '../../usage/rollup.js';
import type { RequestRecord } from './requests.js';

type SqlValue = string | number | bigint | Buffer | null;

/**
 * The columns a usage record is written to, in table order (from the table itself, so a
 * migration that adds one needs no change here). Both ends of the worker use this order.
 */
export function requestColumns(raw: BetterSqlite3.Database): string[] {
  return tableColumns(raw).map((c) => c.name);
}

function tableColumns(raw: BetterSqlite3.Database): { name: string; notnull: number; dflt_value: string | null }[] {
  const info = raw.prepare('PRAGMA table_info(requests)').all() as { name: string; notnull: number; dflt_value: string | null; pk: number }[];
  return info.filter((c) => !c.pk);
}

/** A record as the values of `columns`, booleans as 0/1: what the worker receives, flattened. */
export function appendValues(out: unknown[], r: RequestRecord, columns: readonly string[]): void {
  const rec = r as unknown as Record<string, unknown>;
  for (const c of columns) {
    const v = rec[c];
    out.push(v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
}

export class SqliteRequestWriter {
  readonly columns: readonly string[];
  readonly #insert: BetterSqlite3.Statement;
  readonly #upsert: BetterSqlite3.Statement;
  readonly #write: (records: readonly RequestRecord[]) => void;
  readonly #dataVersion: BetterSqlite3.Statement;
  #seenVersion: number | null = null;
  #foreign = false;

  constructor(raw: BetterSqlite3.Database) {
    const cols = tableColumns(raw);
    this.columns = cols.map((c) => c.name);
    // One statement over every column: an absent value is bound as NULL, and a NOT NULL column
    // with a default takes its default then (the default text is the table's own SQL), as an
    // INSERT naming only the present columns would. A nullable column with a default could not
    // tell "absent" from NULL this way: refused, so a migration adding one surfaces in tests.
    const slots = cols.map((c) => {
      if (c.dflt_value === null) return '?';
      if (!c.notnull) throw new Error(`usage records: requests.${c.name} is nullable with a default, which the batch writer cannot express`);
      return `COALESCE(?, ${c.dflt_value})`;
    });
    this.#insert = raw.prepare(`INSERT INTO requests (${this.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${slots.join(', ')})`);
    const hourly = [...HOURLY_DIMENSIONS, ...HOURLY_SUMS];
    this.#upsert = raw.prepare(
      `INSERT INTO usage_hourly (${hourly.join(', ')}) VALUES (${hourly.map(() => '?').join(', ')})
       ON CONFLICT (${HOURLY_DIMENSIONS.join(', ')}) DO UPDATE SET ${HOURLY_SUMS.map((s) => `${s} = usage_hourly.${s} + excluded.${s}`).join(', ')}`,
    );
    this.#dataVersion = raw.prepare('PRAGMA data_version').pluck();
    const write = raw.transaction((records: readonly RequestRecord[]) => {
      // BEGIN IMMEDIATE: the worker takes the write lock up front instead of upgrading a read
      // snapshot (which can fail with SQLITE_BUSY whatever busy_timeout says). Any commit by
      // another connection up to here is seen and remembered for takeForeignChange.
      this.#noteForeign();
      const values: unknown[] = [];
      for (const r of records) {
        values.length = 0;
        appendValues(values, r, this.columns);
        this.#insert.run(values);
      }
      for (const row of foldHourly(records)) this.#upsert.run(hourly.map((c) => (row as Record<string, SqlValue>)[c]));
    });
    this.#write = write.immediate;
  }

  write(records: readonly RequestRecord[]): void {
    if (records.length > 0) this.#write(records);
  }

  /**
   * Whether another connection (this process's main one, or another process) committed since
   * the last call or write; the first call says yes, having nothing to compare with. The
   * worker's answer to "was that data_version move only the usage batch?" (src/store/own-writes.ts).
   */
  takeForeignChange(): boolean {
    this.#noteForeign();
    const f = this.#foreign;
    this.#foreign = false;
    return f;
  }

  #noteForeign(): void {
    const v = this.#dataVersion.get() as number;
    if (this.#seenVersion !== v) this.#foreign = true;
    this.#seenVersion = v;
  }
}
