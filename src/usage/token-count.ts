/**
 * Token counts for answers the provider reported no usage for, with js-tiktoken's o200k_base
 * encoding (OpenAI's current models; for other providers' models it is an estimate, and the
 * record says so). The encoding's tables take a moment to build (0.5-3 s, blocking): the
 * gateway builds them at start-up when a provider it serves reports no stream usage
 * (warmTokenCounter), otherwise they are built on the first estimate. Very long texts
 * are counted on their first part and scaled, so one estimate never holds the event loop long.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import type { ChatCompletionRequest, EmbeddingsRequest } from '../core/openai-types.js';

/** Beyond this many characters a text is counted on its start and scaled. */
const COUNT_LIMIT = 32_768;
// Per message, OpenAI's chat format adds a few tokens of framing (role, separators).
const PER_MESSAGE = 3;
const PER_REPLY = 3;

let encoder: Tiktoken | null = null;

/** Builds the encoding now (start-up), so that no request waits for it. */
export function warmTokenCounter(): void {
  encoder ??= new Tiktoken(o200k);
}

/** Whether the encoding is built (the gateway warms it when a served provider needs it). */
export function tokenCounterWarm(): boolean {
  return encoder !== null;
}

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  warmTokenCounter();
  if (text.length <= COUNT_LIMIT) return encoder!.encode(text).length;
  const head = encoder!.encode(text.slice(0, COUNT_LIMIT)).length;
  return Math.ceil((head * text.length) / COUNT_LIMIT);
}

/** The text of a content field: a string, or the text parts of an array (images count nothing here). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') out += (part as { text: string }).text;
  }
  return out;
}

/** Prompt tokens of an OpenAI-shaped request: messages (with their framing) or embeddings input. */
export function promptTokens(body: ChatCompletionRequest | EmbeddingsRequest): number {
  if ('messages' in body && Array.isArray(body.messages)) {
    let n = PER_REPLY;
    for (const m of body.messages) {
      n += PER_MESSAGE + countTokens(m.role ?? '') + countTokens(contentText(m.content));
      if (m.tool_calls) n += countTokens(JSON.stringify(m.tool_calls));
    }
    if (body.tools) n += countTokens(JSON.stringify(body.tools));
    return n;
  }
  const input = (body as EmbeddingsRequest).input;
  if (typeof input === 'string') return countTokens(input);
  if (Array.isArray(input)) return input.reduce<number>((n, x) => n + (typeof x === 'string' ? countTokens(x) : Array.isArray(x) ? x.length : 0), 0);
  return 0;
}
