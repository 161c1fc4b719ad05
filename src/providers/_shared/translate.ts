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
    if ((rule.isSet ?? setByDefault)(v)) throw unsupportedParam(rule.param, provider);
  }
}

export function unsupportedParam(param: string, provider: string, detail = ''): GatewayError {
  return new GatewayError(
    400,
    'invalid_request_error',
    'unsupported_parameter',
    `The parameter '${param}' is not supported by the ${provider} provider${detail ? ` (${detail})` : ''}. Remove it, or set dropUnsupportedParams for this provider.`,
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
