/** Audit log table and record types. Times are epoch milliseconds. */
import type { Kysely } from 'kysely';
import type { Store } from '../../store/connect.js';

export type AuditOutcome = 'success' | 'failure' | 'denied';

export type AuditLogTable = {
  /** 1, 2, 3, ... with no gaps: a missing number is a deleted record. */
  seq: number;
  ts: number;
  /** Key id, 'cli' or 'system'. */
  actor: string;
  client_id: string | null;
  /** e.g. key.created, token.issued, admin.webhook.deleted. */
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  address: string | null;
  /** Canonical JSON (sorted keys), already redacted; null when there are none. */
  details: string | null;
  prev_hash: string;
  hash: string;
};

// Type aliases, not interfaces: Kysely's withTables<T>() needs an index-signature-compatible type.
export type AuditTables = {
  audit_log: AuditLogTable;
};

/** What a caller reports; the log assigns seq, hashes and (unless given) ts. */
export interface AuditEvent {
  actor: string;
  action: string;
  outcome?: AuditOutcome;
  target?: string | null;
  clientId?: string | null;
  address?: string | null;
  details?: Record<string, unknown> | null;
  ts?: number;
}

/** A stored record as returned by queries and exports (details parsed back to an object). */
export interface AuditRecord {
  seq: number;
  ts: number;
  actor: string;
  client_id: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  address: string | null;
  details: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

export type VerifyResult = { ok: true; count: number; head: { seq: number; hash: string } | null } | { ok: false; firstBrokenSeq: number; reason: string };

export type AuditDb = Kysely<AuditTables>;

/** The store's handle, typed for our table without touching the shared `Database` type. */
export function auditDb(store: Store): AuditDb {
  return store.db.withTables<AuditTables>() as unknown as AuditDb;
}

export function toRecord(row: AuditLogTable): AuditRecord {
  return {
    ...row,
    seq: Number(row.seq),
    ts: Number(row.ts),
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
  };
}
