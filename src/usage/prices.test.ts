import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, PriceTable } from './prices.js';

describe('PriceTable: dated and versioned model ids', () => {
  const table = new PriceTable();

  it.each([
    ['openai', 'gpt-4o-2024-08-06', 'openai/gpt-4o'],
    ['openai', 'gpt-4o-mini-2024-07-18', 'openai/gpt-4o-mini'],
    ['openai', 'gpt-4.1-mini-2025-04-14', 'openai/gpt-4.1-mini'],
    ['anthropic', 'claude-sonnet-4-5-20250929', 'anthropic/claude-sonnet-4-5'],
    ['anthropic', 'claude-haiku-4-5@20251001', 'anthropic/claude-haiku-4-5'],
    ['gemini', 'gemini-2.5-flash-preview-05-20', 'gemini/gemini-2.5-flash'],
    ['mistral', 'mistral-small-latest', 'mistral/mistral-small-latest'],
  ])('%s/%s takes the price of %s', (provider, model, base) => {
    expect(table.get(provider, model)).toEqual(DEFAULT_PRICES[base]);
    expect(table.costMicros(provider, model, { prompt: 1000, completion: 1000 }).known).toBe(true);
  });

  it.each([
    ['openai', 'gpt-5-pro'],
    ['openai', 'o3-pro'],
    ['openai', 'gpt-4o-audio-preview'],
    ['openai', 'o1'],
    ['ollama', 'llama3:8b'],
    // A base on another provider does not count.
    ['groq', 'gpt-4o-2024-08-06'],
  ])('%s/%s has no price (another model, not a version of a priced one)', (provider, model) => {
    expect(table.get(provider, model)).toBeUndefined();
    expect(table.costMicros(provider, model, { prompt: 1000, completion: 1000 })).toEqual({ micros: 0, known: false });
  });

  it("prices every other model of a provider with a 'provider/*' override, and versions of an override's model", () => {
    const t = new PriceTable({ 'ollama/*': { input: 0, output: 0 }, 'ollama/llama3': { input: 1, output: 2 } });
    expect(t.get('ollama', 'qwen2.5:7b')).toEqual({ input: 0, output: 0 });
    expect(t.get('ollama', 'llama3:8b')).toEqual({ input: 1, output: 2 });
    expect(t.get('openai', 'o1')).toBeUndefined();
  });

  it('charges a fallback price for an unknown model, still reported as unknown', () => {
    expect(table.costMicros('openai', 'o1', { prompt: 1_000_000, completion: 1_000_000 }, { input: 15, output: 60 })).toEqual({ micros: 75_000_000, known: false });
    // A known price wins over the fallback.
    expect(table.costMicros('openai', 'gpt-4o-2024-08-06', { prompt: 1_000_000, completion: 0 }, { input: 15, output: 60 })).toEqual({ micros: 2_500_000, known: true });
  });
});
