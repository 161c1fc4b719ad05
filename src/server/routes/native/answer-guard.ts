/**
 * The shield on native answers: the same checks as /v1/chat/completions (secrets, personal
 * data, exfiltration links, the system prompt leaking back), applied in each provider's own
 * shape so its SDK reads the answer as it would the provider's. Whole JSON answers are
 * redacted in place (or blocked); streams are redacted event by event, one stream redactor
 * per text or tool-argument channel.
 *
 *   OpenAI chat        choices[].message / choices[].delta.content and tool_calls arguments
 *   Anthropic messages content[] / content_block_delta text_delta, input_json_delta, thinking_delta
 *   Gemini generate    candidates[].content.parts[].text and functionCall args (JSON and streamGenerateContent SSE)
 *   OpenAI responses   output[] items: output_text, refusal, reasoning, function_call arguments (responses-stream.ts)
 *   Ollama chat/generate  message.content / response, thinking, tool_calls (JSON and NDJSON: ollama-stream.ts)
 *
 * Other native endpoints (embeddings, model lists, batches) pass through unscanned: docs/shield.md.
 */
import type { FastifyRequest } from 'fastify';
import type { ChatCompletionChunk } from '../../../core/openai-types.js';
import type { SseEvent } from '../../../core/provider.js';
import type { GuardPolicy, WireFormat } from '../../../guard/index.js';
import type { CompiledEndpoint, NativeProviderSpec } from '../../../providers/_shared/endpoint-whitelist.js';
import { isRecord, parseRecord } from '../../../providers/_shared/translate.js';
import type { GatewayContext } from '../../context.js';
import { AnswerStream, OpenAIChunkGuard, guardAnswer, leakFingerprint } from '../../steps/guard.js';
import { ollamaJson, ollamaStream } from './ollama-stream.js';
import { responsesJson, responsesStream } from './responses-stream.js';

export interface NativeAnswerGuard {
  /** A whole answer: the redacted answer, null when unchanged; throws a policy violation to block. */
  json(answer: unknown): unknown;
  stream(): NativeStreamGuard;
}

export interface NativeStreamGuard {
  /** One upstream event in; the events to send now out (redacted, possibly with held text released). */
  event(ev: SseEvent): SseEvent[];
  /** End of the upstream stream: held text still to send, and the threat record. */
  end(): SseEvent[];
}

type Shape = WireFormat;

/** Which native answers are screened, by the endpoint's shape. */
export function answerShape(spec: NativeProviderSpec, endpoint: CompiledEndpoint): Shape | null {
  if (endpoint.path === '/v1/chat/completions' && spec.id !== 'ollama') return 'openai';
  if (spec.id === 'anthropic' && endpoint.name === 'messages') return 'anthropic';
  if (spec.id === 'gemini' && (endpoint.name === 'generateContent' || endpoint.name === 'streamGenerateContent')) return 'gemini';
  if (spec.id === 'openai' && endpoint.method === 'POST' && endpoint.path === '/v1/responses') return 'responses';
  if (spec.id === 'ollama' && (endpoint.path === '/api/chat' || endpoint.path === '/api/generate')) return 'ollama';
  return null;
}

const streamOf: Record<Shape, (s: AnswerStream) => NativeStreamGuard> = {
  openai: openaiStream,
  anthropic: anthropicStream,
  gemini: geminiStream,
  responses: responsesStream,
  ollama: ollamaStream,
};

/** What a redacted whole answer loses besides its text, per shape (logprobs, token ids). */
const afterRedaction: Partial<Record<Shape, (original: unknown, guarded: unknown) => unknown>> = {
  responses: responsesJson,
  ollama: (_original, guarded) => ollamaJson(guarded),
};

export function nativeAnswerGuard(
  ctx: GatewayContext,
  req: FastifyRequest,
  policy: GuardPolicy,
  spec: NativeProviderSpec,
  endpoint: CompiledEndpoint,
  request: Record<string, unknown> | undefined,
): NativeAnswerGuard | null {
  const shape = answerShape(spec, endpoint);
  if (!policy.enabled || !shape) return null;
  const leak = leakFingerprint(policy, request ?? {}, shape, req);
  const after = afterRedaction[shape];
  return {
    json: (answer) => {
      const guarded = guardAnswer(ctx, req, policy, answer, shape, leak);
      return guarded !== null && after ? after(answer, guarded) : guarded;
    },
    stream: () => streamOf[shape](new AnswerStream(ctx, req, policy, leak)),
  };
}

