/** Retention with an injected clock: only old rows go, in batches; rollups outlive records. */
import { afterAll, describe, expect, it } from 'vitest';
import { RequestRepository } from '../store/repositories/requests.js';
import { DAY_MS } from './analytics.js';
import { dialectTargets, mixedRecords } from './__tests__/analytics-support.js';
import { RetentionJob } from './retention.js';

const { targets, cleanup } = await dialectTargets('retention');
afterAll(cleanup);

const NOW = Date.UTC(2031, 5, 1);

describe.each(targets)('retention on $name', (target) => {
  it('deletes only records older than retentionDays, 7 rows a statement, and keeps their rollups', async () => {
    const store = await target.open();
    try {
      const repo = new RequestRepository(store);
      const old = mixedRecords(30, NOW - 100 * DAY_MS).map((r, i) => ({ ...r, request_id: `old-${i}` }));
      const recent = mixedRecords(12, NOW - 10 * DAY_MS).map((r, i) => ({ ...r, request_id: `new-${i}` }));
      const ancient = mixedRecords(5, NOW - 800 * DAY_MS).map((r, i) => ({ ...r, request_id: `ancient-${i}` }));
      await repo.insertMany([...ancient, ...old, ...recent]);
      const rollupsBefore = await store.db.selectFrom('usage_hourly').select((eb) => eb.fn.sum<number>('requests').as('n')).executeTakeFirstOrThrow();
      expect(Number(rollupsBefore.n)).toBe(47);

      const job = new RetentionJob(store, { retentionDays: 90, rollupRetentionDays: 730, batchSize: 7, now: () => NOW });
      const result = await job.runOnce();
      expect(result.requests).toBe(35);
      // 35 rows at 7 a statement: 5 full batches and the empty one that ends the loop.
      expect(result.batches).toBe(6);
      const left = await store.db.selectFrom('requests').select('request_id').orderBy('id').execute();
      expect(left.map((r) => r.request_id)).toEqual(recent.map((r) => r.request_id));

      // The rollup keeps the pruned records' hours, except those beyond rollupRetentionDays.
      const rolled = await store.db.selectFrom('usage_hourly').select((eb) => [eb.fn.sum<number>('requests').as('n'), eb.fn.min<number>('hour').as('first')]).executeTakeFirstOrThrow();
      expect(Number(rolled.n)).toBe(42);
      expect(Number(rolled.first)).toBeGreaterThanOrEqual(NOW - 730 * DAY_MS);
      expect(result.rollups).toBeGreaterThan(0);

      // Nothing left to do: a second run deletes nothing.
      expect(await job.runOnce()).toMatchObject({ requests: 0, rollups: 0 });
      await job.stop();
    } finally {
      await store.close();
    }
  });
});
