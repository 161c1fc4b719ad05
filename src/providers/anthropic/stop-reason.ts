import type { FinishReason } from '../../core/openai-types.js';

/** Anthropic stop_reason -> OpenAI finish_reason (https://docs.anthropic.com/en/api/handling-stop-reasons). */
export function mapStopReason(reason: unknown, jsonTool = false): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      // The forced JSON tool is our device for response_format: to the client it is a plain answer.
      return jsonTool ? 'stop' : 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return reason === null || reason === undefined ? null : 'stop';
  }
}
