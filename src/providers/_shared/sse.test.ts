import { describe, expect, it } from 'vitest';
import { SseParser, formatSse, type RawSseBlock } from './sse.js';

describe('SseParser', () => {
  it('parses events split across arbitrary chunk boundaries', () => {
    const wire = 'event: message_start\ndata: {"a":1}\n\n: comment\ndata: line1\ndata: line2\n\r\ndata: [DONE]\n\n';
    for (let size = 1; size <= wire.length; size++) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < wire.length; i += size) got.push(...p.push(Buffer.from(wire.slice(i, i + size))));
      got.push(...p.end());
      expect(got).toEqual([
        { event: 'message_start', data: '{"a":1}' },
        { data: 'line1\nline2' },
        { data: '[DONE]' },
      ]);
    }
  });

  it('handles CRLF and multi-byte characters split between chunks', () => {
    const bytes = Buffer.from('data: héllo ✓\r\n\r\n');
    const p = new SseParser();
    const got = [...p.push(bytes.subarray(0, 9)), ...p.push(bytes.subarray(9, 15)), ...p.push(bytes.subarray(15))];
    expect(got).toEqual([{ data: 'héllo ✓' }]);
  });

  it('flushes a trailing event without a blank line at end()', () => {
    const p = new SseParser();
    expect(p.push('data: x')).toEqual([]);
    expect(p.end()).toEqual([{ data: 'x' }]);
  });

  it('round-trips through formatSse', () => {
    const p = new SseParser();
    expect(p.push(formatSse({ event: 'e', data: 'a\nb' }))).toEqual([{ event: 'e', data: 'a\nb' }]);
  });
});

describe('SseParser.pushRaw', () => {
  const wire = 'event: message_start\ndata: {"a":1}\n\n: comment\r\n\r\ndata:{"b" : 2}\nid: 7\n\r\ndata: line1\ndata: line2\r\rdata: [DONE]\n\n';

  it('returns each block with its text as it came, whatever the chunk boundaries', () => {
    for (let size = 1; size <= wire.length; size++) {
      const p = new SseParser();
      const got: RawSseBlock[] = [];
      for (let i = 0; i < wire.length; i += size) got.push(...p.pushRaw(Buffer.from(wire.slice(i, i + size))));
      expect(got.map((b) => b.raw).join('')).toBe(wire);
      expect(p.idle).toBe(true);
      expect(got.map((b) => b.ev)).toEqual([{ event: 'message_start', data: '{"a":1}' }, null, { data: '{"b" : 2}', id: '7' }, { data: 'line1\nline2' }, { data: '[DONE]' }]);
    }
  });

  it('is idle only when nothing is buffered, not even half a character', () => {
    const p = new SseParser();
    expect(p.idle).toBe(true);
    p.pushRaw(Buffer.from('data: x'));
    expect(p.idle).toBe(false);
    p.pushRaw(Buffer.from('\n\n'));
    expect(p.idle).toBe(true);
    // An event ends, then the first byte of a two-byte character arrives alone.
    const bytes = Buffer.from('data: y\n\né');
    expect(p.pushRaw(bytes.subarray(0, bytes.length - 1)).map((b) => b.raw)).toEqual(['data: y\n\n']);
    expect(p.idle).toBe(false);
    expect(p.pushRaw(bytes.subarray(bytes.length - 1))).toEqual([]);
    expect(p.idle).toBe(false);
    expect(p.pushRaw('\n\n').map((b) => b.raw)).toEqual(['é\n\n']);
    expect(p.idle).toBe(true);
  });
});
