/**
 * Coalesces repeated events so a flood cannot flood the audit log and the webhooks: per key
 * (an event type and the key or address it is about), the first event goes out at once with
 * `count: 1`; the ones after it within the window are only counted, and go out as one event
 * when the window ends, with their `count`; that event opens the next window. A steady flood
 * is thus one event per key per window. Memory is bounded: past `maxKeys` keys, new keys
 * share one overflow key per event type.
 */
export interface CoalesceOptions {
  windowMs: number;
  maxKeys?: number;
  now?: () => number;
}

interface Pending<E> {
  start: number;
  /** Events counted since this window's event went out. */
  count: number;
  last: E;
}

export class EventCoalescer<E> {
  readonly #pending = new Map<string, Pending<E>>();
  readonly #o: Required<CoalesceOptions>;
  readonly #emit: (event: E, count: number) => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: CoalesceOptions, emit: (event: E, count: number) => void) {
    this.#o = { maxKeys: 10_000, now: Date.now, ...opts };
    this.#emit = emit;
  }

  /** Takes one event: sent now if its key is quiet, else counted for the window's end. */
  offer(type: string, subject: string, event: E): void {
    let key = `${type}\u0001${subject}`;
    if (!this.#pending.has(key) && this.#pending.size >= this.#o.maxKeys) key = `${type}\u0001*`;
    const now = this.#o.now();
    const p = this.#pending.get(key);
    if (p && now - p.start < this.#o.windowMs) {
      p.count += 1;
      p.last = event;
      return;
    }
    if (p && p.count > 0) {
      // The ended window's count goes out now and opens a new window, which counts this event.
      this.#emit(p.last, p.count);
      this.#pending.set(key, { start: now, count: 1, last: event });
    } else {
      this.#emit(event, 1);
      this.#pending.set(key, { start: now, count: 0, last: event });
    }
    this.#arm();
  }

  /** Sends what the ended windows counted; quiet keys are forgotten. */
  tick(): void {
    const now = this.#o.now();
    for (const [key, p] of this.#pending) {
      if (now - p.start < this.#o.windowMs) continue;
      if (p.count === 0) {
        this.#pending.delete(key);
        continue;
      }
      this.#emit(p.last, p.count);
      // The summary is this new window's one event.
      this.#pending.set(key, { start: now, count: 0, last: p.last });
    }
    if (this.#pending.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /** Sends everything still counted (shutdown: nothing is lost). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const p of this.#pending.values()) if (p.count > 0) this.#emit(p.last, p.count);
    this.#pending.clear();
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), Math.max(50, Math.floor(this.#o.windowMs / 4)));
    this.#timer.unref();
  }
}
