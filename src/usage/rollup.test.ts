/** The hourly rollup equals the raw records it was built from, on SQLite and PostgreSQL. */
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { RequestRepository } from '../store/repositories/requests.js';
import { UsageWriter } from './usage-writer.js';
import { foldHourly, latencyColumn, statusClass } from './rollup.js';
import { dialectTargets, mixedRecords } from './__tests__/analytics-support.js';

const { targets, cleanup } = await dialectTargets('rollup');
afterAll(cleanup);

describe('rollup helpers', () => {
  it('classifies statuses and latencies', () => {
    expect([200, 404, 429, 499, 500, 504].map(statusClass)).toEqual(['2xx', '4xx', '4xx', '499', '5xx', '5xx']);
    expect([0, 50, 51, 10_000, 10_001].map(latencyColumn)).toEqual(['lat_le_50', 'lat_le_50', 'lat_le_100', 'lat_le_10000', 'lat_inf']);
  });

  it('folds records of one hour and dimensions into one row', () => {
    const rows = foldHourly(mixedRecords(400));
    const total = rows.reduce((s, r) => s + r.requests, 0);
    expect(total).toBe(400);
    expect(new Set(rows.map((r) => [r.hour, r.key_id, r.user_id, r.app_id, r.provider, r.model, r.status_class].join('|'))).size).toBe(rows.length);
  });
});

describe.each(targets)('rollup on $name', (target) => {
  it('equals the raw records after batches of mixed calls (upserts merge across batches)', async () => {
    const store = await target.open();
    try {
      const writer = new UsageWriter(new RequestRepository(store), { flushIntervalMs: 10_000, batchSize: 10_000 });
      const records = mixedRecords(1_000);
      // Three uneven batches: the same hour and dimensions arrive in several of them.
      for (const part of [records.slice(0, 137), records.slice(137, 600), records.slice(600)]) {
        for (const r of part) writer.record(r);
        await writer.flush();
      }
      await writer.close();

      const raw = await sql<Record<string, number | string>>`
        SELECT (ts / 3600000) * 3600000 AS hour, COALESCE(key_id, '') AS key_id, COALESCE(user_id, '') AS user_id,
          COALESCE(app_id, '') AS app_id, provider, model, COUNT(*) AS requests,
          COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens, COALESCE(SUM(completion_tokens), 0) AS completion_tokens,
          COALESCE(SUM(cost_micros), 0) AS cost_micros, SUM(latency_ms) AS latency_sum_ms,
          SUM(CASE WHEN price_known = 0 THEN 1 ELSE 0 END) AS unpriced
        FROM requests GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`.execute(store.db);
      const rolled = await sql<Record<string, number | string>>`
        SELECT hour, key_id, user_id, app_id, provider, model, SUM(requests) AS requests,
          SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
          SUM(cost_micros) AS cost_micros, SUM(latency_sum_ms) AS latency_sum_ms, SUM(unpriced) AS unpriced
        FROM usage_hourly GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6`.execute(store.db);
      const norm = (rows: Array<Record<string, number | string>>) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])));
      expect(raw.rows.length).toBeGreaterThan(20);
      expect(norm(rolled.rows)).toEqual(norm(raw.rows));

      // Errors and the histogram: totals over the whole table.
      const h = await store.db
        .selectFrom('usage_hourly')
        .select((eb) => [eb.fn.sum<number>('errors').as('errors'), eb.fn.sum<number>('lat_inf').as('inf'), eb.fn.sum<number>('estimated').as('est')])
        .executeTakeFirstOrThrow();
      const expected = foldHourly(records).reduce((s, r) => ({ errors: s.errors + r.errors, inf: s.inf + r.lat_inf, est: s.est + r.estimated }), { errors: 0, inf: 0, est: 0 });
      expect({ errors: Number(h.errors), inf: Number(h.inf), est: Number(h.est) }).toEqual(expected);
      expect(expected.errors).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
