/** The store against both dialects: the same tests, real SQLite and real PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTempDatabase, postgresAvailable } from '../../test/support/services.js';
import { hashKey } from '../auth/keygate-keys.js';
import { UsageWriter } from '../usage/usage-writer.js';
import { openStore, type Store } from './connect.js';
import { ApiKeyRepository } from './repositories/api-keys.js';
import { RequestRepository, type RequestRecord } from './repositories/requests.js';

interface Target {
  name: string;
  url: () => Promise<string>;
  cleanup: () => Promise<void>;
}

const tmp = mkdtempSync(join(tmpdir(), 'keygate-store-'));
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const d of drops) await d();
  rmSync(tmp, { recursive: true, force: true });
});

const pgUp = await postgresAvailable();
const targets: Target[] = [
  { name: 'sqlite', url: async () => `sqlite:${join(tmp, `${Math.random().toString(36).slice(2)}.db`)}`, cleanup: async () => undefined },
];
if (pgUp) {
  targets.push({
    name: 'postgres',
    url: async () => {
      const db = await createTempDatabase();
      drops.push(db.drop);
      return db.url;
    },
    cleanup: async () => undefined,
  });
}

const record = (i: number, over: Partial<RequestRecord> = {}): RequestRecord => ({
  request_id: `req-${i}`,
  ts: 1_700_000_000_000 + i,
  key_id: 'key_x',
  provider: 'openai',
  model: 'gpt-4o-mini',
  endpoint: 'chat',
  status: 200,
  latency_ms: 12,
  prompt_tokens: 10,
  completion_tokens: 5,
  total_tokens: 15,
  stream: 0,
  custody: 'server',
  error_code: null,
  ...over,
});

describe.each(targets)('store on $name', (target) => {
  let url: string;
  let store: Store;

  it('migrates an empty database, and migrating again is a no-op', async () => {
    url = await target.url();
    store = await openStore(url);
    const again = await openStore(url);
    await again.close();
    await store.ping();
  });

  it('creates keys that are stored only as hashes', async () => {
    const repo = new ApiKeyRepository(store);
    const { record: rec, key } = await repo.create({ name: 'app1', scopes: ['read', 'write'] });
    expect(key).toMatch(/^kg-[A-Za-z0-9_-]{43}$/);
    expect(rec.key_hash).toBe(hashKey(key));
    const rows = await store.db.selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(key);
    expect((await repo.findByHash(hashKey(key)))?.name).toBe('app1');
    expect(await repo.findByHash(hashKey(`${key}x`))).toBeUndefined();
    expect(await repo.count()).toBe(1);
  });

  it('revokes by name or id, once', async () => {
    const repo = new ApiKeyRepository(store);
    const { record: rec } = await repo.create({ name: 'app2' });
    expect(await repo.revoke(rec.id)).toBe(1);
    expect(await repo.revoke(rec.id)).toBe(0);
    expect((await repo.list()).find((r) => r.id === rec.id)?.revoked_at).not.toBeNull();
  });

  it('tells a second connection that something changed', async () => {
    const other = await openStore(url);
    try {
      expect(other.changedElsewhere()).toBe(false);
      await new ApiKeyRepository(store).create({ name: 'app3' });
      // PostgreSQL notifications arrive asynchronously; SQLite sees it at once.
      let seen = other.changedElsewhere();
      for (let i = 0; i < 100 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 10));
        seen = other.changedElsewhere();
      }
      expect(seen).toBe(true);
      expect(other.changedElsewhere()).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('writes usage records in batches and keeps every one', async () => {
    const repo = new RequestRepository(store);
    await repo.insertMany(Array.from({ length: 1200 }, (_, i) => record(i)));
    const n = await store.db.selectFrom('requests').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1200);
    const r = await repo.findByRequestId('req-7');
    expect(r).toMatchObject({ provider: 'openai', ts: 1_700_000_000_007, total_tokens: 15 });
    expect(typeof r?.ts).toBe('number');
  });

  it('the usage writer flushes on a full batch and on close', async () => {
    const repo = new RequestRepository(store);
    const writer = new UsageWriter(repo, { flushIntervalMs: 60_000, batchSize: 3 });
    for (let i = 0; i < 4; i++) writer.record(record(10_000 + i, { request_id: `w-${i}` }));
    await writer.flush();
    expect(writer.pending).toBe(0);
    writer.record(record(20_000, { request_id: 'w-last' }));
    await writer.close();
    expect(await repo.findByRequestId('w-last')).toBeDefined();
    expect(await repo.findByRequestId('w-3')).toBeDefined();
  });

  it('closes', async () => {
    await store.close();
  });
});
