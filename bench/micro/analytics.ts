/**
 * Micro-benchmark: analytics over 1,000,000 request records (30 days, 50 keys, 6 models),
 * written through the real repository (records + hourly rollup), in a temp SQLite file and,
 * when reachable, a temp PostgreSQL database (KEYGATE_TEST_POSTGRES_URL).
 *   npx tsx bench/micro/analytics.ts            (ANALYTICS_BENCH_RECORDS=100000 for a quick run)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { openStore, type Store } from '../../src/store/connect.js';
import { RequestRepository, type RequestRecord } from '../../src/store/repositories/requests.js';
import { UsageAnalytics } from '../../src/usage/analytics.js';
import { createTempDatabase, postgresAvailable } from '../../test/support/services.js';

export interface BenchRow {
  name: string;
  meanUs: number;
  opsPerSec: number;
}

const N = Number(process.env.ANALYTICS_BENCH_RECORDS ?? 1_000_000);
const DAY = 86_400_000;
const END = Date.UTC(2031, 0, 31);
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'claude-sonnet-4-5', 'llama-3.1-8b-instant', 'unpriced'];

function record(i: number): RequestRecord {
  const status = i % 50 === 0 ? 500 : i % 23 === 0 ? 429 : 200;
  return {
    request_id: `b-${i}`,
    ts: END - 30 * DAY + Math.floor((i / N) * 30 * DAY),
    key_id: `key_${i % 50}`,
    user_id: `usr_${i % 10}`,
    app_id: `app_${i % 3}`,
    provider: i % 6 === 3 ? 'anthropic' : i % 6 === 4 ? 'groq' : 'openai',
    model: MODELS[i % 6],
    endpoint: 'chat',
    status,
    latency_ms: 40 + ((i * 7919) % 3000),
    prompt_tokens: 200 + (i % 300),
    completion_tokens: 50 + (i % 200),
    total_tokens: null,
    stream: i % 2,
    custody: 'server',
    error_code: status === 200 ? null : 'upstream_error',
    cost_micros: i % 6 === 5 ? null : 300 + (i % 1000),
    price_known: i % 6 === 5 ? 0 : 1,
    usage_estimated: 0,
  };
}

async function fill(store: Store): Promise<number> {
  const repo = new RequestRepository(store);
  const t0 = performance.now();
  const batch = 2_000; // a busy gateway's batches are smaller; this only fills the table
  for (let i = 0; i < N; i += batch) await repo.insertMany(Array.from({ length: Math.min(batch, N - i) }, (_, j) => record(i + j)));
  return performance.now() - t0;
}

async function time(name: string, n: number, fn: () => Promise<unknown>): Promise<BenchRow> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const ms = (performance.now() - t0) / n;
  return { name, meanUs: Math.round(ms * 1000), opsPerSec: Math.round(1000 / ms) };
}

async function measure(label: string, store: Store): Promise<BenchRow[]> {
  const fillMs = await fill(store);
  console.log(`${label}: ${N} records written (with rollups) in ${(fillMs / 1000).toFixed(1)} s`);
  const a = new UsageAnalytics(store);
  const range = { from: END - 30 * DAY, to: END };
  const rows = [
    await time(`${label} summary 30 days (${N} records)`, 20, () => a.summary(range)),
    await time(`${label} summary 30 days group_by=key,model`, 20, () => a.summary(range, ['key', 'model'])),
    await time(`${label} timeseries day x provider`, 20, () => a.timeseries(range, 'day', ['provider'])),
    await time(`${label} top 10 keys by cost`, 20, () => a.top(range, 'cost', 'key', 10)),
    await time(`${label} summary one key`, 20, () => a.summary({ ...range, key_id: 'key_7' })),
    await time(`${label} export first page (1000 rows)`, 20, async () => {
      for await (const _page of a.exportPages(range, 1000)) return;
    }),
  ];
  const raw = await time(`${label} same totals from raw records (no rollup)`, 3, () =>
    store.db.selectFrom('requests').select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('cost_micros').as('c')]).where('ts', '>=', range.from).where('ts', '<', range.to).execute(),
  );
  return [...rows, raw];
}

export async function run(): Promise<BenchRow[]> {
  const out: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-analytics-'));
  const sqlite = await openStore(`sqlite:${join(dir, 'bench.db')}`);
  try {
    out.push(...(await measure('sqlite', sqlite)));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (await postgresAvailable().catch(() => false)) {
    const db = await createTempDatabase();
    const pg = await openStore(db.url);
    try {
      out.push(...(await measure('postgres', pg)));
    } finally {
      await pg.close();
      await db.drop();
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows) console.log(`${r.name.padEnd(60)} ${(r.meanUs / 1000).toFixed(2).padStart(10)} ms`);
}
