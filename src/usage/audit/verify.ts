/**
 * Walks the whole chain in pages of seq order and names the first record that does not
 * hold: a gap in seq (deleted records), a prev_hash that is not the previous record's hash
 * (reordered or replaced records), or a hash that does not match the record's own fields
 * (edited records). Deleting the newest records leaves a valid shorter chain; pass the
 * head you anchored elsewhere (`anchor`) to catch that too.
 */
import { GENESIS_HASH, hashRecord } from './hash.js';
import type { AuditDb, VerifyResult } from './types.js';

export interface VerifyOptions {
  pageSize?: number;
  /** A head recorded earlier (e.g. printed by `keygate audit verify`): the chain must still contain it. */
  anchor?: { seq: number; hash: string };
}

export async function verifyChain(db: AuditDb, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 1000;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (;;) {
    const page = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq', 'asc')
      .limit(pageSize)
      .execute();
    for (const row of page) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        const reason = expectedSeq === seq - 1 ? `record ${expectedSeq} is missing` : `records ${expectedSeq}..${seq - 1} are missing`;
        return { ok: false, firstBrokenSeq: seq, reason };
      }
      if (row.prev_hash !== prevHash) return { ok: false, firstBrokenSeq: seq, reason: 'prev_hash does not match the previous record' };
      const expected = hashRecord({ ...row, seq, ts: Number(row.ts) });
      if (expected !== row.hash) return { ok: false, firstBrokenSeq: seq, reason: 'record fields do not match its hash (edited)' };
      if (opts.anchor && seq === opts.anchor.seq && row.hash !== opts.anchor.hash) {
        return { ok: false, firstBrokenSeq: seq, reason: 'record differs from the anchored head' };
      }
      prevHash = row.hash;
      expectedSeq = seq + 1;
      count += 1;
    }
    if (page.length < pageSize) break;
  }
  if (opts.anchor && count < opts.anchor.seq) {
    return { ok: false, firstBrokenSeq: count + 1, reason: `records ${count + 1}..${opts.anchor.seq} are missing (truncated after the anchor)` };
  }
  return { ok: true, count, head: count === 0 ? null : { seq: count, hash: prevHash } };
}
