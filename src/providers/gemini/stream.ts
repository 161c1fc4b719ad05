/**
 * Gemini `streamGenerateContent?alt=sse` -> OpenAI chunks. Each event's data is a whole
 * GenerateContentResponse holding the next slice of the answer; function calls arrive
 * whole (not in fragments); the last event carries finishReason and usageMetadata.
 * There is no terminating sentinel: the stream ends after the finishReason event.
 */
import { errors } from '../../core/errors.js';
import type { ChatCompletionChunk, FinishReason } from '../../core/openai-types.js';
import type { SseEvent, StreamMapper } from '../../core/provider.js';
import { ChunkFactory, arr, isRecord, newCompletionId, str } from '../_shared/translate.js';
import { streamError } from './errors.js';
import { mapFinishReason } from './finish-reason.js';
import { readParts } from './response.js';
import { mapUsage } from './usage.js';

export function createGeminiStreamMapper(model: string): StreamMapper {
  const chunks = new ChunkFactory(newCompletionId(), model);
  let started = false;
  let toolCount = 0;
  let responseId: string | undefined;
  let finishRaw: unknown;
  let blocked = false;
  let usageMeta: unknown = null;

  return {
    push(ev: SseEvent): ChatCompletionChunk[] {
      if (!ev.data.trim()) return [];
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        throw errors.upstreamBadResponse('Gemini');
      }
      if (!isRecord(data)) return [];
      if (isRecord(data.error)) throw streamError(data);
      const out: ChatCompletionChunk[] = [];
      if (!started) {
        started = true;
        responseId = str(data.responseId);
        if (responseId) chunks.id = `chatcmpl-${responseId}`;
        chunks.model = str(data.modelVersion) ?? chunks.model;
        out.push(chunks.delta({ role: 'assistant', content: '' }));
      }
      if (data.usageMetadata) usageMeta = data.usageMetadata;
      if (isRecord(data.promptFeedback) && data.promptFeedback.blockReason && !arr(data.candidates).length) blocked = true;
      const candidate = arr(data.candidates).find(isRecord);
      if (!candidate) return out;
      const content = isRecord(candidate.content) ? candidate.content : {};
      const { text, calls } = readParts(arr(content.parts), responseId, toolCount);
      if (text) out.push(chunks.delta({ content: text }));
      if (calls.length) {
        out.push(chunks.delta({
          tool_calls: calls.map((c, i) => ({ index: toolCount + i, id: c.id, type: 'function' as const, function: { ...c.function }, ...(c.extra_content ? { extra_content: c.extra_content } : {}) })),
        }));
        toolCount += calls.length;
      }
      if (candidate.finishReason) finishRaw = candidate.finishReason;
      return out;
    },
    finish(): ChatCompletionChunk[] {
      // Without a finishReason the upstream closed mid-answer: say so rather than end cleanly.
      if (finishRaw === undefined && !blocked) throw errors.upstreamUnreachable('Gemini');
      const finish: FinishReason = blocked ? 'content_filter' : (mapFinishReason(finishRaw, toolCount > 0) ?? 'stop');
      const out: ChatCompletionChunk[] = started ? [] : [chunks.delta({ role: 'assistant', content: '' })];
      out.push(chunks.delta({}, finish, mapUsage(usageMeta)));
      return out;
    },
  };
}
