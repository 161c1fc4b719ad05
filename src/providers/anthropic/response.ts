/** Anthropic Message -> OpenAI chat completion. */
import { errors } from '../../core/errors.js';
import type { ChatCompletion, ToolCall } from '../../core/openai-types.js';
import { arr, isRecord, newCompletionId, nowSeconds, str } from '../_shared/translate.js';
import { mapStopReason } from './stop-reason.js';
import { mapUsage } from './usage.js';
import { JSON_TOOL_NAME } from './wire.js';

export function fromAnthropicResponse(body: unknown, model: string): ChatCompletion {
  if (!isRecord(body) || !Array.isArray(body.content)) throw errors.upstreamBadResponse('Anthropic');
  let text = '';
  let jsonTool = false;
  let jsonText = '';
  const toolCalls: ToolCall[] = [];
  for (const block of arr(body.content)) {
    if (!isRecord(block)) continue;
    if (block.type === 'text') text += str(block.text) ?? '';
    else if (block.type === 'tool_use') {
      const args = JSON.stringify(block.input ?? {});
      if (block.name === JSON_TOOL_NAME) {
        jsonTool = true;
        jsonText += args;
      } else toolCalls.push({ id: str(block.id) ?? '', type: 'function', function: { name: str(block.name) ?? '', arguments: args } });
    }
    // thinking / redacted_thinking blocks have no place in the OpenAI message.
  }
  // JSON mode: the forced tool's input is the answer; a text preamble would make it invalid JSON.
  if (jsonTool) text = jsonText;
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text || (toolCalls.length ? null : ''), refusal: null };
  if (toolCalls.length) message.tool_calls = toolCalls;
  return {
    id: str(body.id) ?? newCompletionId(),
    object: 'chat.completion',
    created: nowSeconds(),
    model: str(body.model) ?? model,
    choices: [{ index: 0, message, finish_reason: mapStopReason(body.stop_reason, jsonTool && !toolCalls.length) ?? 'stop', logprobs: null }],
    usage: mapUsage(body.usage),
  };
}
