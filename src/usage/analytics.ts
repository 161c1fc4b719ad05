/**
 * Usage analytics. Totals, time series and top spenders read the hourly rollup
 * (usage_hourly), so they cost the same with a thousand records or a hundred million;
 * ranges are therefore rounded out to whole UTC hours. Latency percentiles come from the
 * rollup's fixed histogram and are approximate (linear within a bucket). Only the export
 * reads raw records, one keyset page at a time.
 */
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Store } from '../store/connect.js';
import type { StoredRequestRecord } from '../store/repositories/requests.js';
import type { Database } from '../store/schema.js';
import { HOUR_MS, LATENCY_BUCKETS_MS, LATENCY_COLUMNS } from './rollup.js';

export const DAY_MS = 86_400_000;

/** Dimensions a query can group or filter by, and their rollup columns. */
export const DIMENSIONS = { key: 'key_id', user: 'user_id', app: 'app_id', provider: 'provider', model: 'model', status: 'status_class' } as const;
export type Dimension = keyof typeof DIMENSIONS;
type DimColumn = (typeof DIMENSIONS)[Dimension];

export interface AnalyticsFilter {
  /** Epoch ms, inclusive; rounded down to the hour for rollup queries. */
  from: number;
  /** Epoch ms, exclusive; the hour that contains it is included by rollup queries. */
  to: number;
  key_id?: string;
  user_id?: string;
  app_id?: string;
  provider?: string;
  model?: string;
}

export interface Metrics {
  requests: number;
  errors: number;
  errorRate: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costMicros: number;
  costUsd: number;
  /** Requests whose model had no price: their cost is not in costMicros. */
  unpricedRequests: number;
  /** Requests whose tokens were estimated (the provider reported none). */
  estimatedRequests: number;
  latency: { avgMs: number | null; p50Ms: number | null; p95Ms: number | null; approximate: true };
}

export type Group = Partial<Record<Dimension, string | null>>;
export type GroupMetrics = Group & Metrics;
export type Point = { t: number } & GroupMetrics;

const SUMS = ['requests', 'errors', 'unpriced', 'estimated', 'prompt_tokens', 'completion_tokens', 'cost_micros', 'latency_sum_ms', ...LATENCY_COLUMNS] as const;
type SumRow = Record<(typeof SUMS)[number], number | string | null>;

/** p-th percentile from histogram counts (upper bounds LATENCY_BUCKETS_MS, then +inf). */
export function histogramPercentile(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return null;
  const rank = p * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && seen + counts[i] >= rank) {
      // Past the last bound nothing is known but the bound itself.
      if (i >= LATENCY_BUCKETS_MS.length) return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
      const lo = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      return Math.round(lo + ((LATENCY_BUCKETS_MS[i] - lo) * (rank - seen)) / counts[i]);
    }
    seen += counts[i];
  }
  return null;
}

function metricsOf(row: SumRow): Metrics {
  const n = (k: (typeof SUMS)[number]) => Number(row[k] ?? 0);
  const requests = n('requests');
  const counts = LATENCY_COLUMNS.map((c) => n(c));
  const costMicros = n('cost_micros');
  return {
    requests,
    errors: n('errors'),
    errorRate: requests ? n('errors') / requests : 0,
    promptTokens: n('prompt_tokens'),
    completionTokens: n('completion_tokens'),
    totalTokens: n('prompt_tokens') + n('completion_tokens'),
    costMicros,
    costUsd: costMicros / 1e6,
    unpricedRequests: n('unpriced'),
    estimatedRequests: n('estimated'),
    latency: {
      avgMs: requests ? Math.round(n('latency_sum_ms') / requests) : null,
      p50Ms: histogramPercentile(counts, 0.5),
      p95Ms: histogramPercentile(counts, 0.95),
      approximate: true,
    },
  };
}

function groupOf(row: Record<string, unknown>, groupBy: readonly Dimension[]): Group {
  // '' in the rollup means "none" (no user, no app): reported as null.
  return Object.fromEntries(groupBy.map((d) => [d, row[DIMENSIONS[d]] === '' ? null : String(row[DIMENSIONS[d]])]));
}

export class UsageAnalytics {
  constructor(private readonly store: Store) {}

