/**
 * The chain: hash = SHA-256 over a canonical serialisation of a record's fields and the
 * previous record's hash. A JSON array in fixed field order is unambiguous (no field can
 * bleed into the next) and easy to reproduce in any language.
 */
import { createHash } from 'node:crypto';
import type { AuditLogTable } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);
const VERSION = 'keygate.audit.v1';

export type ChainFields = Omit<AuditLogTable, 'hash'>;

export function canonicalRecord(r: ChainFields): string {
  return JSON.stringify([VERSION, r.seq, r.ts, r.actor, r.client_id, r.action, r.target, r.outcome, r.address, r.details, r.prev_hash]);
}

export function hashRecord(r: ChainFields): string {
  return createHash('sha256').update(canonicalRecord(r)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
