/**
 * Incremental newline-delimited JSON splitter with the SseParser's shape: bytes in, one
 * event per non-empty line out (`data` = the line). Lets NDJSON providers (Ollama's native
 * API) reuse the StreamMapper contract unchanged; the gateway picks the parser by the
 * adapter's `streamFormat`.
 */
import type { SseEvent } from '../../core/provider.js';

export class NdjsonParser {
  #buffer = '';
  readonly #decoder = new TextDecoder();

  push(chunk: Uint8Array | string): SseEvent[] {
    this.#buffer += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    const lines = this.#buffer.split('\n');
    this.#buffer = lines.pop() ?? '';
    return lines.map((l) => l.trim()).filter(Boolean).map((data) => ({ data }));
  }

  end(): SseEvent[] {
    const rest = (this.#buffer + this.#decoder.decode()).trim();
    this.#buffer = '';
    return rest ? [{ data: rest }] : [];
  }
}
