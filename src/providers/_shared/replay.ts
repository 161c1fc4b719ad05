/**
 * Replays a recorded SSE body through the shared parser and a stream mapper, as the
 * gateway does, in pieces of `pieceSize` bytes so events straddle chunk boundaries.
 */
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import type { StreamMapper } from '../../core/provider.js';
import { SseParser } from './sse.js';

export function replaySse(body: string, mapper: StreamMapper, pieceSize = 7): ChatCompletionChunk[] {
  const parser = new SseParser();
  const bytes = new TextEncoder().encode(body);
  const out: ChatCompletionChunk[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) {
    for (const ev of parser.push(bytes.subarray(i, i + pieceSize))) out.push(...mapper.push(ev));
  }
  for (const ev of parser.end()) out.push(...mapper.push(ev));
  out.push(...mapper.finish());
  return out;
}
