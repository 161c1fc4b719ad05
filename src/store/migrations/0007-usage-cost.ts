import { sql } from 'kysely';
import type { AnyDb, MigrationFactory } from './dialect.js';

/** Latency histogram bucket columns of usage_hourly, upper bounds in ms (the last is +inf). */
export const LATENCY_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
export const LATENCY_COLUMNS = ['lat_le_50', 'lat_le_100', 'lat_le_250', 'lat_le_500', 'lat_le_1000', 'lat_le_2500', 'lat_le_5000', 'lat_le_10000', 'lat_inf'] as const;

/**
 * Cost on every request record, and an hourly rollup that analytics read instead of the raw
 * records (which retention prunes). Rollup dimensions are NOT NULL ('' = none): a NULL in a
 * unique key never conflicts, so ON CONFLICT would never merge those rows.
 */
export const usageCost: MigrationFactory = (t) => ({
  async up(db: AnyDb) {
    await db.schema.alterTable('requests').addColumn('cost_micros', t.bigint).execute();
    await db.schema.alterTable('requests').addColumn('price_known', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('requests').addColumn('usage_estimated', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('requests').addColumn('user_id', 'text').execute();
    await db.schema.alterTable('requests').addColumn('app_id', 'text').execute();

    let table = db.schema
      .createTable('usage_hourly')
      .addColumn('hour', t.bigint, (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('user_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('app_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('status_class', 'text', (c) => c.notNull());
    for (const col of ['requests', 'errors', 'unpriced', 'estimated', 'prompt_tokens', 'completion_tokens', 'cost_micros', 'latency_sum_ms', ...LATENCY_COLUMNS]) {
      table = table.addColumn(col, t.bigint, (c) => c.notNull().defaultTo(0));
    }
    await table.execute();
    await db.schema
      .createIndex('usage_hourly_dims')
      .on('usage_hourly')
      .columns(['hour', 'key_id', 'user_id', 'app_id', 'provider', 'model', 'status_class'])
      .unique()
      .execute();
    await db.schema.createIndex('usage_hourly_key_hour').on('usage_hourly').columns(['key_id', 'hour']).execute();

    // Records written before this migration: rolled up once, their cost unknown.
    const lat = LATENCY_BUCKETS_MS.map((b, i) => sql.raw(`SUM(CASE WHEN latency_ms <= ${b}${i ? ` AND latency_ms > ${LATENCY_BUCKETS_MS[i - 1]}` : ''} THEN 1 ELSE 0 END)`));
    const statusClass = sql.raw(`CASE WHEN status = 499 THEN '499' WHEN status >= 500 THEN '5xx' WHEN status >= 400 THEN '4xx' ELSE '2xx' END`);
    await sql`INSERT INTO usage_hourly (hour, key_id, user_id, app_id, provider, model, status_class, requests, errors, unpriced, estimated,
        prompt_tokens, completion_tokens, cost_micros, latency_sum_ms, ${sql.raw(LATENCY_COLUMNS.join(', '))})
      SELECT (ts / 3600000) * 3600000, COALESCE(key_id, ''), '', '', provider, model, ${statusClass}, COUNT(*),
        SUM(CASE WHEN (status >= 400 AND status <> 499) OR (status < 400 AND error_code IS NOT NULL) THEN 1 ELSE 0 END),
        COUNT(*), 0, COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), 0, SUM(latency_ms),
        ${sql.join(lat)}, SUM(CASE WHEN latency_ms > 10000 THEN 1 ELSE 0 END)
      FROM requests GROUP BY (ts / 3600000) * 3600000, COALESCE(key_id, ''), provider, model, ${statusClass}`.execute(db);
  },
});
