/**
 * Micro-benchmark: reserve + settle on the in-process and Redis limit stores.
 *   npx tsx bench/micro/limits.ts
 * Redis rows need REDIS_URL (default redis://127.0.0.1:6379) and are skipped when unreachable.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createLimitStore, type LimitStore, type SubjectLimits } from '../../src/limits/index.js';

export interface BenchRow {
  name: string;
  meanUs: number;
  opsPerSec: number;
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// Limits high enough never to refuse: this measures the admitted path, the common one.
const BIG = 1_000_000_000;
const SINGLE: SubjectLimits[] = [{ subject: 'key:bench', limits: { rpm: BIG } }];
const TYPICAL: SubjectLimits[] = [
  { subject: 'key:bench', limits: { rpm: BIG, tpm: BIG, maxParallel: BIG, dailyRequests: BIG, monthlyBudgetUsd: 1e9 } },
  { subject: 'user:bench', limits: { dailyTokens: BIG, monthlyRequests: BIG } },
  { subject: 'app:bench', limits: { rpm: BIG, monthlyTokens: BIG } },
];

async function once(store: LimitStore, subjects: SubjectLimits[]): Promise<void> {
  const r = await store.reserve({ subjects, estimatedTokens: 500, estimatedCostMicros: 2_000 });
  if (!r.ok) throw new Error(`bench: refused by ${r.subject} ${r.limit}`);
  await r.settle({ tokens: 350, costMicros: 1_400 });
}

/** Sequential: mean latency of one reserve+settle. */
async function sequential(name: string, store: LimitStore, subjects: SubjectLimits[], n: number): Promise<BenchRow> {
  for (let i = 0; i < Math.min(n, 2_000); i++) await once(store, subjects);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once(store, subjects);
  const ms = performance.now() - t0;
  return { name, meanUs: (ms * 1000) / n, opsPerSec: Math.round((n / ms) * 1000) };
}

/** Concurrent: throughput with `inFlight` requests at once (as a busy gateway would). */
async function concurrent(name: string, store: LimitStore, subjects: SubjectLimits[], n: number, inFlight: number): Promise<BenchRow> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await once(store, subjects);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = performance.now() - t0;
  // Mean time per operation as seen by throughput, not per-call latency.
  return { name, meanUs: (ms * 1000) / n, opsPerSec: Math.round((n / ms) * 1000) };
}

async function redisReachable(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function deletePrefix(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = nextCursor;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const mem = createLimitStore({ timeZone: 'Europe/Paris' });
  try {
    rows.push(await sequential('limits memory reserve+settle (1 subject, rpm)', mem, SINGLE, 200_000));
    rows.push(await sequential('limits memory reserve+settle (3 subjects, 10 limits)', mem, TYPICAL, 200_000));
  } finally {
    await mem.close();
  }
  if (!(await redisReachable())) {
    console.warn(`limits bench: Redis unreachable at ${REDIS_URL}, redis rows skipped`);
    return rows;
  }
  const prefix = `keygate-bench:${process.pid}:`;
  const red = createLimitStore({ timeZone: 'Europe/Paris', redisUrl: REDIS_URL, keyPrefix: prefix });
  try {
    rows.push(await sequential('limits redis reserve+settle (1 subject, rpm)', red, SINGLE, 5_000));
    rows.push(await sequential('limits redis reserve+settle (3 subjects, 10 limits)', red, TYPICAL, 5_000));
    rows.push(await concurrent('limits redis reserve+settle (3 subjects, 64 in flight)', red, TYPICAL, 20_000, 64));
  } finally {
    await red.close();
    await deletePrefix(prefix);
  }
  return rows;
}

function printTable(rows: BenchRow[]): void {
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  console.log(`${'name'.padEnd(w)}  ${'mean µs'.padStart(10)}  ${'ops/s'.padStart(10)}`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.meanUs.toFixed(2).padStart(10)}  ${String(r.opsPerSec).padStart(10)}`);
}

// Run only when executed directly, not when imported by a bench runner.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(printTable, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
