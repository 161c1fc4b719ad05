/**
 * The hourly rollup (usage_hourly): each batch of request records is folded into per-hour
 * rows in memory, then upserted in the batch's own transaction (INSERT ... ON CONFLICT DO
 * UPDATE adding the counts), so the rollup always equals the raw records it was built from.
 */
import type { Insertable, Kysely } from 'kysely';
import type { RequestRecord } from '../store/repositories/requests.js';
import { LATENCY_BUCKETS_MS, LATENCY_COLUMNS } from '../store/migrations/0007-usage-cost.js';
import type { Database, UsageHourlyTable } from '../store/schema.js';

export { LATENCY_BUCKETS_MS, LATENCY_COLUMNS };
export const HOUR_MS = 3_600_000;
export type LatencyColumn = (typeof LATENCY_COLUMNS)[number];
export type HourlyRow = Insertable<UsageHourlyTable> & Record<LatencyColumn | 'requests' | 'errors' | 'unpriced' | 'estimated' | 'prompt_tokens' | 'completion_tokens' | 'cost_micros' | 'latency_sum_ms', number>;

export const HOURLY_DIMENSIONS = ['hour', 'key_id', 'user_id', 'app_id', 'provider', 'model', 'status_class'] as const;
export const HOURLY_SUMS = ['requests', 'errors', 'unpriced', 'estimated', 'prompt_tokens', 'completion_tokens', 'cost_micros', 'latency_sum_ms', ...LATENCY_COLUMNS] as const;

export function statusClass(status: number): string {
  if (status === 499) return '499';
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return '2xx';
}

/** A client that went away (499) is not a gateway error; a 2xx stream cut short is. */
export function isError(status: number, errorCode: string | null | undefined): boolean {
  return status === 499 ? false : status >= 400 || errorCode != null;
}

export function latencyColumn(ms: number): LatencyColumn {
  const i = LATENCY_BUCKETS_MS.findIndex((b) => ms <= b);
  return LATENCY_COLUMNS[i < 0 ? LATENCY_COLUMNS.length - 1 : i];
}

/** Folds records into one row per (hour, dimensions). */
export function foldHourly(records: readonly RequestRecord[]): HourlyRow[] {
  const rows = new Map<string, HourlyRow>();
  for (const r of records) {
    const dims = {
      hour: Math.floor(r.ts / HOUR_MS) * HOUR_MS,
      key_id: r.key_id ?? '',
      user_id: r.user_id ?? '',
      app_id: r.app_id ?? '',
      provider: r.provider,
      model: r.model,
      status_class: statusClass(r.status),
    };
    const id = HOURLY_DIMENSIONS.map((d) => dims[d]).join('\u0000');
    let row = rows.get(id);
    if (!row) {
      row = { ...dims, ...(Object.fromEntries(HOURLY_SUMS.map((s) => [s, 0])) as Record<(typeof HOURLY_SUMS)[number], number>) };
      rows.set(id, row);
    }
    row.requests += 1;
    if (isError(r.status, r.error_code)) row.errors += 1;
    if (!r.price_known) row.unpriced += 1;
    if (r.usage_estimated) row.estimated += 1;
    row.prompt_tokens += r.prompt_tokens ?? 0;
    row.completion_tokens += r.completion_tokens ?? 0;
    row.cost_micros += r.cost_micros ?? 0;
    row.latency_sum_ms += r.latency_ms;
    row[latencyColumn(r.latency_ms)] += 1;
  }
  return [...rows.values()];
}

/** Upserts a batch's rollup rows; call inside the transaction that inserts the records. */
export async function upsertHourly(db: Kysely<Database>, records: readonly RequestRecord[]): Promise<void> {
  const rows = foldHourly(records);
  // 24 columns a row: 400 rows stay far under PostgreSQL's 65,535 bind parameters.
  for (let i = 0; i < rows.length; i += 400) {
    await db
      .insertInto('usage_hourly')
      .values(rows.slice(i, i + 400))
      .onConflict((oc) =>
        oc.columns([...HOURLY_DIMENSIONS]).doUpdateSet((eb) => Object.fromEntries(HOURLY_SUMS.map((s) => [s, eb(eb.ref(`usage_hourly.${s}`), '+', eb.ref(`excluded.${s}`))]))),
      )
      .execute();
  }
}
