/**
 * Azure OpenAI streams OpenAI chunks, with two differences handled here: a first chunk with
 * `choices: []` and only `prompt_filter_results`, and the usage chunk (asked for by the
 * request) which is merged into the finish chunk, as the other translated providers do.
 */
import { errors } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import type { SseEvent, StreamMapper } from '../../core/provider.js';
import { isRecord } from '../_shared/translate.js';

export function createAzureStreamMapper(): StreamMapper {
  let held: ChatCompletionChunk | null = null;
  let sawFinish = false;
  return {
    push(ev: SseEvent): ChatCompletionChunk[] {
      const data = ev.data.trim();
      // The gateway writes its own [DONE] after finish().
      if (!data || data === '[DONE]') return [];
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        throw errors.upstreamBadResponse('Azure OpenAI');
      }
      if (!isRecord(chunk)) return [];
      if (isRecord(chunk.error)) throw errors.upstreamUnreachable('Azure OpenAI');
      const c = chunk as unknown as ChatCompletionChunk;
      const choices = Array.isArray(c.choices) ? c.choices : [];
      if (!choices.length) {
        if (c.usage && held) {
          const out = { ...held, usage: c.usage };
          held = null;
          return [out];
        }
        return []; // prompt_filter_results only
      }
      const out: ChatCompletionChunk[] = held ? [held] : [];
      held = null;
      if (choices.some((ch) => ch.finish_reason)) {
        sawFinish = true;
        held = c;
      } else out.push(c);
      return out;
    },
    finish(): ChatCompletionChunk[] {
      if (!sawFinish) throw errors.upstreamUnreachable('Azure OpenAI');
      const out = held ? [held] : [];
      held = null;
      return out;
    },
  };
}
