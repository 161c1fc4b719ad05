/**
 * Small helpers shared by the translating adapters (providers whose wire format is not
 * OpenAI's). Nothing here knows a provider by name.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk, ChatCompletionRequest, ChatMessage, ContentPart, FinishReason, Usage } from '../../core/openai-types.js';

/** Factory options of every translating adapter. */
export interface TranslateOptions {
  /**
   * Drop OpenAI parameters the provider cannot honour instead of answering 400.
   * Off by default: a silently ignored `n: 3` or `logprobs: true` is a wrong answer.
   */
  dropUnsupportedParams?: boolean;
}

/** One OpenAI parameter a provider cannot honour, and when a value counts as "set". */
export interface UnsupportedRule {
  param: string;
  /** True when the value asks for something; defaults (n: 1, penalty 0, false) are fine. */
  isSet?: (value: unknown) => boolean;
}

const setByDefault = (v: unknown): boolean => v !== undefined && v !== null && v !== false;

/** Throws 400 naming the parameter and the provider, unless dropping is configured. */
export function checkUnsupported(
  req: ChatCompletionRequest,
  provider: string,
  rules: readonly UnsupportedRule[],
  opts: TranslateOptions,
): void {
  if (opts.dropUnsupportedParams) return;
  for (const rule of rules) {
    const v = req[rule.param];
    if ((rule.isSet ?? setByDefault)(v)) throw unsupportedParam(rule.param, provider, '', true);
  }
}

export function unsupportedParam(param: string, provider: string, detail = '', droppable = false): GatewayError {
  // Only top-level parameters can be dropped; a message's content cannot be left out silently.
  const fix = droppable ? 'Remove it, or have the operator set models.dropUnsupportedParams: true (gateway-wide) to drop such parameters.' : 'Remove it.';
  return new GatewayError(
    400,
    'invalid_request_error',
    'unsupported_parameter',
    `The parameter '${param}' is not supported by the ${provider} provider${detail ? ` (${detail})` : ''}. ${fix}`,
    { param },
  );
}

export function invalidForProvider(message: string, param?: string): GatewayError {
  return new GatewayError(400, 'invalid_request_error', 'invalid_request', message, { param });
}

/** Rules shared by providers that have no equivalent of these OpenAI features. */
export const notZero = (v: unknown): boolean => typeof v === 'number' && v !== 0;
export const positive = (v: unknown): boolean => typeof v === 'number' && v > 0;
export const notOne = (v: unknown): boolean => typeof v === 'number' && v !== 1;
export const nonEmpty = (v: unknown): boolean =>
  v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v as object).length > 0);

/** Text of a message whose content may be a string or parts; non-text parts are refused by the caller. */
export function textOf(content: ChatMessage['content']): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((p): p is ContentPart & { type: 'text'; text: string } => p.type === 'text' && typeof (p as { text?: unknown }).text === 'string')
    .map((p) => p.text)
    .join('\n');
}

/** `data:<mime>;base64,<data>` -> its parts; null for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  const m = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w-]+=[^;,]*)*;base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1], data: m[2] } : null;
}

/** Tool-call arguments arrive as a JSON string; providers want an object. */
export function parseToolArguments(args: string, provider: string): Record<string, unknown> {
  if (!args.trim()) return {};
  try {
    const v: unknown = JSON.parse(args);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw invalidForProvider(`A tool call's arguments must be a JSON object to be sent to ${provider}.`, 'messages');
}

export function stopList(stop: ChatCompletionRequest['stop']): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = Array.isArray(stop) ? stop : [stop];
  return list.length ? list : undefined;
}

export function maxTokensOf(req: ChatCompletionRequest): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens ?? undefined;
}

// Narrow readers for untrusted upstream JSON.
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON text that holds an object, parsed; null for anything else (not JSON, an array, a string...). */
export function parseRecord(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : null;
  } catch {
    return null;
  }
}
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
export const newCompletionId = (): string => `chatcmpl-${randomUUID().replace(/-/g, '')}`;

/** Builds stream chunks with one id, model and timestamp for the whole stream. */
export class ChunkFactory {
  constructor(
    public id: string,
    public model: string,
    readonly created: number = nowSeconds(),
  ) {}

  delta(delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason = null, usage?: Usage): ChatCompletionChunk {
    const chunk: ChatCompletionChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
    if (usage) chunk.usage = usage;
    return chunk;
  }
}

/** Float32 little-endian base64, as OpenAI answers `encoding_format: base64` (the openai SDK's default). */
export function floatsToBase64(values: readonly number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

/**
 * What every translator dereferences, checked first: each tool and tool call names a
 * function, a forced tool_choice names one, and each content part is an object with a type.
 * A malformed body is a 400 naming the parameter, never a crash (the HTTP schema checks the
 * same; library callers reach the translators without it).
 */
export function checkRequestShape(req: ChatCompletionRequest, provider: string): void {
  const named = (f: unknown): boolean => isRecord(f) && typeof f.name === 'string' && f.name.length > 0;
  const tools: unknown = req.tools;
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) throw invalidForProvider("'tools' must be an array.", 'tools');
    tools.forEach((t: unknown, i) => {
      if (!isRecord(t)) throw invalidForProvider(`'tools[${i}]' must be an object.`, `tools[${i}]`);
      if (t.type !== undefined && t.type !== 'function') throw unsupportedParam(`tools[${i}].type '${String(t.type).slice(0, 40)}'`, provider);
      if (!named(t.function)) throw invalidForProvider(`'tools[${i}].function.name' must name the function.`, `tools[${i}].function.name`);
    });
  }
  const choice: unknown = req.tool_choice;
  if (isRecord(choice) && !named(choice.function)) throw invalidForProvider("'tool_choice.function.name' must name the function to call.", 'tool_choice.function.name');
  const messages: unknown[] = Array.isArray(req.messages) ? req.messages : [];
  messages.forEach((m, i) => {
    if (!isRecord(m)) throw invalidForProvider(`'messages[${i}]' must be an object.`, `messages[${i}]`);
    if (Array.isArray(m.content)) {
      m.content.forEach((p: unknown, j) => {
        if (!isRecord(p) || typeof p.type !== 'string') throw invalidForProvider(`'messages[${i}].content[${j}]' must be an object with a 'type'.`, `messages[${i}].content[${j}]`);
      });
    }
    if (m.tool_calls === undefined || m.tool_calls === null) return;
    if (!Array.isArray(m.tool_calls)) throw invalidForProvider(`'messages[${i}].tool_calls' must be an array.`, `messages[${i}].tool_calls`);
    m.tool_calls.forEach((c: unknown, j) => {
      if (!isRecord(c) || !named(c.function)) throw invalidForProvider(`'messages[${i}].tool_calls[${j}].function.name' must name the function called.`, `messages[${i}].tool_calls[${j}].function.name`);
      const args = (c.function as Record<string, unknown>).arguments;
      if (args !== undefined && typeof args !== 'string') throw invalidForProvider(`'messages[${i}].tool_calls[${j}].function.arguments' must be a JSON string.`, `messages[${i}].tool_calls[${j}].function.arguments`);
    });
  });
}
