import { openAICompatible } from '../_shared/openai-compatible.js';

export const openai = openAICompatible({
  id: 'openai',
  displayName: 'OpenAI',
  defaultBaseUrl: 'https://api.openai.com/v1',
  env: { baseUrl: 'OPENAI_BASE_URL', apiKey: 'OPENAI_API_KEY' },
  streamUsage: true,
  models: ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large'],
});