const sse = (data: unknown, event?: string): SseEvent => (event ? { event, data: JSON.stringify(data) } : { data: JSON.stringify(data) });

function openaiStream(s: AnswerStream): NativeStreamGuard {
  const g = new OpenAIChunkGuard(s);
  // A second end() (after [DONE], then at the stream's close) gives nothing: the guard knows it ended.
  const end = (): SseEvent[] => g.end().map((c) => sse(c));
  return {
    event(ev) {
      if (ev.data.trim() === '[DONE]') return [...end(), ev];
      const chunk = parseRecord(ev.data);
      if (!chunk || !Array.isArray(chunk.choices)) return [ev];
      return g.chunk(chunk as unknown as ChatCompletionChunk).map((c) => sse(c));
    },
    end,
  };
}

/** Anthropic: a channel per content block; held text goes out as one more delta before the block stops. */
function anthropicStream(s: AnswerStream): NativeStreamGuard {
  const kinds = new Map<number, { type: string; field: 'text' | 'partial_json' | 'thinking' }>();
  let ended = false;
  const release = (index: number): SseEvent[] => {
    const kind = kinds.get(index);
    const held = s.flush(`${index}`);
    if (!kind || !held) return [];
    return [sse({ type: 'content_block_delta', index, delta: { type: kind.type, [kind.field]: held } }, 'content_block_delta')];
  };
  const releaseAll = (): SseEvent[] => [...kinds.keys()].flatMap(release);
  return {
    event(ev) {
      const data = parseRecord(ev.data);
      if (!data) return [ev];
      const index = typeof data.index === 'number' ? data.index : -1;
      if (data.type === 'content_block_delta' && isRecord(data.delta) && index >= 0) {
        const d = data.delta;
        const field = d.type === 'text_delta' ? 'text' : d.type === 'input_json_delta' ? 'partial_json' : d.type === 'thinking_delta' ? 'thinking' : null;
        const text = field ? d[field] : undefined;
        if (!field || typeof text !== 'string' || text.length === 0) return [ev];
        kinds.set(index, { type: String(d.type), field });
        const path = field === 'partial_json' ? `content[${index}].input` : `content[${index}].${field}`;
        d[field] = s.push(`${index}`, path, text, field !== 'partial_json');
        return [sse(data, ev.event)];
      }
      if (data.type === 'content_block_stop' && index >= 0) return [...release(index), ev];
      // Nothing may follow the end of the message: release whatever is still held, and record.
      if (data.type === 'message_delta' || data.type === 'message_stop') {
        const out = [...releaseAll(), ev];
        if (data.type === 'message_stop' && !ended) {
          ended = true;
          s.end();
        }
        return out;
      }
      return [ev];
    },
    end() {
      const out = releaseAll();
      if (!ended) {
        ended = true;
        s.end();
      }
      return out;
    },
  };
}

/** Gemini: a channel per candidate; held text is appended to the event that carries its finishReason. */
function geminiStream(s: AnswerStream): NativeStreamGuard {
  return {
    event(ev) {
      const data = parseRecord(ev.data);
      if (!data || !Array.isArray(data.candidates)) return [ev];
      data.candidates.forEach((cand: unknown, i: number) => {
        if (!isRecord(cand)) return;
        const idx = typeof cand.index === 'number' ? cand.index : i;
        const content = isRecord(cand.content) ? cand.content : null;
        const parts = content && Array.isArray(content.parts) ? content.parts : [];
        let lastText: Record<string, unknown> | null = null;
        parts.forEach((part: unknown, j: number) => {
          // A function call arrives whole: screened as one piece, in its own shape.
          if (isRecord(part) && isRecord(part.functionCall)) parts[j] = s.screenWhole({ candidates: [{ content: { parts: [part] } }] }, 'gemini').candidates[0].content.parts[0];
        });
        for (const part of parts) {
          if (!isRecord(part) || typeof part.text !== 'string') continue;
          lastText = part;
          if (part.text) part.text = s.push(`${idx}`, `candidates[${idx}].content.parts.text`, part.text);
        }
        if (cand.finishReason) {
          const held = s.flush(`${idx}`);
          if (!held) return;
          if (lastText) lastText.text = `${String(lastText.text)}${held}`;
          else if (content) content.parts = [...parts, { text: held }];
          else cand.content = { role: 'model', parts: [{ text: held }] };
        }
      });
      return [sse(data)];
    },
    end() {
      const out = s.flushAll().map(([key, held]) => sse({ candidates: [{ index: Number(key), content: { role: 'model', parts: [{ text: held }] } }] }));
      s.end();
      return out;
    },
  };
}
