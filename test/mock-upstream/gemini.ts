/**
 * A mock Gemini API upstream on loopback (https://ai.google.dev/api): `generateContent`,
 * `streamGenerateContent?alt=sse` (SSE replayed from test/fixtures/gemini, CRLF framed, no
 * [DONE]), `batchEmbedContents`, `countTokens`, and Google-shaped errors
 * `{error:{code, message, status}}`. Every request is recorded (method, path with query,
 * headers, parsed body) so tests can assert which key reached it and that it was not in the URL.
 *
 * Keys: `x-goog-api-key` header (a `?key=` query is accepted too, as Google does, so tests
 * can catch a client that leaks it there); none -> 403 PERMISSION_DENIED, `bad-key` -> 400
 * INVALID_ARGUMENT "API key not valid", as the live API answers. The model picks a behaviour:
 *
 *   mock-rate-limited  429 RESOURCE_EXHAUSTED
 *   mock-unavailable   503 UNAVAILABLE
 *   mock-cut-stream    streams the first event, then destroys the connection
 *   mock-stream-error  streams the first event, then an error object (as Google does mid-stream)
 *   anything else      the text fixture, or, when the request declares functions and its last
 *                      turn is not a functionResponse, a functionCall of the first function
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path with its query string, as received. */
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | null;
}

export interface MockGemini {
  /** Base URL, as @google/genai's httpOptions.baseUrl and GEMINI_BASE_URL take it (no /v1beta). */
  url: string;
  requests: RecordedRequest[];
  last(): RecordedRequest;
  close(): Promise<void>;
}

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/gemini/${name}`, import.meta.url), 'utf8');
const FIXTURES = {
  textSse: fixture('text.sse'),
  callSse: fixture('function-call.sse'),
  text: fixture('generate-content.json'),
  call: fixture('function-call.json'),
};
const FIXTURE_MODEL = 'gemini-2.5-flash';
const ROUTE = /^\/v1beta\/models\/([A-Za-z0-9._-]+):(generateContent|streamGenerateContent|batchEmbedContents|countTokens)$/;

export async function startMockGemini(): Promise<MockGemini> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    try {
      route(req, res, body);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function route(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown> | null): void {
    const url = new URL(req.url ?? '/', 'http://mock');
    const key = String(req.headers['x-goog-api-key'] ?? '') || url.searchParams.get('key') || '';
    if (!key) return error(res, 403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.');
    if (key === 'bad-key') {
      return json(res, 400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }] } });
    }
    const m = ROUTE.exec(url.pathname);
    if (req.method !== 'POST' || !m) return error(res, 404, 'NOT_FOUND', `Requested entity was not found.`);
    if (!body) return error(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    const [, model, method] = m;
    if (model === 'mock-rate-limited') return error(res, 429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.');
    if (model === 'mock-unavailable') return error(res, 503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');

    if (method === 'batchEmbedContents') {
      const requests = Array.isArray(body.requests) ? body.requests : [];
      if (!requests.length) return error(res, 400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: at least one request is required');
      return json(res, 200, { embeddings: requests.map((_, i) => ({ values: [0.5, 0.25, 0.125, i] })) });
    }
    if (!Array.isArray(body.contents) || !body.contents.length) return error(res, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
    if (method === 'countTokens') return json(res, 200, { totalTokens: JSON.stringify(body.contents).length >> 2 });

    const fn = wantsCall(body);
    const swap = (s: string) => {
      let out = s.split(FIXTURE_MODEL).join(model);
      if (fn) out = out.split('"get_weather"').join(JSON.stringify(fn));
      return out;
    };
    if (method === 'generateContent') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' }).end(swap(fn ? FIXTURES.call : FIXTURES.text));
      return;
    }
    if (url.searchParams.get('alt') !== 'sse') return error(res, 400, 'INVALID_ARGUMENT', 'this mock streams only with alt=sse');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const sse = swap(fn ? FIXTURES.callSse : FIXTURES.textSse);
    const firstEnd = sse.indexOf('\r\n\r\n') + 4;
    if (model === 'mock-cut-stream') {
      res.write(sse.slice(0, firstEnd), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if (model === 'mock-stream-error') {
      res.end(sse.slice(0, firstEnd) + `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } })}\r\n\r\n`);
      return;
    }
    res.end(sse);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    last: () => {
      const r = requests.at(-1);
      if (!r) throw new Error('the mock Gemini upstream received no request');
      return r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The first declared function, when the model should call it: declared and not yet answered. */
function wantsCall(body: Record<string, unknown>): string | null {
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ functionDeclarations?: Array<{ name?: unknown }> }>) : [];
  const name = tools.flatMap((t) => t.functionDeclarations ?? []).find((d) => typeof d.name === 'string')?.name;
  if (typeof name !== 'string') return null;
  const contents = body.contents as Array<{ parts?: Array<Record<string, unknown>> }>;
  const answered = (contents.at(-1)?.parts ?? []).some((p) => 'functionResponse' in p);
  return answered ? null : name;
}

function error(res: ServerResponse, code: number, status: string, message: string): void {
  json(res, code, { error: { code, message, status } });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