  #rollup(f: AnalyticsFilter) {
    let q = this.store.db
      .selectFrom('usage_hourly')
      .where('hour', '>=', Math.floor(f.from / HOUR_MS) * HOUR_MS)
      .where('hour', '<', f.to);
    for (const col of ['key_id', 'user_id', 'app_id', 'provider', 'model'] as const) {
      const v = f[col];
      if (v !== undefined) q = q.where(col, '=', v);
    }
    return q.select((eb) => SUMS.map((s) => eb.fn.sum<number>(s).as(s)));
  }

  /** Totals over the range, and per group when `groupBy` names dimensions. */
  async summary(f: AnalyticsFilter, groupBy: readonly Dimension[] = []): Promise<{ totals: Metrics; groups?: GroupMetrics[] }> {
    const totals = metricsOf((await this.#rollup(f).executeTakeFirst()) as SumRow);
    if (groupBy.length === 0) return { totals };
    const cols = groupBy.map((d) => DIMENSIONS[d]) as DimColumn[];
    let q = this.#rollup(f).select(cols).groupBy(cols);
    for (const c of cols) q = q.orderBy(c);
    const rows = await q.execute();
    return { totals, groups: rows.map((r) => ({ ...groupOf(r, groupBy), ...metricsOf(r as SumRow) })) };
  }

  /** One point per UTC hour or day that has data (and per group). */
  async timeseries(f: AnalyticsFilter, bucket: 'hour' | 'day', groupBy: readonly Dimension[] = []): Promise<Point[]> {
    const t = bucket === 'hour' ? sql<number>`hour` : sql<number>`(hour / ${sql.lit(DAY_MS)}) * ${sql.lit(DAY_MS)}`;
    const cols = groupBy.map((d) => DIMENSIONS[d]) as DimColumn[];
    let q = this.#rollup(f)
      .select(t.as('t'))
      .select(cols)
      .groupBy([t, ...cols.map((c) => sql.ref(c))])
      .orderBy(t);
    for (const c of cols) q = q.orderBy(c);
    const rows = await q.execute();
    return rows.map((r) => ({ t: Number(r.t), ...groupOf(r, groupBy), ...metricsOf(r as SumRow) }));
  }

  /** The biggest spenders by cost, tokens or requests, grouped by one dimension. */
  async top(f: AnalyticsFilter, by: 'cost' | 'tokens' | 'requests', dim: Dimension, limit: number): Promise<GroupMetrics[]> {
    const col = DIMENSIONS[dim];
    const order =
      by === 'cost' ? sql`SUM(cost_micros)` : by === 'tokens' ? sql`SUM(prompt_tokens) + SUM(completion_tokens)` : sql`SUM(requests)`;
    const rows = await this.#rollup(f).select(col).groupBy(col).orderBy(order, 'desc').orderBy(col).limit(limit).execute();
    return rows.map((r) => ({ ...groupOf(r, [dim]), ...metricsOf(r as SumRow) }));
  }

  /**
   * Raw records of a range, page by page in (ts, id) order: a keyset cursor, so each page is
   * one indexed query and memory holds one page, whatever the range.
   */
  async *exportPages(f: AnalyticsFilter, pageSize = 1000): AsyncGenerator<StoredRequestRecord[]> {
    let after: { ts: number; id: number } | null = null;
    for (;;) {
      const cursor: { ts: number; id: number } | null = after;
      let q = this.store.db.selectFrom('requests').selectAll().where('ts', '>=', f.from).where('ts', '<', f.to);
      for (const col of ['key_id', 'user_id', 'app_id', 'provider', 'model'] as const) {
        const v = f[col];
        if (v !== undefined) q = q.where(col, '=', v);
      }
      if (cursor) q = q.where((eb) => afterCursor(eb, cursor));
      const page = await q.orderBy('ts').orderBy('id').limit(pageSize).execute();
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      const last = page[page.length - 1];
      after = { ts: Number(last.ts), id: Number(last.id) };
    }
  }
}

function afterCursor(eb: ExpressionBuilder<Database, 'requests'>, c: { ts: number; id: number }): Expression<SqlBool> {
  return eb.or([eb('ts', '>', c.ts), eb.and([eb('ts', '=', c.ts), eb('id', '>', c.id)])]);
}
