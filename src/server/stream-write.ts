/**
 * Writing a streamed answer to a client that may be slow, then gone. Waiting for 'drain'
 * alone hangs once the client disconnects: Fastify destroys the stream, which never drains,
 * and the handler would never record the call, settle its limits or release its key lease.
 */
import type { Writable } from 'node:stream';
import type { CallAbort } from '../upstream/call-abort.js';

/** Writes; when the buffer is full, waits until it drains, and rejects if the stream closes or the call aborts first. */
export async function writeOrWait(out: Writable, data: string | Uint8Array, signal: CallAbort): Promise<void> {
  if (out.write(data)) return;
  await drained(out, signal);
}

/** Resolves on 'drain'; rejects when the stream closes or errors, or the signal aborts, before it. */
export function drained(out: Writable, signal: CallAbort): Promise<void> {
  if (signal.aborted) return Promise.reject(closed(signal));
  if (out.destroyed) return Promise.reject(closed(signal));
  return new Promise<void>((resolve, reject) => {
    const settle = (ok: boolean) => {
      out.off('drain', onDrain);
      out.off('close', onGone);
      out.off('error', onGone);
      signal.off('abort', onGone);
      if (ok) resolve();
      else reject(closed(signal));
    };
    const onDrain = () => settle(true);
    const onGone = () => settle(false);
    out.on('drain', onDrain);
    out.on('close', onGone);
    out.on('error', onGone);
    signal.once('abort', onGone);
  });
}

function closed(signal: CallAbort): unknown {
  return signal.aborted ? signal.reason : new Error('the client stream closed before it drained');
}
