import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-body.js';

describe('jsonDepthExceeds', () => {
  it('passes a body with few brackets without scanning, and a wide shallow one after scanning', () => {
    expect(jsonDepthExceeds('{"messages":[{"role":"user","content":"hi"}]}', 4)).toBe(false);
    const wide = `{"a":[${Array.from({ length: 50 }, () => '{"b":[1]}').join(',')}]}`;
    expect(jsonDepthExceeds(wide, 4)).toBe(false);
  });

  it('refuses exactly one level past the limit, however the brackets are counted', () => {
    expect(jsonDepthExceeds('[[[[1]]]]', 4)).toBe(false);
    expect(jsonDepthExceeds('[[[[[1]]]]]', 4)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":{"c":{"d":{"e":1}}}}}', 4)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":{"c":{"d":1}}}}', 4)).toBe(false);
  });
});
