/**
 * Incremental Server-Sent Events parser (WHATWG EventSource rules): feed it bytes as they
 * arrive, get whole events back. Parsed once here; provider code only maps events.
 */
import type { SseEvent } from '../../core/provider.js';

/** One block of the stream: its event (null for a comment-only block) and its text as it came, separator included. */
export interface RawSseBlock {
  ev: SseEvent | null;
  raw: string;
}

export class SseParser {
  #buffer = '';
  readonly #decoder = new TextDecoder();
  // The last byte fed was a whole character (ASCII): the decoder holds nothing back.
  #charAligned = true;

  /** Feeds a chunk; returns the events completed by it. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const events: SseEvent[] = [];
    for (const b of this.pushRaw(chunk)) if (b.ev) events.push(b.ev);
    return events;
  }

  /**
   * Feeds a chunk; returns every block completed by it with its text as it came: the raws
   * returned so far, followed by what is still buffered, are exactly the text fed in.
   */
  pushRaw(chunk: Uint8Array | string): RawSseBlock[] {
    if (typeof chunk === 'string') {
      this.#buffer += chunk;
      this.#charAligned = true;
    } else {
      this.#buffer += this.#decoder.decode(chunk, { stream: true });
      if (chunk.length > 0) this.#charAligned = chunk[chunk.length - 1] < 0x80;
    }
    const blocks: RawSseBlock[] = [];
    let start = 0;
    for (;;) {
      const end = findEventEnd(this.#buffer, start);
      if (end === -1) break;
      const next = end + separatorLength(this.#buffer, end);
      blocks.push({ ev: parseBlock(this.#buffer.slice(start, end)), raw: this.#buffer.slice(start, next) });
      start = next;
    }
    this.#buffer = start === this.#buffer.length ? '' : this.#buffer.slice(start);
    return blocks;
  }

  /** Nothing is buffered: every byte fed so far belongs to a block already returned. */
  get idle(): boolean {
    return this.#buffer === '' && this.#charAligned;
  }

  /** Flushes a final event that was not followed by a blank line. */
  end(): SseEvent[] {
    this.#buffer += this.#decoder.decode();
    const rest = this.#buffer;
    this.#buffer = '';
    const ev = rest.trim() ? parseBlock(rest) : null;
    return ev ? [ev] : [];
  }
}

/** Index of the blank line that ends the event starting at `from`, or -1. */
function findEventEnd(buf: string, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    // line break at i; is the next line empty?
    const next = c === 13 && buf.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
    if (next >= buf.length) return -1;
    const n = buf.charCodeAt(next);
    if (n === 10 || n === 13) return i;
  }
  return -1;
}

function separatorLength(buf: string, at: number): number {
  let i = at;
  // first line break
  i += buf.charCodeAt(i) === 13 && buf.charCodeAt(i + 1) === 10 ? 2 : 1;
  // blank line break
  i += buf.charCodeAt(i) === 13 && buf.charCodeAt(i + 1) === 10 ? 2 : 1;
  return i - at;
}

function parseBlock(block: string): SseEvent | null {
  let data: string[] | null = null;
  let event: string | undefined;
  let id: string | undefined;
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') (data ??= []).push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  }
  if (data === null && event === undefined) return null;
  const ev: SseEvent = { data: data ? data.join('\n') : '' };
  if (event !== undefined) ev.event = event;
  if (id !== undefined) ev.id = id;
  return ev;
}

/** Serialises an event for the client. */
export function formatSse(ev: SseEvent): string {
  let out = '';
  if (ev.event) out += `event: ${ev.event}\n`;
  for (const line of ev.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}
