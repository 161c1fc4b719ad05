/**
 * A mock OpenAI-compatible upstream on loopback that speaks OpenAI's documented wire format:
 * chat completions (JSON and SSE `chat.completion.chunk` events ending in `data: [DONE]`, with
 * the usage-only chunk when `stream_options.include_usage` is set), embeddings, models and
 * OpenAI-shaped errors. The model name picks a behaviour, so tests can ask for the bad days:
 *
 *   mock-hang          never answers (first-byte timeout)
 *   mock-reset         destroys the connection
 *   mock-garbage       200 with a body that is not JSON
 *   mock-500-html      500 with an HTML page
 *   mock-echo-key      401 whose message echoes the key it was sent, as OpenAI does
 *   mock-rate-limited  429 with an OpenAI error body
 *   mock-stall-body    200 headers and half a JSON body, then silence (idle timeout)
 *   mock-stall-stream  streams the first chunk, then silence (idle timeout mid-stream)
 *   mock-no-such-model 404 model_not_found, as OpenAI answers for a model it does not have
 *   mock-gated-stream  streams the first chunk, then waits for release() before the rest
 *   mock-cut-stream    streams two chunks, then destroys the connection
 *   mock-cached        a normal answer whose usage reports 8 of the 11 prompt tokens as cached
 *   mock-no-done       streams a whole answer, then closes cleanly without `data: [DONE]`
 *   mock-firehose      streams 16 KB chunks without end, waiting on backpressure, until the
 *                      connection closes (a slow client fills every buffer in between)
 *   mock-fail-N-SSS    answers status SSS to the first N requests for this exact model
 *                      name, then normally (a flaky upstream, for retries and fallbacks)
 *   mock-fail-N-SSS-raT  the same, with `retry-after: T` (seconds) on each failure
 *   mock-leaky         an answer that leaks a (fake) key; streamed in 5-character pieces
 *   anything else      a normal answer: "Hello from <model>"
 */
export const LEAKED_KEY = 'sk-proj-LEAKEDkeyABCDEFGHIJKLMNOPQRSTUV0123456789';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | null;
}

export interface MockOpenAI {
  url: string;
  requests: RecordedRequest[];
  last(): RecordedRequest;
  /** Lets a `mock-gated-stream` answer continue past its first chunk. */
  release(): void;
  /** Resolves when the upstream sees a request's connection close before it finished. */
  nextAbort(): Promise<void>;
  /** Resolves when a `mock-gated-stream` answer has sent its first chunk. */
  firstChunkSent(): Promise<void>;
  /** The last `mock-firehose` answer: bytes written, and whether it now waits for drain. */
  firehose: { bytes: number; waiting: boolean };
  close(): Promise<void>;
}

const created = 1_700_000_000;

