/**
 * Master-key rotation of the database: every envelope-sealed value is re-sealed under the new
 * key in one transaction (all or nothing; idempotent, so an interrupted run is simply run
 * again). The secrets inside do not change, so split keys and webhook signatures keep working.
 */
import type { Kysely } from 'kysely';
import { isSealed, rewrapEnvelope, sealedKeyId, type EnvelopeKey } from '../crypto/index.js';
import type { Store } from '../store/connect.js';

type Row = Record<string, string | number | null>;
type LooseDb = Record<string, Row>;

interface SealedColumn {
  table: string;
  pk: string;
  column: string;
  /** The AAD the value was sealed with. */
  aad: (row: Row) => string;
  /** A column that repeats the sealing key id, kept in step. */
  keyIdColumn?: string;
}

/** Every table holding envelope-sealed values. Add a line here when a feature seals something new. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'provider_secrets', pk: 'name', column: 'sealed', aad: (r) => String(r.name), keyIdColumn: 'master_key_id' },
  // src/byok/server-secret.ts: AAD is the row name.
  { table: 'server_secrets', pk: 'name', column: 'sealed', aad: (r) => String(r.name) },
  // src/server/operations.ts masterKeySealer: one AAD for every webhook secret.
  { table: 'webhook_endpoints', pk: 'id', column: 'secret', aad: () => 'keygate webhook secret' },
];

export interface RewrapReport {
  table: string;
  rewrapped: number;
  alreadyCurrent: number;
}

export async function rewrapDatabase(store: Store, oldKeys: readonly EnvelopeKey[], newKey: EnvelopeKey): Promise<RewrapReport[]> {
  return store.db.transaction().execute(async (trx) => {
    const db = trx as unknown as Kysely<LooseDb>;
    const out: RewrapReport[] = [];
    for (const c of SEALED_COLUMNS) {
      const rows = (await db.selectFrom(c.table).selectAll().execute()) as Row[];
      const report: RewrapReport = { table: c.table, rewrapped: 0, alreadyCurrent: 0 };
      for (const row of rows) {
        const sealed = row[c.column];
        if (!isSealed(sealed)) continue;
        if (sealedKeyId(sealed) === newKey.id) {
          report.alreadyCurrent++;
          continue;
        }
        // Throws on a value no loaded key opens: the transaction rolls back, nothing half-done.
        const next = rewrapEnvelope(oldKeys, newKey, sealed, c.aad(row));
        const set: Row = { [c.column]: next };
        if (c.keyIdColumn) set[c.keyIdColumn] = newKey.id;
        await db.updateTable(c.table).set(set).where(c.pk, '=', row[c.pk]).execute();
        report.rewrapped++;
      }
      out.push(report);
    }
    return out;
  });
}

/** True when some sealed value is still under `keyId` (a previous master key still needed). */
export async function keyIdInUse(store: Store, keyId: string): Promise<boolean> {
  const db = store.db as unknown as Kysely<LooseDb>;
  for (const c of SEALED_COLUMNS) {
    const rows = (await db.selectFrom(c.table).select(c.column).execute()) as Row[];
    if (rows.some((r) => isSealed(r[c.column]) && sealedKeyId(String(r[c.column])) === keyId)) return true;
  }
  return false;
}
