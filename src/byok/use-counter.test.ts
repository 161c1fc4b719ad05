/** Use counting: batched, written only on flush, and nothing lost when a write fails. */
import { describe, expect, it } from 'vitest';
import type { UseTally } from './repository.js';
import { UseCounter } from './use-counter.js';

function fakeRepo(failures = 0) {
  const writes: Array<Record<string, UseTally>> = [];
  let left = failures;
  return {
    writes,
    async addUses(t: ReadonlyMap<string, UseTally>): Promise<void> {
      if (left-- > 0) throw new Error('store down');
      writes.push(Object.fromEntries([...t].map(([k, v]) => [k, { ...v }])));
    },
  };
}

describe('UseCounter', () => {
  it('gathers uses in memory and writes them in one batch', async () => {
    const repo = fakeRepo();
    const c = new UseCounter(repo, { flushIntervalMs: 60_000 });
    c.count('a', 100);
    c.count('a', 300);
    c.count('b', 200);
    c.count('a', 250);
    expect(repo.writes).toHaveLength(0); // nothing on the request path
    await c.flush();
    expect(repo.writes).toEqual([{ a: { count: 3, lastUsedAt: 300 }, b: { count: 1, lastUsedAt: 200 } }]);
    await c.flush();
    expect(repo.writes).toHaveLength(1); // nothing new, nothing written
    await c.close();
  });

  it('keeps the tallies of a failed write and adds them to the next one', async () => {
    const repo = fakeRepo(1);
    const errors: unknown[] = [];
    const c = new UseCounter(repo, { flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    c.count('a', 100);
    await c.flush();
    expect(errors).toHaveLength(1);
    c.count('a', 150);
    await c.close();
    expect(repo.writes).toEqual([{ a: { count: 2, lastUsedAt: 150 } }]);
  });
});