export async function startMockOpenAI(): Promise<MockOpenAI> {
  const requests: RecordedRequest[] = [];
  let releaseGate: () => void = () => undefined;
  let gate = new Promise<void>((r) => (releaseGate = r));
  const abortWaiters: Array<() => void> = [];
  const firstChunkWaiters: Array<() => void> = [];
  const sockets = new Set<import('node:net').Socket>();
  const failuresSeen = new Map<string, number>();
  const firehose = { bytes: 0, waiting: false };

  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      body = null;
    }
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    res.on('close', () => {
      if (!res.writableFinished) abortWaiters.splice(0).forEach((w) => w());
    });
    try {
      await route(req, res, body);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function route(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown> | null): Promise<void> {
    const path = (req.url ?? '').replace(/^\/v1/, '');
    if (req.method === 'GET' && path === '/models') return json(res, 200, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created, owned_by: 'openai' }] });
    if (!body) return json(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
    const model = String(body.model ?? '');
    const auth = String(req.headers.authorization ?? '');

    const flaky = /^mock-fail-(\d+)-(\d{3})(?:-ra(\d+))?$/.exec(model);
    if (flaky) {
      const seen = failuresSeen.get(model) ?? 0;
      if (seen < Number(flaky[1])) {
        failuresSeen.set(model, seen + 1);
        if (flaky[3]) res.setHeader('retry-after', flaky[3]);
        return json(res, Number(flaky[2]), { error: { message: 'The server is overloaded.', type: 'server_error', param: null, code: null } });
      }
    }

    switch (model) {
      case 'mock-hang':
        return; // never answers
      case 'mock-reset':
        req.socket.destroy();
        return;
      case 'mock-stall-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":"chatcmpl-mock","object":"chat.');
        return; // and nothing more
      case 'mock-garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json');
        return;
      case 'mock-500-html':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>Internal Server Error</body></html>');
        return;
      case 'mock-echo-key': {
        const key = auth.replace(/^Bearer /, '');
        return json(res, 401, { error: { message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
      }
      case 'mock-rate-limited':
        return json(res, 429, { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
      case 'mock-no-such-model':
        return json(res, 404, { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' } });
    }

    if (path === '/embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(res, 200, {
        object: 'list',
        // As OpenAI does: base64 of little-endian float32 when asked (the SDK's default).
        data: inputs.map((_, index) => ({
          object: 'embedding',
          index,
          embedding: body.encoding_format === 'base64' ? Buffer.from(new Float32Array([0.5, 0.25, 0.125]).buffer).toString('base64') : [0.5, 0.25, 0.125],
        })),
        model,
        usage: { prompt_tokens: 4 * inputs.length, total_tokens: 4 * inputs.length },
      });
    }
    if (path !== '/chat/completions') return json(res, 404, { error: { message: `Unknown path ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });

    const answer = model === 'mock-leaky' ? `Sure, the production key is ${LEAKED_KEY} - keep it safe.` : `Hello from ${model}`;
    const usage = { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, ...(model === 'mock-cached' ? { prompt_tokens_details: { cached_tokens: 8 } } : {}) };
    if (body.stream !== true) {
      return json(res, 200, {
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
        system_fingerprint: 'fp_mock',
      });
    }

    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    if (model === 'mock-stall-stream') {
      res.write(chunk({ content: 'first ' }, null));
      return; // and nothing more
    }
    if (model === 'mock-firehose') {
      const piece = chunk({ content: 'the quick brown fox jumps. '.repeat(600) }, null);
      firehose.bytes = 0;
      while (!res.destroyed) {
        firehose.bytes += piece.length;
        if (!res.write(piece)) {
          firehose.waiting = true;
          await new Promise<void>((r) => {
            const done = () => {
              res.off('drain', done).off('close', done);
              r();
            };
            res.on('drain', done).on('close', done);
          });
          firehose.waiting = false;
        }
      }
      return;
    }
    if (model === 'mock-gated-stream') {
      res.write(chunk({ content: 'first ' }, null));
      firstChunkWaiters.splice(0).forEach((w) => w());
      await gate;
      gate = new Promise<void>((r) => (releaseGate = r));
    }
    const pieces = model === 'mock-leaky' ? (answer.match(/.{1,5}/gs) ?? []) : answer.split(/(?= )/);
    for (const word of pieces) res.write(chunk({ content: word }, null));
    if (model === 'mock-cut-stream') {
      // Cut only after the words have left, as a dropped connection mid-answer would.
      res.write(': cut\n\n', () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.write(chunk({}, 'stop'));
    if (model === 'mock-no-done') {
      res.end();
      return;
    }
    if (includeUsage) res.write(`data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    last: () => {
      const r = requests.at(-1);
      if (!r) throw new Error('the mock upstream received no request');
      return r;
    },
    release: () => releaseGate(),
    nextAbort: () => new Promise<void>((resolve) => abortWaiters.push(resolve)),
    firstChunkSent: () => new Promise<void>((resolve) => firstChunkWaiters.push(resolve)),
    firehose,
    close: () =>
      new Promise<void>((resolve) => {
        releaseGate();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
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
