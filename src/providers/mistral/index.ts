import { openAICompatible } from '../_shared/openai-compatible.js';

// Mistral reports usage in the last stream chunk on its own and does not take stream_options.
export const mistral = openAICompatible({
  id: 'mistral',
  displayName: 'Mistral',
  defaultBaseUrl: 'https://api.mistral.ai/v1',
  env: { baseUrl: 'MISTRAL_BASE_URL', apiKey: 'MISTRAL_API_KEY' },
  streamUsage: false,
  models: ['mistral-large-latest', 'mistral-small-latest', 'mistral-embed'],
});
