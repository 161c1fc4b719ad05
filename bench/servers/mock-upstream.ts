/**
 * Mock OpenAI-compatible upstream for the bench. JSON calls are answered at once; a body
 * with `"stream":true` gets SSE with a time-to-first-token and inter-chunk delays (env
 * MOCK_TTFT_MS, MOCK_CHUNK_MS, MOCK_CHUNKS), like a real model. Plain node:http, no checks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onStop, sendReady } from './child-ipc.js';

const TTFT_MS = Number(process.env.MOCK_TTFT_MS ?? 100);
const CHUNK_MS = Number(process.env.MOCK_CHUNK_MS ?? 10);
const CHUNKS = Number(process.env.MOCK_CHUNKS ?? 20);

const usage = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 };
// Built once: the bench measures the gateway, not the mock.
const JSON_ANSWER = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today? This is a benchmark answer.' }, finish_reason: 'stop' }],
    usage,
  }),
);
const chunk = (content: string, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
const TOKEN_CHUNK = chunk(' word', null);
const LAST_CHUNK = chunk('.', 'stop');
const USAGE_CHUNK = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [], usage })}\n\n`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function stream(res: ServerResponse, withUsage: boolean): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  await sleep(TTFT_MS);
  for (let i = 0; i < CHUNKS && !res.destroyed; i++) {
    if (i > 0) await sleep(CHUNK_MS);
    res.write(i === CHUNKS - 1 ? LAST_CHUNK : TOKEN_CHUNK);
  }
  if (withUsage) res.write(USAGE_CHUNK);
  res.end('data: [DONE]\n\n');
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    const body = Buffer.concat(parts).toString();
    if (body.includes('"stream":true')) {
      void stream(res, body.includes('"include_usage":true'));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_ANSWER.length }).end(JSON_ANSWER);
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, handle);
server.listen(0, '127.0.0.1', () => sendReady({ port: (server.address() as AddressInfo).port }));
onStop(async () => {
  server.closeAllConnections();
  server.close();
});
