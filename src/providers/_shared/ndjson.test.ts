import { describe, expect, it } from 'vitest';
import { NdjsonParser } from './ndjson.js';

describe('NdjsonParser', () => {
  it('splits lines across chunk boundaries, skips blank lines and flushes the last line', () => {
    const p = new NdjsonParser();
    expect(p.push('{"a":1}\n{"b"')).toEqual([{ data: '{"a":1}' }]);
    expect(p.push(new TextEncoder().encode(':2}\r\n\n{"c":3}'))).toEqual([{ data: '{"b":2}' }]);
    expect(p.end()).toEqual([{ data: '{"c":3}' }]);
    expect(p.end()).toEqual([]);
  });

  it('keeps a multi-byte character split between chunks whole', () => {
    const p = new NdjsonParser();
    const bytes = new TextEncoder().encode('{"t":"é"}\n');
    expect([...p.push(bytes.subarray(0, 7)), ...p.push(bytes.subarray(7))]).toEqual([{ data: '{"t":"é"}' }]);
  });
});
