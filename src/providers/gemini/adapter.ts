import { PROVIDER_ADAPTER_VERSION, type ProviderAdapter } from '../../core/provider.js';
import { geminiEmbeddings } from './embeddings.js';
import { mapGeminiError } from './errors.js';
import { toGeminiRequest, type GeminiOptions } from './request.js';
import { fromGeminiResponse } from './response.js';
import { createGeminiStreamMapper } from './stream.js';

export type { GeminiOptions } from './request.js';

/** Google Gemini through the Gemini API (v1beta), translated to and from OpenAI's format. */
export function createGeminiAdapter(opts: GeminiOptions = {}): ProviderAdapter {
  return {
    version: PROVIDER_ADAPTER_VERSION,
    id: 'gemini',
    displayName: 'Gemini',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
    env: { baseUrl: 'GEMINI_BASE_URL', apiKey: 'GEMINI_API_KEY' },
    openAICompatible: false,
    streamUsage: true,
    // The key goes in this header, never in a `?key=` query string that logs and proxies keep.
    authHeaders: (apiKey) => ({ 'x-goog-api-key': apiKey }),
    chat: {
      toUpstream: (req, model) => toGeminiRequest(req, model, opts),
      fromUpstream: fromGeminiResponse,
      createStreamMapper: createGeminiStreamMapper,
    },
    embeddings: geminiEmbeddings,
    mapError: mapGeminiError,
  };
}

export const gemini: ProviderAdapter = createGeminiAdapter();
