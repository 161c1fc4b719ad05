import { describe, expect, it } from 'vitest';
import { SseParser, formatSse } from './sse.js';

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
