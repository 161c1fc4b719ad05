import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CallAbort } from '../upstream/call-abort.js';
import { drained, writeOrWait } from './stream-write.js';

/** A stream whose buffer is full (nothing reads it). */
function full(): PassThrough {
  const s = new PassThrough({ highWaterMark: 16 });
  while (s.write('x'.repeat(16)));
  return s;
}

describe('writeOrWait', () => {
  it('returns at once while the buffer has room', async () => {
    const s = new PassThrough();
    await writeOrWait(s, 'data: 1\n\n', new CallAbort());
    expect(s.read()?.toString()).toBe('data: 1\n\n');
  });

  it('writes bytes as given (an upstream piece forwarded unchanged)', async () => {
    const s = new PassThrough();
    const piece = Buffer.from('data:{"a" : "\u00e9"}\r\n\r\n');
    await writeOrWait(s, piece, new CallAbort());
    expect(Buffer.compare(s.read() as Buffer, piece)).toBe(0);
  });

  it('waits for drain when the buffer is full, then returns', async () => {
    const s = full();
    let done = false;
    const wait = writeOrWait(s, 'more', new CallAbort()).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    s.resume();
    await wait;
    expect(done).toBe(true);
    expect(s.listenerCount('close')).toBe(0);
  });

  it('rejects when the stream is destroyed while waiting (a client gone), instead of waiting for ever', async () => {
    const s = full();
    const wait = writeOrWait(s, 'more', new CallAbort());
    s.destroy();
    await expect(wait).rejects.toThrow(/closed before it drained/);
  });

  it('rejects with the abort reason when the call is aborted while waiting, and leaves no listener behind', async () => {
    const s = full();
    const abort = new CallAbort();
    const wait = drained(s, abort);
    abort.abort(new Error('client closed'));
    await expect(wait).rejects.toThrow('client closed');
    expect(s.listenerCount('drain') + s.listenerCount('close') + s.listenerCount('error') + abort.listenerCount('abort')).toBe(0);
  });

  it('rejects at once on a stream already destroyed or a call already aborted', async () => {
    const s = full();
    s.destroy();
    await expect(drained(s, new CallAbort())).rejects.toThrow();
    const abort = new CallAbort();
    abort.abort();
    await expect(drained(full(), abort)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
