/**
 * Micro-benchmark: the usage batch write (records + hourly rollup, one transaction), per record:
 * on the event loop (`:memory:`, or a worker that is not up), and through the usage worker
 * (a database file), where the event loop pays only the flattening and postMessage.
 *   npx tsx bench/micro/usage-writer.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/store/connect.js';
import { RequestRepository, type RequestRecord } from '../../src/store/repositories/requests.js';
import { UsageWorkerSink } from '../../src/usage/usage-worker-sink.js';

export interface BenchRow {
  name: string;
  meanUs: number;
  opsPerSec: number;
}

const BATCH = 200;

function batch(n: number, offset: number): RequestRecord[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    request_id: `req-${offset + i}`,
    ts: now,
    key_id: `key-${i % 7}`,
    user_id: null,
    app_id: null,
    provider: 'openai',
    model: i % 2 ? 'gpt-4o-mini' : 'gpt-4o',
    endpoint: 'chat',
    status: 200,
    latency_ms: 3,
    prompt_tokens: 120,
    completion_tokens: 40,
    total_tokens: 160,
    cost_micros: 42,
    price_known: 1,
    usage_estimated: 0,
    stream: 0,
    custody: 'server',
    split_key_id: null,
    error_code: null,
  }));
}

const row = (name: string, us: number): BenchRow => ({ name, meanUs: us, opsPerSec: Math.round(1e6 / us) });

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kg-bench-usage-'));
  const store = await openStore(`sqlite:${join(dir, 'keygate.db')}`);
  const rounds = 100;
  const n = rounds * BATCH;
  const out: BenchRow[] = [];
  try {
    const repo = new RequestRepository(store);
    for (let i = 0; i < 20; i++) await repo.insertMany(batch(BATCH, i * BATCH));
    let t0 = performance.now();
    for (let i = 0; i < rounds; i++) await repo.insertMany(batch(BATCH, (20 + i) * BATCH));
    out.push(row(`sqlite batch insert + rollup on the event loop, per record (batches of ${BATCH})`, ((performance.now() - t0) * 1000) / n));

    const sink = new UsageWorkerSink(store, repo, (err) => {
      throw err;
    });
    if ((await sink.started()) !== 'worker') throw new Error('the usage worker did not start');
    try {
      for (let i = 0; i < 20; i++) await sink.insertMany(batch(BATCH, (200 + i) * BATCH));
      let loop = 0;
      t0 = performance.now();
      for (let i = 0; i < rounds; i++) {
        const records = batch(BATCH, (300 + i) * BATCH);
        const s = performance.now();
        const done = sink.insertMany(records);
        loop += performance.now() - s;
        await done;
      }
      const total = performance.now() - t0;
      out.push(row(`usage worker: event-loop time per record (flatten + postMessage)`, (loop * 1000) / n));
      out.push(row(`usage worker: batch round trip per record (write in the worker + answer)`, (total * 1000) / n));
    } finally {
      await sink.close();
    }
    return out;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.name}: ${r.meanUs.toFixed(2)} us (${r.opsPerSec} ops/s)`);
}
