import type { Usage } from '../../core/openai-types.js';
import { isRecord, num } from '../_shared/translate.js';

/**
 * Gemini usageMetadata -> OpenAI usage. Thinking tokens are billed as output, and OpenAI
 * counts reasoning inside completion_tokens, so they are added there and reported apart.
 */
export function mapUsage(meta: unknown): Usage {
  const u = isRecord(meta) ? meta : {};
  const prompt = num(u.promptTokenCount) + num(u.toolUsePromptTokenCount);
  const thoughts = num(u.thoughtsTokenCount);
  const completion = num(u.candidatesTokenCount) + thoughts;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: num(u.totalTokenCount) || prompt + completion };
  const cached = num(u.cachedContentTokenCount);
  if (cached) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}
