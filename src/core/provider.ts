/**
 * The provider adapter contract, version 1. The core knows providers only through this
 * interface; each provider lives in its own folder under src/providers and imports nothing
 * but src/core and src/providers/_shared.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ErrorType,
} from './index.js';

export const PROVIDER_ADAPTER_VERSION = 1 as const;

/** One Server-Sent Event as parsed by providers/_shared/sse.ts. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

/** What an adapter asks the gateway to send. The base URL is never chosen here: it is server config. */
export interface UpstreamRequestSpec {
  /** Path (with query) appended to the provider's configured base URL. */
  path: string;
  body: unknown;
  /** Extra, non-secret headers (e.g. anthropic-version). */
  headers?: Record<string, string>;
}

/** Stateful per-stream translator from provider SSE events to OpenAI chunks. */
export interface StreamMapper {
  push(event: SseEvent): ChatCompletionChunk[];
  /** Called when the upstream stream ends; may emit a final chunk (finish reason, usage). */
  finish(): ChatCompletionChunk[];
}

export interface ChatTranslator {
  /** OpenAI request -> provider request. `model` is the provider's own model id (no prefix). */
  toUpstream(req: ChatCompletionRequest, model: string): UpstreamRequestSpec;
  /** Provider JSON response -> OpenAI response. */
  fromUpstream(body: unknown, model: string): ChatCompletion;
  createStreamMapper(model: string): StreamMapper;
}

export interface EmbeddingsTranslator {
  toUpstream(req: EmbeddingsRequest, model: string): UpstreamRequestSpec;
  /** `req` lets a translator honour request options the provider lacks (e.g. base64 encoding). */
  fromUpstream(body: unknown, model: string, req?: EmbeddingsRequest): EmbeddingsResponse;
}

export interface MappedUpstreamError {
  status: number;
  type: ErrorType;
  code: string;
  message: string;
}

export interface ProviderAdapter {
  readonly version: typeof PROVIDER_ADAPTER_VERSION;
  /** Registry id, e.g. 'openai', 'anthropic'. Used as the model prefix: `anthropic/claude-...`. */
  readonly id: string;
  readonly displayName: string;
  readonly defaultBaseUrl: string;
  /** Environment variables read for the base URL and the server-side key. */
  readonly env: { baseUrl: string; apiKey: string };
  /** Whether the provider speaks OpenAI's wire format, so bodies and SSE can be forwarded as they are. */
  readonly openAICompatible: boolean;
  /** Whether streamed answers can carry usage when asked (`stream_options.include_usage`). */
  readonly streamUsage: boolean;
  /** How the provider frames a streamed answer (default 'sse'; Ollama's native API uses NDJSON). */
  readonly streamFormat?: 'sse' | 'ndjson';
  /** Whether a call works without any key (e.g. a local Ollama). */
  readonly keyOptional?: boolean;
  /** Each model is its own upstream (an Azure deployment): the circuit breaker keys on provider and model. */
  readonly circuitPerModel?: boolean;
  /** Headers carrying the provider key. Keys go in headers, never in URLs. */
  authHeaders(apiKey: string): Record<string, string>;
  /** Chat translation; absent for openAICompatible providers (forwarded as they are). */
  readonly chat?: ChatTranslator;
  readonly embeddings?: EmbeddingsTranslator;
  /** Provider error body -> OpenAI error; the message must be redacted by the caller. */
  mapError?(status: number, body: unknown): MappedUpstreamError;
}
