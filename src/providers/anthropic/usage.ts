import type { Usage } from '../../core/openai-types.js';
import { isRecord, num } from '../_shared/translate.js';

/**
 * Anthropic usage -> OpenAI usage. Anthropic's input_tokens excludes cached input, while
 * OpenAI's prompt_tokens includes it, so cache reads and writes are added back.
 */
export function mapUsage(input: unknown): Usage {
  const u = isRecord(input) ? input : {};
  const cacheRead = num(u.cache_read_input_tokens);
  const prompt = num(u.input_tokens) + cacheRead + num(u.cache_creation_input_tokens);
  const completion = num(u.output_tokens);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (cacheRead) usage.prompt_tokens_details = { cached_tokens: cacheRead };
  return usage;
}
