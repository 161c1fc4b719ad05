import { openAICompatible } from '../_shared/openai-compatible.js';

export const groq = openAICompatible({
  id: 'groq',
  displayName: 'Groq',
  defaultBaseUrl: 'https://api.groq.com/openai/v1',
  env: { baseUrl: 'GROQ_BASE_URL', apiKey: 'GROQ_API_KEY' },
  streamUsage: true,
  models: ['llama-3.1-8b-instant', 'llama-3.3-70b-versatile'],
});
