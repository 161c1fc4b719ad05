/** The audit chain on real SQLite and PostgreSQL: appends, tampering, concurrency, export. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDatabase, postgresAvailable } from '../../../test/support/services.js';
import { openStore, type Store } from '../../store/connect.js';
import { AuditLog, GENESIS_HASH, hashRecord, type AuditRecord } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'keygate-audit-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});

const targets: Array<{ name: string; url: () => Promise<string> }> = [
  { name: 'sqlite', url: async () => `sqlite:${join(tmp, `${Math.random().toString(36).slice(2)}.db`)}` },
];
if (await postgresAvailable()) {
  targets.push({
    name: 'postgres',
    url: async () => {
      const d = await createTempDatabase();
      cleanups.push(d.drop);
      return d.url;
    },
  });
}

async function open(url: string): Promise<Store> {
  const s = await openStore(url);
  cleanups.push(() => s.close());
  return s;
}

let clock = 1_700_000_000_000;
const now = (): number => ++clock;

async function seeded(url: string, n: number): Promise<{ store: Store; log: AuditLog }> {
  const store = await open(url);
  const log = new AuditLog(store, { now, batchSize: 1000, flushIntervalMs: 60_000 });
  for (let i = 1; i <= n; i++) {
    log.record({ actor: i % 2 ? 'cli' : 'key_a', action: i % 3 ? 'key.created' : 'admin.limits.changed', target: `key_${i}`, details: { i } });
  }
  await log.flush();
  return { store, log };
}

// Raw SQL so the tests tamper the way an attacker with database access would.
const exec = (store: Store, q: ReturnType<typeof sql>) => q.execute(store.db);

describe.each(targets)('audit log on $name', (target) => {
  it('chains records from genesis and verifies them', async () => {
    const { log } = await seeded(await target.url(), 5);
    const { items } = await log.query({ limit: 10 });
    const asc = [...items].reverse();
    expect(asc.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(asc[0].prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < asc.length; i++) expect(asc[i].prev_hash).toBe(asc[i - 1].hash);
    expect(await log.verify()).toEqual({ ok: true, count: 5, head: { seq: 5, hash: asc[4].hash } });
  });

  it('record() returns at once; flush() and close() write', async () => {
    const store = await open(await target.url());
    const log = new AuditLog(store, { now, batchSize: 1000, flushIntervalMs: 60_000 });
    log.record({ actor: 'system', action: 'threat.blocked', outcome: 'denied' });
    expect(log.pending).toBe(1);
    expect((await log.query()).items).toHaveLength(0);
    await log.close();
    expect((await log.query()).items.map((r) => r.action)).toEqual(['threat.blocked']);
  });

  it('never stores a secret in details, target or address', async () => {
    const store = await open(await target.url());
    const log = new AuditLog(store, { now });
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    const rec = await log.append({
      actor: 'cli',
      action: 'credential.revoked_used',
      outcome: 'denied',
      target: `Bearer ${key}`,
      details: { note: `client sent ${key}`, password: 'hunter2hunter2', nested: { apiKey: 'plain-looking-value' } },
    });
    const raw = JSON.stringify(await store.db.withTables<{ audit_log: { details: string; target: string } }>().selectFrom('audit_log').selectAll().execute());
    expect(raw).not.toContain(key);
    expect(raw).not.toContain('hunter2');
    expect(raw).not.toContain('plain-looking-value');
    expect(rec.details).toMatchObject({ password: '[redacted]', nested: { apiKey: '[redacted]' } });
    expect(await log.verify()).toMatchObject({ ok: true, count: 1 });
  });

  it('names an edited record', async () => {
    const { store, log } = await seeded(await target.url(), 6);
    await exec(store, sql`UPDATE audit_log SET outcome = 'failure' WHERE seq = 3`);
    expect(await log.verify()).toEqual({ ok: false, firstBrokenSeq: 3, reason: expect.stringContaining('edited') });
  });

  it('names the record after one that was edited and re-hashed', async () => {
    const { store, log } = await seeded(await target.url(), 6);
    const rows = await sql<{ seq: number; ts: number; prev_hash: string }>`SELECT seq, ts, prev_hash FROM audit_log WHERE seq = 4`.execute(store.db);
    const r = rows.rows[0];
    const forged = { seq: 4, ts: Number(r.ts), actor: 'cli', client_id: null, action: 'key.created', target: 'key_innocent', outcome: 'success' as const, address: null, details: null, prev_hash: r.prev_hash };
    await exec(store, sql`UPDATE audit_log SET actor = 'cli', target = 'key_innocent', details = NULL, action = 'key.created', hash = ${hashRecord(forged)} WHERE seq = 4`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBrokenSeq: 5 });
  });

  it('names the record after a deleted one', async () => {
    const { store, log } = await seeded(await target.url(), 6);
    await exec(store, sql`DELETE FROM audit_log WHERE seq = 4`);
    expect(await log.verify()).toEqual({ ok: false, firstBrokenSeq: 5, reason: 'record 4 is missing' });
  });

  it('catches reordered records', async () => {
    const { store, log } = await seeded(await target.url(), 6);
    await exec(store, sql`UPDATE audit_log SET seq = 100 WHERE seq = 2`);
    await exec(store, sql`UPDATE audit_log SET seq = 2 WHERE seq = 3`);
    await exec(store, sql`UPDATE audit_log SET seq = 3 WHERE seq = 100`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('catches a truncated tail against an anchor, and verifies across pages', async () => {
    const { store, log } = await seeded(await target.url(), 25);
    const head = await log.head();
    expect(await log.verify({ pageSize: 7, anchor: head ?? undefined })).toMatchObject({ ok: true, count: 25 });
    await exec(store, sql`DELETE FROM audit_log WHERE seq > 22`);
    expect(await log.verify({ pageSize: 7 })).toMatchObject({ ok: true, count: 22 });
    expect(await log.verify({ pageSize: 7, anchor: head ?? undefined })).toMatchObject({ ok: false, firstBrokenSeq: 23 });
  });

  // Two PostgreSQL pools race for real. Two better-sqlite3 handles in one process would
  // block each other's event loop while waiting for the file lock, so on SQLite the two
  // writers share a store (other processes are serialised by BEGIN IMMEDIATE).
  it('keeps one chain when two writers append concurrently', async () => {
    const url = await target.url();
    const first = await open(url);
    const a = new AuditLog(first, { now, batchSize: 1 });
    const b = new AuditLog(target.name === 'postgres' ? await open(url) : first, { now, batchSize: 1 });
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      a.record({ actor: 'system', action: 'limit.hit', target: `a${i}` });
      b.record({ actor: 'system', action: 'limit.hit', target: `b${i}` });
      writes.push(a.append({ actor: 'cli', action: 'token.issued', target: `A${i}` }), b.append({ actor: 'cli', action: 'token.issued', target: `B${i}` }));
    }
    await Promise.all(writes);
    await Promise.all([a.close(), b.close()]);
    expect(await a.verify()).toMatchObject({ ok: true, count: 160 });
  });

  it('filters and paginates newest first', async () => {
    const { log } = await seeded(await target.url(), 12);
    const admin = await log.query({ action: 'admin.*' });
    expect(admin.items.map((r) => r.seq)).toEqual([12, 9, 6, 3]);
    const p1 = await log.query({ actor: 'cli', limit: 2 });
    expect(p1.items.map((r) => r.seq)).toEqual([11, 9]);
    const p2 = await log.query({ actor: 'cli', limit: 2, cursor: p1.nextCursor ?? undefined });
    expect(p2.items.map((r) => r.seq)).toEqual([7, 5]);
    const all = await log.query({ actor: 'cli', limit: 100 });
    expect(all.nextCursor).toBeNull();
    const t5 = all.items.find((r) => r.seq === 5)?.ts ?? 0;
    const range = await log.query({ from: t5, to: t5 + 1 });
    expect(range.items.map((r) => r.seq)).toEqual([5]);
    expect((await log.query({ outcome: 'denied' })).items).toHaveLength(0);
    expect((await log.query({ action: 'key_%' })).items).toHaveLength(0);
  });

  it('exports JSON lines that re-hash to the stored chain', async () => {
    const { log } = await seeded(await target.url(), 5);
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    expect(await log.exportJsonl(out)).toBe(5);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const r of lines) {
      const details = r.details === null ? null : JSON.stringify(r.details);
      expect(hashRecord({ ...r, details })).toBe(r.hash);
    }
    const t2 = lines[1].ts;
    const part = new PassThrough();
    part.resume();
    expect(await log.exportJsonl(part, { from: t2, to: lines[3].ts })).toBe(2);
  });

  it('ends an export whose client is gone instead of waiting for a drain that never comes', async () => {
    const { log } = await seeded(await target.url(), 50);
    // A client that never reads: the first write fills the buffer, which never drains.
    const out = new Writable({ highWaterMark: 16, write: () => undefined });
    const gone = new AbortController();
    const exported = log.exportJsonl(out, {}, gone.signal);
    while (out.writableLength === 0) await new Promise((r) => setImmediate(r));
    out.destroy();
    gone.abort();
    // Without the signal this promise never settles and the test times out.
    const n = await exported;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(50);
  });

  it('refuses a malformed event', async () => {
    const store = await open(await target.url());
    const log = new AuditLog(store, { now });
    expect(() => log.record({ actor: 'cli', action: 'Not An Action' })).toThrow(TypeError);
  });
});
