import { describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../config/schema.js';
import { ProviderRegistry } from './registry.js';

const registry = (input: ConfigInput, env: NodeJS.ProcessEnv = {}) => new ProviderRegistry(configSchema.parse(input), env, () => null);

describe('providers.<id> settings', () => {
  it('ollama-native takes the same settings as the other built-ins', () => {
    expect(registry({}).get('ollama-native')?.origin).toBe('http://127.0.0.1:11434');
    expect(registry({ providers: { 'ollama-native': { baseUrl: 'http://10.0.0.5:11434' } } }).get('ollama-native')?.origin).toBe('http://10.0.0.5:11434');
    expect(registry({ providers: { 'ollama-native': { enabled: false } } }).get('ollama-native')).toBeUndefined();
  });

  it('models replace the built-in list; azure-openai is off without a base URL', () => {
    const r = registry({ providers: { anthropic: { models: ['claude-x'] } } });
    expect(r.listModels().filter((m) => m.owned_by === 'anthropic').map((m) => m.id)).toEqual(['anthropic/claude-x']);
    expect(r.get('azure-openai')).toBeUndefined();
    expect(registry({}, { AZURE_OPENAI_BASE_URL: 'https://res.openai.azure.com' }).get('azure-openai')?.origin).toBe('https://res.openai.azure.com');
  });
});
