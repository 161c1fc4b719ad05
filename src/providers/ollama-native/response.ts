/** Ollama native `/api/chat` answers (JSON and NDJSON stream lines) -> OpenAI shapes. */
import { errors, errorTypeForStatus } from '../../core/errors.js';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, ToolCall, Usage } from '../../core/openai-types.js';
import type { MappedUpstreamError, SseEvent, StreamMapper } from '../../core/provider.js';
import { ChunkFactory, arr, isRecord, newCompletionId, num, nowSeconds, str } from '../_shared/translate.js';

function usageOf(body: Record<string, unknown>): Usage {
  const prompt = num(body.prompt_eval_count);
  const completion = num(body.eval_count);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function finishOf(reason: unknown, hasTools: boolean): FinishReason {
  if (reason === 'length') return 'length';
  return hasTools ? 'tool_calls' : 'stop';
}

/** Ollama tool calls have no ids; they are numbered in answer order. */
function toolCalls(message: Record<string, unknown>, first: number, prefix: string): ToolCall[] {
  return arr(message.tool_calls).filter(isRecord).map((c, i) => {
    const fn = isRecord(c.function) ? c.function : {};
    return { id: str(c.id) ?? `call_${prefix}_${first + i}`, type: 'function' as const, function: { name: str(fn.name) ?? '', arguments: JSON.stringify(isRecord(fn.arguments) ? fn.arguments : {}) } };
  });
}

export function fromOllamaResponse(body: unknown, model: string): ChatCompletion {
  if (!isRecord(body) || !isRecord(body.message)) throw errors.upstreamBadResponse('Ollama');
  const id = newCompletionId();
  const calls = toolCalls(body.message, 0, id.slice(9, 21));
  const text = str(body.message.content) ?? '';
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null };
  if (calls.length) message.tool_calls = calls;
  return {
    id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: str(body.model) ?? model,
    choices: [{ index: 0, message, finish_reason: finishOf(body.done_reason, calls.length > 0), logprobs: null }],
    usage: usageOf(body),
  };
}

export function createOllamaStreamMapper(model: string): StreamMapper {
  const chunks = new ChunkFactory(newCompletionId(), model);
  let started = false;
  let tools = 0;
  let done = false;
  return {
    push(ev: SseEvent): ChatCompletionChunk[] {
      let line: unknown;
      try {
        line = JSON.parse(ev.data);
      } catch {
        throw errors.upstreamBadResponse('Ollama');
      }
      if (!isRecord(line) || done) return [];
      if (typeof line.error === 'string') throw errors.upstreamUnreachable('Ollama');
      const out: ChatCompletionChunk[] = [];
      if (!started) {
        started = true;
        out.push(chunks.delta({ role: 'assistant', content: '' }));
      }
      const msg = isRecord(line.message) ? line.message : {};
      const text = str(msg.content);
      if (text) out.push(chunks.delta({ content: text }));
      const calls = toolCalls(msg, tools, chunks.id.slice(9, 21));
      if (calls.length) {
        out.push(chunks.delta({ tool_calls: calls.map((c, i) => ({ index: tools + i, ...c })) }));
        tools += calls.length;
      }
      if (line.done === true) {
        done = true;
        out.push(chunks.delta({}, finishOf(line.done_reason, tools > 0), usageOf(line)));
      }
      return out;
    },
    finish(): ChatCompletionChunk[] {
      if (!done) throw errors.upstreamUnreachable('Ollama');
      return [];
    },
  };
}

/** Ollama errors are `{error: "message"}`; the status carries the kind. */
export function mapOllamaError(status: number, body: unknown): MappedUpstreamError {
  const message = isRecord(body) ? str(body.error) : undefined;
  return {
    status: status >= 500 ? 502 : status,
    type: errorTypeForStatus(status),
    code: status === 404 ? 'model_not_found' : 'upstream_error',
    message: message?.slice(0, 2000) ?? `The Ollama upstream answered with status ${status}.`,
  };
}
