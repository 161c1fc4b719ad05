/**
 * Keeps a stream the shield did not change byte for byte. The redactors hold back text that
 * may be the start of a match (a few characters of plain text too), which would cut the
 * upstream's deltas differently; instead, while any channel holds text, whole upstream events
 * wait here, and once nothing is held they go out exactly as they came. The first change (a
 * redaction) ends that: the waiting events and all later ones go out as screened, their text
 * held back and released delta by delta as on every other native stream. So does a wait of
 * more than MAX_WAITING events: a pattern without literals (personal data set to redact)
 * holds its last characters back all the time, and the stream must not wait for its end.
 */
import type { SseEvent } from '../../../core/provider.js';

/** Upstream events that may wait for held text to clear before the stream goes out as screened. */
export const MAX_WAITING = 16;

export class CleanGate<T> {
  readonly #queue: Array<{ original: SseEvent; screened: T }> = [];
  // Per channel, the upstream's text not released yet: what the channel holds while unchanged.
  readonly #pending = new Map<string, string>();
  #dirty = false;

  /** `render` turns a screened event (and whatever it carries) into the events to send. */
  constructor(private readonly render: (screened: T) => SseEvent[]) {}

  /** Whether the stream was changed: events now go out as screened. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Channel `key` took upstream text `text` (may be '') and released `out`. */
  track(key: string, text: string, out: string): void {
    if (this.#dirty) return;
    const pending = (this.#pending.get(key) ?? '') + text;
    if (pending.startsWith(out)) this.#pending.set(key, pending.slice(out.length));
    else this.#dirty = true;
  }

  /** Something other than a channel's text changed (a tool call screened whole). */
  changed(): void {
    this.#dirty = true;
  }

  /** One upstream event in, with its screened form; the events to send now. */
  pass(original: SseEvent, screened: T): SseEvent[] {
    this.#queue.push({ original, screened });
    if (this.#queue.length > MAX_WAITING) this.#dirty = true;
    if (!this.#dirty) {
      for (const p of this.#pending.values()) if (p) return [];
    }
    return this.#drain();
  }

  /** End of the stream: whatever still waits (screened forms, or `extra` held text when changed). */
  end(extra: () => T[]): SseEvent[] {
    // Unchanged: the waiting upstream events carry every character already, held or not.
    const more = extra();
    if (!this.#dirty) return this.#drain();
    return [...this.#drain(), ...more.flatMap((t) => this.render(t))];
  }

  #drain(): SseEvent[] {
    const out = this.#queue.flatMap((q) => (this.#dirty ? this.render(q.screened) : [q.original]));
    this.#queue.length = 0;
    return out;
  }
}
