/**
 * The usage batch write on SQLite without a query builder: better-sqlite3 is synchronous, so
 * the batch runs on the event loop and every request in flight waits for it. Prepared
 * single-row statements in one transaction cost a few microseconds a record; building one
 * multi-row INSERT per batch through Kysely (a new SQL text, so a new prepare, each time)
 * cost ten times that (bench/micro/usage-writer.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { HOURLY_DIMENSIONS, HOURLY_SUMS, foldHourly } from '../../usage/rollup.js';
import type { RequestRecord } from './requests.js';

type SqlValue = string | number | bigint | Buffer | null;

export class SqliteRequestWriter {
  // One INSERT per set of present columns: absent ones keep their column defaults, as they
  // would through Kysely. A gateway writes one shape, so this map holds one or two entries.
  readonly #inserts = new Map<string, BetterSqlite3.Statement>();
  readonly #upsert: BetterSqlite3.Statement;
  readonly #write: (records: readonly RequestRecord[]) => void;

  constructor(private readonly raw: BetterSqlite3.Database) {
    const cols = [...HOURLY_DIMENSIONS, ...HOURLY_SUMS];
    this.#upsert = raw.prepare(
      `INSERT INTO usage_hourly (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
       ON CONFLICT (${HOURLY_DIMENSIONS.join(', ')}) DO UPDATE SET ${HOURLY_SUMS.map((s) => `${s} = usage_hourly.${s} + excluded.${s}`).join(', ')}`,
    );
    this.#write = raw.transaction((records: readonly RequestRecord[]) => {
      for (const r of records) this.#insertOne(r);
      for (const row of foldHourly(records)) this.#upsert.run(cols.map((c) => (row as Record<string, SqlValue>)[c]));
    });
  }

  write(records: readonly RequestRecord[]): void {
    if (records.length > 0) this.#write(records);
  }

  #insertOne(r: RequestRecord): void {
    const cols: string[] = [];
    const values: SqlValue[] = [];
    for (const [k, v] of Object.entries(r)) {
      if (v === undefined) continue;
      cols.push(k);
      values.push(typeof v === 'boolean' ? (v ? 1 : 0) : (v as SqlValue));
    }
    const shape = cols.join(',');
    let stmt = this.#inserts.get(shape);
    if (!stmt) {
      // Column names come from our own record type, never from a client; checked all the same.
      for (const c of cols) if (!/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`usage record: bad column name ${c}`);
      stmt = this.raw.prepare(`INSERT INTO requests (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
      this.#inserts.set(shape, stmt);
    }
    stmt.run(values);
  }
}
