/**
 * Micro-benchmark: the usage batch write (records + hourly rollup, one transaction), per record.
 * On SQLite it runs on the event loop, so its cost is paid by every request in flight.
 *   npx tsx bench/micro/usage-writer.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/store/connect.js';
import { RequestRepository, type RequestRecord } from '../../src/store/repositories/requests.js';

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

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kg-bench-usage-'));
  const store = await openStore(`sqlite:${join(dir, 'keygate.db')}`);
  try {
    const repo = new RequestRepository(store);
    for (let i = 0; i < 20; i++) await repo.insertMany(batch(BATCH, i * BATCH));
    const rounds = 100;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) await repo.insertMany(batch(BATCH, (20 + i) * BATCH));
    const ms = performance.now() - t0;
    const n = rounds * BATCH;
    return [{ name: `sqlite batch insert + rollup, per record (batches of ${BATCH})`, meanUs: (ms * 1000) / n, opsPerSec: Math.round((n / ms) * 1000) }];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.name}: ${r.meanUs.toFixed(2)} us (${r.opsPerSec} ops/s)`);
}
