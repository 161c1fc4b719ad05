/**
 * A mock Anthropic upstream on loopback that speaks the Messages API wire format
 * (https://docs.anthropic.com/en/api/messages): JSON messages, the documented SSE event
 * sequences replayed from test/fixtures/anthropic (text and tool use), count_tokens, and
 * Anthropic-shaped errors `{type:'error', error:{type, message}}`. Every request is recorded
 * (method, path, headers, parsed body) so tests can assert what reached the provider.
 *
 * It checks what Anthropic checks first: a key in `x-api-key` or `Authorization: Bearer`
 * (401 authentication_error when missing or `bad-key`), the
 * `anthropic-version` header, and a body with model, messages and max_tokens (400).
 * The model name picks a behaviour:
 *
 *   mock-invalid       400 invalid_request_error
 *   mock-rate-limited  429 rate_limit_error with retry-after
 *   mock-overloaded    529 overloaded_error
 *   mock-stream-error  streams, then `event: error` overloaded_error (fixture)
 *   mock-cut-stream    streams the first events, then destroys the connection
 *   anything else      "Hello!" (text fixture), or, when the request has tools and its last
 *                      turn is not a tool result, a tool_use answer for the first tool
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | null;
}

export interface MockAnthropic {
  /** Base URL, as the SDK's baseURL and ANTHROPIC_BASE_URL take it (no /v1). */
  url: string;
  requests: RecordedRequest[];
  last(): RecordedRequest;
  close(): Promise<void>;
}

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/anthropic/${name}`, import.meta.url), 'utf8');
const FIXTURES = {
  textSse: fixture('text.sse'),
  toolSse: fixture('tool-use.sse'),
  errorSse: fixture('error-overloaded.sse'),
  message: fixture('message.json'),
  toolMessage: fixture('tool-use.json'),
};
const FIXTURE_MODEL = 'claude-sonnet-4-5-20250929';

export async function startMockAnthropic(): Promise<MockAnthropic> {
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
    const path = (req.url ?? '').split('?')[0];
    // The API takes `x-api-key`; SDK 1.x sends `Authorization: Bearer <key>` instead.
    const key = String(req.headers['x-api-key'] ?? '') || String(req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!key) return error(res, 401, 'authentication_error', 'x-api-key header is required');
    if (key === 'bad-key') return error(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) return error(res, 404, 'not_found_error', 'Not found');
    if (!body || typeof body.model !== 'string' || !Array.isArray(body.messages)) return error(res, 400, 'invalid_request_error', 'model: Field required');
    if (path === '/v1/messages/count_tokens') return json(res, 200, { input_tokens: JSON.stringify(body.messages).length >> 2 });
    if (typeof body.max_tokens !== 'number') return error(res, 400, 'invalid_request_error', 'max_tokens: Field required');

    const model = body.model;
    switch (model) {
      case 'mock-invalid':
        return error(res, 400, 'invalid_request_error', 'messages: roles must alternate between "user" and "assistant"');
      case 'mock-rate-limited':
        res.setHeader('retry-after', '1');
        return error(res, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit');
      case 'mock-overloaded':
        return error(res, 529, 'overloaded_error', 'Overloaded');
    }
    const toolName = wantsTool(body);
    const swap = (s: string) => {
      let out = s.split(FIXTURE_MODEL).join(model);
      if (toolName) out = out.split('"get_weather"').join(JSON.stringify(toolName));
      return out;
    };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_mock' }).end(swap(toolName ? FIXTURES.toolMessage : FIXTURES.message));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_mock' });
    if (model === 'mock-stream-error') {
      res.end(swap(FIXTURES.errorSse));
      return;
    }
    const sse = swap(toolName ? FIXTURES.toolSse : FIXTURES.textSse);
    if (model === 'mock-cut-stream') {
      // Cut after the first text delta has left, as a dropped connection mid-answer would.
      const cutAt = sse.indexOf('event: content_block_delta', sse.indexOf('event: content_block_delta') + 1);
      res.write(sse.slice(0, cutAt), () => setTimeout(() => res.destroy(), 20));
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
      if (!r) throw new Error('the mock Anthropic upstream received no request');
      return r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The first client tool, when the model should call it: tools given and no tool result yet. */
function wantsTool(body: Record<string, unknown>): string | null {
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ name?: unknown }>) : [];
  const name = tools.find((t) => typeof t.name === 'string')?.name;
  if (typeof name !== 'string') return null;
  const messages = body.messages as Array<{ content?: unknown }>;
  const last = messages.at(-1)?.content;
  const answered = Array.isArray(last) && last.some((b) => (b as { type?: unknown }).type === 'tool_result');
  return answered ? null : name;
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  json(res, status, { type: 'error', error: { type, message }, request_id: 'req_mock' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
