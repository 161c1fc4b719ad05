/** Gemini GenerateContentResponse -> OpenAI chat completion. */
import { errors } from '../../core/errors.js';
import type { ChatCompletion, ToolCall } from '../../core/openai-types.js';
import { arr, isRecord, newCompletionId, nowSeconds, str } from '../_shared/translate.js';
import { mapFinishReason } from './finish-reason.js';
import { toolCallId } from './tool-ids.js';
import { mapUsage } from './usage.js';
import type { SignedToolCallExtra } from './wire.js';

export type SignedToolCall = ToolCall & SignedToolCallExtra;

/** A candidate's parts -> text and tool calls. Thought summaries are not answer text. */
export function readParts(parts: unknown[], responseId: string | undefined, firstPosition: number): { text: string; calls: SignedToolCall[] } {
  let text = '';
  const calls: SignedToolCall[] = [];
  for (const part of parts) {
    if (!isRecord(part) || part.thought === true) continue;
    if (typeof part.text === 'string') text += part.text;
    else if (isRecord(part.functionCall)) {
      const fc = part.functionCall;
      const name = str(fc.name) ?? '';
      const call: SignedToolCall = {
        id: toolCallId(fc.id, responseId, firstPosition + calls.length, name),
        type: 'function',
        function: { name, arguments: JSON.stringify(isRecord(fc.args) ? fc.args : {}) },
      };
      const sig = str(part.thoughtSignature);
      if (sig) call.extra_content = { google: { thought_signature: sig } };
      calls.push(call);
    }
  }
  return { text, calls };
}

export function fromGeminiResponse(body: unknown, model: string): ChatCompletion {
  if (!isRecord(body) || (!Array.isArray(body.candidates) && !isRecord(body.promptFeedback))) throw errors.upstreamBadResponse('Gemini');
  const responseId = str(body.responseId);
  const candidate = arr(body.candidates).find(isRecord) ?? {};
  const content = isRecord(candidate.content) ? candidate.content : {};
  const { text, calls } = readParts(arr(content.parts), responseId, 0);
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null };
  if (calls.length) message.tool_calls = calls;
  // A prompt blocked before any candidate has promptFeedback.blockReason and no candidates.
  const blocked = !arr(body.candidates).length;
  return {
    id: responseId ? `chatcmpl-${responseId}` : newCompletionId(),
    object: 'chat.completion',
    created: nowSeconds(),
    model: str(body.modelVersion) ?? model,
    choices: [{ index: 0, message, finish_reason: blocked ? 'content_filter' : (mapFinishReason(candidate.finishReason, calls.length > 0) ?? 'stop'), logprobs: null }],
    usage: mapUsage(body.usageMetadata),
  };
}
