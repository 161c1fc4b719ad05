import type { Kysely, Migration } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

// Migrations operate on a schema that changes over time, so they use an untyped handle.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;

/** A migration is written once for both dialects; `t` gives the column types that differ. */
export type MigrationFactory = (t: DialectTypes) => Migration;

export interface DialectTypes {
  dialect: Dialect;
  /** Epoch milliseconds and other 64-bit integers. */
  bigint: 'bigint' | 'integer';
  /** Auto-incrementing primary key column type. */
  serial: 'bigserial' | 'integer';
}

export function dialectTypes(dialect: Dialect): DialectTypes {
  return dialect === 'postgres'
    ? { dialect, bigint: 'bigint', serial: 'bigserial' }
    : { dialect, bigint: 'integer', serial: 'integer' };
}
