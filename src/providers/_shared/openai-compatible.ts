/**
 * Factory for providers that speak OpenAI's wire format. Such a provider is a plain object
 * of a few lines (see providers/groq/index.ts); bodies and SSE events are forwarded as
 * they are, with only the model name rewritten.
 */
import { PROVIDER_ADAPTER_VERSION, type ProviderAdapter } from '../../core/provider.js';

export interface OpenAICompatibleSpec {
  id: string;
  displayName: string;
  defaultBaseUrl: string;
  env: { baseUrl: string; apiKey: string };
  /** Accepts `stream_options: {include_usage: true}`. */
  streamUsage?: boolean;
  keyOptional?: boolean;
  /** Models listed by GET /v1/models when the config lists none. */
  models?: readonly string[];
}

export function openAICompatible(spec: OpenAICompatibleSpec): ProviderAdapter & { models: readonly string[] } {
  return {
    version: PROVIDER_ADAPTER_VERSION,
    id: spec.id,
    displayName: spec.displayName,
    defaultBaseUrl: spec.defaultBaseUrl,
    env: spec.env,
    openAICompatible: true,
    streamUsage: spec.streamUsage ?? true,
    keyOptional: spec.keyOptional ?? false,
    models: spec.models ?? [],
    authHeaders: (apiKey: string) => ({ authorization: `Bearer ${apiKey}` }),
  };
}
