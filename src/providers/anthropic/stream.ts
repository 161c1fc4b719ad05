/**
 * Anthropic SSE -> OpenAI chunks (event sequence per https://docs.anthropic.com/en/docs/build-with-claude/streaming):
 * message_start, then per content block content_block_start / _delta / _stop, then
 * message_delta (stop_reason, cumulative output usage) and message_stop; ping at any time;
 * error mid-stream. Usage rides on the final chunk, the one with finish_reason.
 */
import { errors } from '../../core/errors.js';
import type { ChatCompletionChunk, FinishReason } from '../../core/openai-types.js';
import type { SseEvent, StreamMapper } from '../../core/provider.js';
import { ChunkFactory, isRecord, newCompletionId, num, str } from '../_shared/translate.js';
import { streamError } from './errors.js';
import { mapStopReason } from './stop-reason.js';
import { mapUsage } from './usage.js';
import { JSON_TOOL_NAME } from './wire.js';

type BlockKind = { kind: 'text' } | { kind: 'tool'; toolIndex: number } | { kind: 'json' } | { kind: 'other' };

export function createAnthropicStreamMapper(model: string): StreamMapper {
  const chunks = new ChunkFactory(newCompletionId(), model);
  const blocks = new Map<number, BlockKind>();
  let toolCount = 0;
  let sawJsonTool = false;
  // message_start's usage, overlaid by message_delta's (cumulative; newer API versions repeat input counts there).
  let usage: Record<string, unknown> = {};
  let stopReason: unknown = null;
  let started = false;
  let done = false;

  const role = (): ChatCompletionChunk[] => {
    if (started) return [];
    started = true;
    return [chunks.delta({ role: 'assistant', content: '' })];
  };

  return {
    push(ev: SseEvent): ChatCompletionChunk[] {
      if (done || ev.event === 'ping' || !ev.data) return [];
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        throw errors.upstreamBadResponse('Anthropic');
      }
      if (!isRecord(data)) return [];
      switch (ev.event ?? data.type) {
        case 'message_start': {
          const msg = isRecord(data.message) ? data.message : {};
          chunks.id = str(msg.id) ?? chunks.id;
          chunks.model = str(msg.model) ?? chunks.model;
          if (isRecord(msg.usage)) usage = { ...msg.usage };
          return role();
        }
        case 'content_block_start': {
          const index = num(data.index);
          const block = isRecord(data.content_block) ? data.content_block : {};
          if (block.type === 'text') {
            blocks.set(index, { kind: 'text' });
            const text = str(block.text);
            return [...role(), ...(text ? [chunks.delta({ content: text })] : [])];
          }
          if (block.type === 'tool_use' && block.name === JSON_TOOL_NAME) {
            blocks.set(index, { kind: 'json' });
            sawJsonTool = true;
            return role();
          }
          if (block.type === 'tool_use') {
            const toolIndex = toolCount++;
            blocks.set(index, { kind: 'tool', toolIndex });
            return [
              ...role(),
              chunks.delta({ tool_calls: [{ index: toolIndex, id: str(block.id) ?? '', type: 'function', function: { name: str(block.name) ?? '', arguments: '' } }] }),
            ];
          }
          blocks.set(index, { kind: 'other' });
          return role();
        }
        case 'content_block_delta': {
          const block = blocks.get(num(data.index));
          const delta = isRecord(data.delta) ? data.delta : {};
          if (delta.type === 'text_delta' && block?.kind === 'text') {
            const text = str(delta.text);
            return text ? [chunks.delta({ content: text })] : [];
          }
          if (delta.type === 'input_json_delta') {
            const part = str(delta.partial_json);
            if (!part) return [];
            if (block?.kind === 'json') return [chunks.delta({ content: part })];
            if (block?.kind === 'tool') return [chunks.delta({ tool_calls: [{ index: block.toolIndex, function: { arguments: part } }] })];
          }
          // thinking_delta, signature_delta, citations: nothing in OpenAI's chunk shape.
          return [];
        }
        case 'message_delta': {
          const delta = isRecord(data.delta) ? data.delta : {};
          if ('stop_reason' in delta) stopReason = delta.stop_reason;
          if (isRecord(data.usage)) {
            for (const [k, v] of Object.entries(data.usage)) if (typeof v === 'number') usage[k] = v;
          }
          return [];
        }
        case 'message_stop': {
          done = true;
          const finish: FinishReason = mapStopReason(stopReason, sawJsonTool && toolCount === 0) ?? 'stop';
          return [...role(), chunks.delta({}, finish, mapUsage(usage))];
        }
        case 'error':
          throw streamError(data);
        default:
          // content_block_stop and event types added later carry nothing to translate.
          return [];
      }
    },
    finish(): ChatCompletionChunk[] {
      // No message_stop: the upstream closed mid-answer. Say so rather than end cleanly.
      if (!done) throw errors.upstreamUnreachable('Anthropic');
      return [];
    },
  };
}
