import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../connect.js';
import { RequestRepository, type RequestRecord } from './requests.js';

// The SQLite fast path must store exactly what the Kysely path stores, defaults included.
describe('SQLite usage batch writer', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  const records: RequestRecord[] = [
    { request_id: 'a', ts: 3_600_000 * 5 + 10, key_id: 'k1', provider: 'openai', model: 'gpt-4o', endpoint: 'chat', status: 200, latency_ms: 12, prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, stream: 0, custody: 'server', error_code: null, cost_micros: 7, price_known: 1 },
    { request_id: 'b', ts: 3_600_000 * 5 + 20, key_id: null, provider: 'groq', model: 'llama', endpoint: 'chat', status: 502, latency_ms: 900, prompt_tokens: null, completion_tokens: null, total_tokens: null, stream: 1, custody: 'client', error_code: 'upstream_error', cost_micros: null, price_known: 0, user_id: undefined },
    { request_id: 'c', ts: 3_600_000 * 5 + 30, key_id: 'k1', provider: 'openai', model: 'gpt-4o', endpoint: 'chat', status: 200, latency_ms: 40, prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, stream: 0, custody: 'server', error_code: null, cost_micros: 3, price_known: 1 },
  ];

  it('writes the same rows and rollup as the query-builder path', async () => {
    const fast = await openStore('sqlite::memory:');
    const built = await openStore('sqlite::memory:');
    stores.push(fast, built);
    expect(fast.sqlite).toBeDefined();
    await new RequestRepository(fast).insertMany(records);
    await new RequestRepository(fast).insertMany(records.slice(0, 1).map((r) => ({ ...r, request_id: 'd' })));
    // The same Store without its raw handle takes the Kysely path.
    const viaKysely = new RequestRepository({ ...built, sqlite: undefined } as Store);
    await viaKysely.insertMany(records);
    await viaKysely.insertMany(records.slice(0, 1).map((r) => ({ ...r, request_id: 'd' })));

    const rows = async (s: Store) => (await s.db.selectFrom('requests').selectAll().orderBy('request_id').execute()).map(({ id: _id, ...r }) => r);
    const hourly = async (s: Store) => s.db.selectFrom('usage_hourly').selectAll().orderBy('provider').execute();
    const fastRows = await rows(fast);
    expect(fastRows).toHaveLength(4);
    expect(fastRows).toEqual(await rows(built));
    expect(fastRows.find((r) => r.request_id === 'b')).toMatchObject({ price_known: 0, usage_estimated: 0, cost_micros: null });
    const fastHourly = await hourly(fast);
    expect(fastHourly.find((h) => h.provider === 'openai')).toMatchObject({ requests: 3, prompt_tokens: 21, cost_micros: 17 });
    expect(fastHourly).toEqual(await hourly(built));
  });

  it('leaves absent columns to their defaults', async () => {
    const s = await openStore('sqlite::memory:');
    stores.push(s);
    const { price_known: _p, cost_micros: _c, ...bare } = records[0];
    await new RequestRepository(s).insertMany([bare]);
    expect(await s.db.selectFrom('requests').select(['price_known', 'usage_estimated', 'cost_micros']).executeTakeFirst()).toEqual({ price_known: 0, usage_estimated: 0, cost_micros: null });
  });

  it('writes the table\'s own columns only: a key that is not one never reaches the SQL text', async () => {
    const s = await openStore('sqlite::memory:');
    stores.push(s);
    const bad = { ...records[0], 'x") VALUES (1); --': 1 } as unknown as RequestRecord;
    await new RequestRepository(s).insertMany([bad]);
    expect(await s.db.selectFrom('requests').select(['request_id', 'cost_micros']).execute()).toEqual([{ request_id: 'a', cost_micros: 7 }]);
  });

  it('booleans are stored as 0/1', async () => {
    const s = await openStore('sqlite::memory:');
    stores.push(s);
    await new RequestRepository(s).insertMany([{ ...records[0], stream: true as unknown as number, price_known: false as unknown as number }]);
    expect(await s.db.selectFrom('requests').select(['stream', 'price_known']).executeTakeFirst()).toEqual({ stream: 1, price_known: 0 });
  });
});
