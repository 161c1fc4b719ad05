import type { FinishReason } from '../../core/openai-types.js';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** Gemini finishReason -> OpenAI finish_reason (https://ai.google.dev/api/generate-content#FinishReason). */
export function mapFinishReason(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (reason === undefined || reason === null) return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  // Gemini says STOP after a function call; OpenAI clients look for tool_calls.
  return hasToolCalls ? 'tool_calls' : 'stop';
}
