import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { CallAbort } from './call-abort.js';

// undici must honour a CallAbort as it does an AbortSignal: the gateway's disconnect and deadline
// handling rests on it.
describe('CallAbort as an undici signal', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent();
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await agent.close();
    server.closeAllConnections();
    server.close();
  });

  it('rejects a pending request with the reason it is aborted with', async () => {
    const abort = new CallAbort();
    const pending = agent.request({ origin, path: '/hang', method: 'GET', signal: abort });
    setTimeout(() => abort.abort(new DOMException('deadline', 'TimeoutError')), 20);
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(abort.aborted).toBe(true);
  });

  it('without a reason, aborts with an AbortError, once', async () => {
    const abort = new CallAbort();
    let events = 0;
    abort.on('abort', () => events++);
    const pending = agent.request({ origin, path: '/hang', method: 'GET', signal: abort });
    abort.abort();
    abort.abort(new Error('second'));
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(events).toBe(1);
  });

  it('a request already aborted is not sent; a finished one leaves no listener behind', async () => {
    const gone = new CallAbort();
    gone.abort();
    await expect(agent.request({ origin, path: '/', method: 'GET', signal: gone })).rejects.toMatchObject({ name: 'AbortError' });
    const abort = new CallAbort();
    const res = await agent.request({ origin, path: '/', method: 'GET', signal: abort });
    expect(await res.body.text()).toBe('ok');
    await new Promise((r) => setImmediate(r));
    expect(abort.listenerCount('abort')).toBe(0);
  });
});
