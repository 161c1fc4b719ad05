/**
 * The SQLite usage worker: batches written by its own connection, readable once a flush
 * resolved, flushed by close(), never lost when it dies, and its commits not mistaken for
 * another process's changes (which must still be seen).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/connect.js';
import { RequestRepository, type RequestRecord } from '../store/repositories/requests.js';
import { UsageWorkerSink } from './usage-worker-sink.js';
import { UsageWriter } from './usage-writer.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(): Promise<{ store: Store; path: string; sink: UsageWorkerSink; stops: Error[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kg-usage-worker-'));
  dirs.push(dir);
  const path = join(dir, 'keygate.db');
  const store = await openStore(`sqlite:${path}`);
  const stops: Error[] = [];
  const sink = new UsageWorkerSink(store, new RequestRepository(store), (err) => stops.push(err));
  cleanups.push(async () => {
    await sink.close();
    await store.close();
  });
  return { store, path, sink, stops };
}

let seq = 0;
function records(n: number): RequestRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    request_id: `r-${++seq}`,
    ts: 3_600_000 * 7 + i,
    key_id: 'k1',
    provider: 'openai',
    model: 'gpt-4o',
    endpoint: 'chat',
    status: i % 5 === 0 ? 502 : 200,
    latency_ms: 10 + i,
    prompt_tokens: 3,
    completion_tokens: 2,
    total_tokens: 5,
    stream: false as unknown as number,
    custody: 'server',
    error_code: null,
    cost_micros: 1,
    price_known: 1,
  }));
}

const count = (store: Store) => store.sqlite!.prepare('SELECT count(*) FROM requests').pluck().get() as number;
const dataVersion = (store: Store) => store.sqlite!.prepare('PRAGMA data_version').pluck().get() as number;

/** Lets the worker's first "something changed" (it has no earlier state) reach changedElsewhere. */
async function settle(store: Store, sink: UsageWorkerSink): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await sink.sync();
    if (!store.changedElsewhere()) {
      await sink.sync();
      if (!store.changedElsewhere()) return;
    }
  }
  throw new Error('changedElsewhere never settled');
}

describe('SQLite usage worker', () => {
  it('writes batches on its own connection, readable as soon as the flush resolved', async () => {
    const { store, sink, stops } = await setup();
    expect(await sink.started()).toBe('worker');
    const writer = new UsageWriter(sink, { flushIntervalMs: 60_000, batchSize: 1000 });
    expect(writer.sinkMode).toBe('worker');
    const before = dataVersion(store);
    for (const r of records(50)) writer.record(r);
    await writer.flush();
    expect(count(store)).toBe(50);
    // data_version moves only for another connection's commit: the worker's, not ours.
    expect(dataVersion(store)).not.toBe(before);
    // The same rows and rollup as the event-loop writer stores.
    const rows = store.sqlite!.prepare('SELECT stream, price_known, usage_estimated FROM requests LIMIT 1').get();
    expect(rows).toEqual({ stream: 0, price_known: 1, usage_estimated: 0 });
    const hourly = await store.db.selectFrom('usage_hourly').selectAll().orderBy('status_class').execute();
    expect(hourly.map((h) => [h.status_class, h.requests, h.errors, h.prompt_tokens])).toEqual([
      ['2xx', 40, 0, 120],
      ['5xx', 10, 10, 30],
    ]);
    expect(stops).toEqual([]);
  });

  it('close() writes what is pending and waits for the commit', async () => {
    const { path, sink } = await setup();
    await sink.started();
    const writer = new UsageWriter(sink, { flushIntervalMs: 60_000, batchSize: 1000 });
    for (const r of records(30)) writer.record(r);
    await writer.close();
    expect(sink.mode).toBe('event-loop');
    const other = new BetterSqlite3(path, { readonly: true });
    try {
      expect(other.prepare('SELECT count(*) FROM requests').pluck().get()).toBe(30);
    } finally {
      other.close();
    }
  });

  it('a worker that dies with a batch in flight: reported, the batch written exactly once, then writes on the event loop', async () => {
    const { store, sink, stops } = await setup();
    await sink.started();
    const writer = new UsageWriter(sink, { flushIntervalMs: 60_000, batchSize: 10_000 });
    for (const r of records(2000)) writer.record(r);
    const flushed = writer.flush();
    await sink.worker.terminate();
    await flushed;
    expect(count(store)).toBe(2000);
    expect(writer.sinkMode).toBe('event-loop');
    expect(stops).toHaveLength(1);
    for (const r of records(5)) writer.record(r);
    await writer.flush();
    expect(count(store)).toBe(2005);
    const hourly = store.sqlite!.prepare('SELECT sum(requests) FROM usage_hourly').pluck().get();
    expect(hourly).toBe(2005);
  });

  it('batches it committed before it died are not written again', async () => {
    const { store, sink, stops } = await setup();
    await sink.started();
    await sink.insertMany(records(20));
    await sink.worker.terminate();
    expect(stops).toHaveLength(1);
    await sink.insertMany(records(3));
    expect(count(store)).toBe(23);
  });

  it('close() before the worker is up does not wait for its start-up', async () => {
    const { store, sink, stops } = await setup();
    await sink.insertMany(records(2));
    await sink.close();
    expect(sink.mode).toBe('event-loop');
    expect(stops).toEqual([]);
    expect(count(store)).toBe(2);
  });

  it('a worker that cannot start is reported and the batches are written on the event loop', async () => {
    const { store, sink, stops } = await setup();
    // Gone before it said ready: as if its start-up failed.
    await sink.worker.terminate();
    expect(await sink.started()).toBe('event-loop');
    expect(stops).toHaveLength(1);
    await sink.insertMany(records(4));
    expect(count(store)).toBe(4);
  });

  it('its commits do not read as changes elsewhere; another connection\'s still do, even amid its batches', async () => {
    const { store, path, sink } = await setup();
    await sink.started();
    await sink.insertMany(records(5));
    await settle(store, sink);

    // Only the worker wrote: the caches stay.
    await sink.insertMany(records(5));
    expect(store.changedElsewhere()).toBe(false);
    await sink.sync();
    expect(store.changedElsewhere()).toBe(false);

    const other = new BetterSqlite3(path);
    other.pragma('busy_timeout = 5000');
    const addRule = (cidr: string) => other.prepare("INSERT INTO ip_rules (id, list, cidr, created_at) VALUES (?, 'deny', ?, 0)").run(cidr, cidr);
    try {
      // Another process, no batch about: seen on the next check.
      addRule('10.0.0.1/32');
      expect(store.changedElsewhere()).toBe(true);
      expect(store.changedElsewhere()).toBe(false);

      // Another process committing between batches of ours: ambiguous at first, then seen.
      const a = sink.insertMany(records(200));
      addRule('10.0.0.2/32');
      await a;
      await sink.insertMany(records(5));
      let seen = store.changedElsewhere();
      await sink.sync();
      seen ||= store.changedElsewhere();
      expect(seen).toBe(true);
      await settle(store, sink);
    } finally {
      other.close();
    }
  });
});
