/**
 * Appends a batch of records to the chain under a lock, so two writers can never read the
 * same "last record" and fork the chain:
 * - PostgreSQL: a transaction holding pg_advisory_xact_lock (works across processes and
 *   replicas; released at commit or rollback);
 * - SQLite: BEGIN IMMEDIATE takes the single write lock before the last record is read
 *   (a deferred BEGIN would let two processes read the same head).
 * The primary key on seq is a second guard: a forked append fails instead of landing.
 */
import { sql, type Kysely } from 'kysely';
import type { Store } from '../../store/connect.js';
import { GENESIS_HASH, hashRecord } from './hash.js';
import { auditDb, type AuditLogTable, type AuditTables } from './types.js';

/** Arbitrary constant naming the audit chain's lock in pg_advisory_xact_lock. */
const PG_LOCK_KEY = 0x6b67_6175_6474; // "kgaudt"
const INSERT_CHUNK = 200;

export type UnsealedRecord = Omit<AuditLogTable, 'seq' | 'prev_hash' | 'hash'>;

export async function appendChained(store: Store, records: readonly UnsealedRecord[]): Promise<AuditLogTable[]> {
  if (records.length === 0) return [];
  const db = auditDb(store);
  if (store.dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${sql.lit(PG_LOCK_KEY)})`.execute(trx);
      return write(trx, records);
    });
  }
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const out = await write(conn, records);
      await sql`COMMIT`.execute(conn);
      return out;
    } catch (err) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

async function write(db: Kysely<AuditTables>, records: readonly UnsealedRecord[]): Promise<AuditLogTable[]> {
  const last = await db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let seq = last ? Number(last.seq) : 0;
  let prev = last?.hash ?? GENESIS_HASH;
  const rows: AuditLogTable[] = records.map((r) => {
    seq += 1;
    const fields = { ...r, seq, prev_hash: prev };
    const row = { ...fields, hash: hashRecord(fields) };
    prev = row.hash;
    return row;
  });
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db.insertInto('audit_log').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }
  return rows;
}
