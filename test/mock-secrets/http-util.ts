/** Small helpers for the mock secret services: a node:http (or https) server on 127.0.0.1 and a request log. */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface MockServer {
  url: string;
  requests: RecordedRequest[];
  /** While true every request is answered 503, to simulate an outage. */
  down: boolean;
  close(): Promise<void>;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void;

/** `tls`: serve HTTPS with this certificate (see tls.ts for a throw-away self-signed one). */
export async function startMockServer(handler: Handler, opts: { tls?: { cert: string; key: string } } = {}): Promise<MockServer> {
  const requests: RecordedRequest[] = [];
  const state = { down: false };
  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      if (state.down) return json(res, 503, { errors: ['service unavailable (mock outage)'] });
      try {
        handler(rec, res);
      } catch (err) {
        json(res, 500, { errors: [(err as Error).message] });
      }
    });
  };
  const server: Server = opts.tls ? (createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, listener) as unknown as Server) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}
