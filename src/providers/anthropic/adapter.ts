import { PROVIDER_ADAPTER_VERSION, type ProviderAdapter } from '../../core/provider.js';
import { mapAnthropicError } from './errors.js';
import { toAnthropicRequest, type AnthropicOptions } from './request.js';
import { fromAnthropicResponse } from './response.js';
import { createAnthropicStreamMapper } from './stream.js';
import { ANTHROPIC_VERSION } from './wire.js';

export type { AnthropicOptions } from './request.js';

/** Anthropic (Claude) through the Messages API, translated to and from OpenAI's format. */
export function createAnthropicAdapter(opts: AnthropicOptions = {}): ProviderAdapter {
  return {
    version: PROVIDER_ADAPTER_VERSION,
    id: 'anthropic',
    displayName: 'Anthropic',
    defaultBaseUrl: 'https://api.anthropic.com',
    env: { baseUrl: 'ANTHROPIC_BASE_URL', apiKey: 'ANTHROPIC_API_KEY' },
    openAICompatible: false,
    streamUsage: true,
    authHeaders: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION }),
    chat: {
      toUpstream: (req, model) => toAnthropicRequest(req, model, opts),
      fromUpstream: fromAnthropicResponse,
      createStreamMapper: createAnthropicStreamMapper,
    },
    mapError: mapAnthropicError,
  };
}

export const anthropic: ProviderAdapter = createAnthropicAdapter();
