/** Event coalescing with an injected clock: one event per key per window, with a count. */
import { describe, expect, it } from 'vitest';
import { EventCoalescer } from './coalesce.js';

function setup(maxKeys?: number) {
  let t = 1_000_000;
  const out: Array<{ e: string; count: number }> = [];
  const c = new EventCoalescer<string>({ windowMs: 60_000, maxKeys, now: () => t }, (e, count) => out.push({ e, count }));
  return { c, out, advance: (ms: number) => (t += ms) };
}

describe('EventCoalescer', () => {
  it('sends the first event at once, then one event per window with the count', () => {
    const { c, out, advance } = setup();
    for (let i = 0; i < 50; i++) c.offer('rate_limited', 'key_a', `e${i}`);
    expect(out).toEqual([{ e: 'e0', count: 1 }]);
    advance(60_000);
    c.tick();
    expect(out).toEqual([{ e: 'e0', count: 1 }, { e: 'e49', count: 49 }]);
    // The summary opened a window: more events within it wait for its end.
    for (let i = 50; i < 60; i++) c.offer('rate_limited', 'key_a', `e${i}`);
    expect(out).toHaveLength(2);
    advance(60_000);
    c.tick();
    expect(out.at(-1)).toEqual({ e: 'e59', count: 10 });
    // A quiet window forgets the key: the next event goes out at once.
    advance(60_000);
    c.tick();
    c.offer('rate_limited', 'key_a', 'later');
    expect(out.at(-1)).toEqual({ e: 'later', count: 1 });
    c.close();
  });

  it('keeps keys and types apart, and flushes counts on close', () => {
    const { c, out } = setup();
    c.offer('rate_limited', 'key_a', 'a1');
    c.offer('rate_limited', 'key_b', 'b1');
    c.offer('credential.rejected', 'key_a', 'r1');
    c.offer('rate_limited', 'key_a', 'a2');
    c.offer('rate_limited', 'key_a', 'a3');
    expect(out.map((o) => o.e)).toEqual(['a1', 'b1', 'r1']);
    c.close();
    expect(out.at(-1)).toEqual({ e: 'a3', count: 2 });
  });

  it('a late event after an ended window carries on the count without a second event in the window', () => {
    const { c, out, advance } = setup();
    c.offer('t', 's', 'x1');
    c.offer('t', 's', 'x2');
    advance(61_000);
    // No tick ran: the next offer sends the ended window's count and is counted in the new one.
    c.offer('t', 's', 'x3');
    expect(out).toEqual([{ e: 'x1', count: 1 }, { e: 'x2', count: 1 }]);
    c.close();
    expect(out.at(-1)).toEqual({ e: 'x3', count: 1 });
  });

  it('bounds memory: past maxKeys, new subjects share one key per type', () => {
    const { c, out } = setup(2);
    for (const s of ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5']) c.offer('credential.rejected', s, s);
    expect(out.map((o) => o.e)).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    c.close();
    expect(out.at(-1)).toEqual({ e: '5.5.5.5', count: 2 });
  });
});
