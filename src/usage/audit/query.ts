/** Filtered, cursor-paginated reads (newest first) and JSON-lines export (oldest first). */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { sql, type SelectQueryBuilder } from 'kysely';
import { toRecord, type AuditDb, type AuditLogTable, type AuditOutcome, type AuditRecord, type AuditTables } from './types.js';

export interface AuditQuery {
  actor?: string;
  /** Exact action, or a prefix ending in `*` (e.g. `admin.*`). */
  action?: string;
  outcome?: AuditOutcome;
  /** Inclusive lower bound on ts (epoch ms). */
  from?: number;
  /** Exclusive upper bound on ts (epoch ms). */
  to?: number;
  /** `nextCursor` of the previous page: records with a smaller seq follow. */
  cursor?: number;
  limit?: number;
}

export interface AuditPage {
  items: AuditRecord[];
  nextCursor: number | null;
}

export const MAX_PAGE = 500;

type Q = SelectQueryBuilder<AuditTables, 'audit_log', AuditLogTable>;

function filtered(db: AuditDb, f: Omit<AuditQuery, 'cursor' | 'limit'>): Q {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.actor !== undefined) q = q.where('actor', '=', f.actor);
  if (f.action !== undefined) {
    if (f.action.endsWith('*')) {
      const prefix = f.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
      q = q.where(sql<boolean>`action LIKE ${`${prefix}%`} ESCAPE '\\'`);
    } else q = q.where('action', '=', f.action);
  }
  if (f.outcome !== undefined) q = q.where('outcome', '=', f.outcome);
  if (f.from !== undefined) q = q.where('ts', '>=', f.from);
  if (f.to !== undefined) q = q.where('ts', '<', f.to);
  return q;
}

export async function queryAudit(db: AuditDb, query: AuditQuery = {}): Promise<AuditPage> {
  const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 50)), MAX_PAGE);
  let q = filtered(db, query);
  if (query.cursor !== undefined) q = q.where('seq', '<', query.cursor);
  const rows = await q.orderBy('seq', 'desc').limit(limit + 1).execute();
  const items = rows.slice(0, limit).map(toRecord);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1].seq : null };
}

/**
 * Writes one JSON object per line, honouring back-pressure; returns the number written.
 * `signal` ends the export early (the client went away): a stream that is gone never
 * drains, so waiting for 'drain' alone would hang the export, and its query, forever.
 */
export async function exportAuditJsonl(db: AuditDb, out: Writable, range: { from?: number; to?: number } = {}, pageSize = 1000, signal?: AbortSignal): Promise<number> {
  let after = 0;
  let n = 0;
  for (;;) {
    if (signal?.aborted || out.destroyed) return n;
    const rows = await filtered(db, range).where('seq', '>', after).orderBy('seq', 'asc').limit(pageSize).execute();
    for (const row of rows) {
      const rec = toRecord(row);
      const room = out.write(`${JSON.stringify(rec)}\n`);
      after = rec.seq;
      n += 1;
      if (!room) {
        try {
          await once(out, 'drain', { signal });
        } catch (err) {
          if (signal?.aborted) return n;
          throw err;
        }
      }
    }
    if (rows.length < pageSize) return n;
  }
}
