/**
 * The floor: a minimal pass-through proxy on undici with no checks at all (no auth, no
 * parsing, no logging). The best any Node gateway on this stack could do. Env UPSTREAM_ORIGIN.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { fileURLToPath } from 'node:url';
import { onStop, sendReady } from './child-ipc.js';

/** The floor's request handler, also run in-process by `npm run bench:ab -- floor ...`. */
export function floorHandler(origin: string, agent: Agent): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => void handle(origin, agent, req, res);
}

async function handle(origin: string, agent: Agent, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const up = await agent.request({
      origin,
      path: req.url ?? '/',
      method: req.method === 'GET' ? 'GET' : 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: req.headers.authorization ?? '' },
      body: req.method === 'GET' ? undefined : req,
    });
    res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
    // pipe(), not stream.pipeline(): pipeline adds an AbortSignal and DOMException per request.
    up.body.on('error', () => res.destroy());
    up.body.pipe(res);
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  const server = createServer({ keepAliveTimeout: 60_000 }, floorHandler(process.env.UPSTREAM_ORIGIN ?? '', agent));
  server.listen(0, '127.0.0.1', () => sendReady({ port: (server.address() as AddressInfo).port }));
  onStop(async () => {
    server.closeAllConnections();
    server.close();
    await agent.close();
  });
}
