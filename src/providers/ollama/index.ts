import { openAICompatible } from '../_shared/openai-compatible.js';

// Ollama's OpenAI-compatible API under /v1; a local Ollama needs no key.
export const ollama = openAICompatible({
  id: 'ollama',
  displayName: 'Ollama',
  defaultBaseUrl: 'http://127.0.0.1:11434/v1',
  env: { baseUrl: 'OLLAMA_BASE_URL', apiKey: 'OLLAMA_API_KEY' },
  streamUsage: true,
  keyOptional: true,
});
