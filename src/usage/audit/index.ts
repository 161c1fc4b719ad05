export { AuditLog, type AuditLogOptions } from './audit-log.js';
export { GENESIS_HASH, canonicalRecord, hashRecord, canonicalJson } from './hash.js';
export type { AuditQuery, AuditPage } from './query.js';
export type { VerifyOptions } from './verify.js';
export type { AuditEvent, AuditRecord, AuditOutcome, AuditLogTable, AuditTables, VerifyResult } from './types.js';
