/** Token counts for usage the provider did not report (o200k_base). */
import { describe, expect, it } from 'vitest';
import { countTokens, promptTokens } from './token-count.js';

describe('token counting', () => {
  it('counts with o200k_base', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello there')).toBe(2);
    expect(countTokens('Hello from m1')).toBe(4);
  });

  it('counts a chat prompt with its framing, text parts and tools', () => {
    const plain = promptTokens({ model: 'm', messages: [{ role: 'user', content: 'hello there' }] });
    expect(plain).toBe(9);
    const parts = promptTokens({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }, { type: 'image_url', image_url: { url: 'data:x' } }] }] } as never);
    expect(parts).toBe(9);
    const withTools = promptTokens({ model: 'm', messages: [{ role: 'user', content: 'hello there' }], tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }] } as never);
    expect(withTools).toBeGreaterThan(9);
  });

  it('counts embeddings input, strings or token arrays', () => {
    expect(promptTokens({ model: 'e', input: 'hello there' })).toBe(2);
    expect(promptTokens({ model: 'e', input: ['hello there', 'hello there'] })).toBe(4);
    expect(promptTokens({ model: 'e', input: [[1, 2, 3]] } as never)).toBe(3);
  });

  it('scales a very long text from its start instead of encoding all of it', () => {
    const unit = 'The quick brown fox jumps over the lazy dog. ';
    const long = unit.repeat(4000);
    // Encoded whole below the limit, then in proportion: the same rate of tokens per character.
    const exact = (countTokens(unit.repeat(700)) * 4000) / 700;
    const counted = countTokens(long);
    expect(Math.abs(counted - exact) / exact).toBeLessThan(0.02);
  });
});
