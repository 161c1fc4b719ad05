/**
 * Ollama's native API (`/api/chat`, `/api/embed`): NDJSON streaming, not SSE. The adapter
 * declares `streamFormat: 'ndjson'` so the gateway splits lines with _shared/ndjson.ts
 * instead of SseParser (a contract addition; see docs/providers.md).
 */
import { errors } from '../../core/errors.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/openai-types.js';
import { PROVIDER_ADAPTER_VERSION, type ProviderAdapter } from '../../core/provider.js';
import { arr, floatsToBase64, invalidForProvider, isRecord, num } from '../_shared/translate.js';
import { modelName, toOllamaRequest, type OllamaNativeOptions } from './request.js';
import { createOllamaStreamMapper, fromOllamaResponse, mapOllamaError } from './response.js';

export type { OllamaNativeOptions } from './request.js';

export type NdjsonProviderAdapter = ProviderAdapter & { readonly streamFormat: 'ndjson' };

export function createOllamaNativeAdapter(opts: OllamaNativeOptions = {}): NdjsonProviderAdapter {
  return {
    version: PROVIDER_ADAPTER_VERSION,
    id: 'ollama-native',
    displayName: 'Ollama',
    defaultBaseUrl: 'http://127.0.0.1:11434',
    env: { baseUrl: 'OLLAMA_NATIVE_BASE_URL', apiKey: 'OLLAMA_API_KEY' },
    openAICompatible: false,
    streamUsage: true,
    keyOptional: true,
    streamFormat: 'ndjson',
    // A local Ollama ignores it; ollama.com and auth proxies take a bearer token.
    authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
    chat: {
      toUpstream: (req, model) => toOllamaRequest(req, model, opts),
      fromUpstream: fromOllamaResponse,
      createStreamMapper: createOllamaStreamMapper,
    },
    embeddings: {
      toUpstream(req: EmbeddingsRequest, model: string) {
        const input = req.input;
        if (typeof input !== 'string' && !(Array.isArray(input) && input.every((s) => typeof s === 'string'))) {
          throw invalidForProvider('Ollama embeddings take text input only (a string or an array of strings).', 'input');
        }
        return { path: '/api/embed', body: { model: modelName(model), input, ...(typeof req.dimensions === 'number' ? { dimensions: req.dimensions } : {}) } };
      },
      // Ollama has no encoding_format, and the openai SDK asks for base64 by default (and decodes it).
      fromUpstream(body: unknown, model: string, req?: EmbeddingsRequest): EmbeddingsResponse {
        if (!isRecord(body) || !Array.isArray(body.embeddings)) throw errors.upstreamBadResponse('Ollama');
        const prompt = num(body.prompt_eval_count);
        const base64 = req?.encoding_format === 'base64';
        return {
          object: 'list',
          data: arr(body.embeddings).map((e, index) => {
            const values = arr(e).filter((v): v is number => typeof v === 'number');
            return { object: 'embedding' as const, index, embedding: base64 ? floatsToBase64(values) : values };
          }),
          model,
          usage: { prompt_tokens: prompt, total_tokens: prompt },
        };
      },
    },
    mapError: mapOllamaError,
  };
}

export const ollamaNative: NdjsonProviderAdapter = createOllamaNativeAdapter();
