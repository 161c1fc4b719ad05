/**
 * Streamed answers of an OpenAI-compatible upstream, with the shield on: an event the shield
 * lets through unchanged reaches the client as the upstream's own bytes (odd spacing, extra
 * fields, `id:` lines and all); an event it must change (a redacted secret, also one split
 * across events and network pieces; the usage-only chunk the gateway asked for) is rewritten.
 * Usage is still recorded, and a client that goes away still aborts the upstream call.
 * The upstream is a scripted SSE server on loopback that writes exactly the pieces given.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const KEY = recordSecret('sk-proj-PASSTHROUGHserverkey0123456789abcdefghij');
const LEAK = recordSecret('sk-proj-STREAMleakABCDEFGHIJKLMNOPQRSTUV0123456789');

interface Script {
  /** Network pieces, written one by one with a pause between them. */
  pieces: Array<string | Buffer>;
  /** Pause between pieces, ms. */
  gapMs?: number;
  /** Keep the connection open after the last piece (for the disconnect test). */
  hold?: boolean;
}

let server: Server;
let upstreamUrl = '';
const scripts = new Map<string, Script>();
const bodies: Array<Record<string, unknown>> = [];
const closedEarly = new Set<string>();
let gw: TestGateway;

async function play(res: ServerResponse, model: string, script: Script): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let done = false;
  res.on('close', () => {
    if (!done) closedEarly.add(model);
  });
  for (const piece of script.pieces) {
    if (res.destroyed) return;
    await new Promise((r) => setTimeout(r, script.gapMs ?? 15));
    res.write(piece);
  }
  if (script.hold) return;
  done = true;
  res.end();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(parts).toString() || '{}') as Record<string, unknown>;
    bodies.push(body);
    const script = scripts.get(String(body.model));
    if (!script) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such script"}}');
      return;
    }
    void play(res, String(body.model), script);
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  gw = await startTestGateway({ label: 'stream-passthrough', env: { KEY_MODE: 'server', OPENAI_API_KEY: KEY, OPENAI_BASE_URL: upstreamUrl } });
});
afterAll(async () => {
  await gw.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const chunk = (model: string, delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'chatcmpl-pt', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
const usageChunk = (model: string) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-pt', object: 'chat.completion.chunk', created: 1700000000, model, choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } })}\n\n`;

async function streamRaw(model: string): Promise<{ status: number; text: string; requestId: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Say hello.' }] }),
  });
  return { status: res.status, text: await res.text(), requestId: res.headers.get('x-request-id') ?? '' };
}

async function recorded(requestId: string) {
  await gw.ctx.usage.flush();
  return gw.ctx.store.db.selectFrom('requests').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
}

/** The data of every `data:` event in an SSE text, parsed. */
function events(text: string): unknown[] {
  return text
    .split(/\r?\n\r?\n|\r\r/)
    .map((block) => block.split(/\r?\n|\r/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n'))
    .filter((d) => d !== '' && d !== '[DONE]')
    .map((d) => JSON.parse(d));
}

function contentOf(text: string): string {
  return events(text)
    .map((e) => ((e as { choices?: Array<{ delta?: { content?: string } }> }).choices ?? []).map((c) => c.delta?.content ?? '').join(''))
    .join('');
}

describe('passthrough of unchanged events', () => {
  it('sends the upstream bytes unchanged (spacing, extra fields, id lines, CRLF), minus the usage chunk it asked for', async () => {
    const model = 'pt-odd-bytes';
    const kept = [
      // No space after `data:`, an extra top-level field, spaces inside the JSON.
      `data:${chunk(model, { role: 'assistant', content: 'Hello' }, null, { system_fingerprint: 'fp_1', x_extra: { a: [1, 2] } }).replace('"delta":', '"delta" :  ')}\n\n`,
      // An `id:` line and CRLF line ends; two events in one network piece.
      `id: 7\r\ndata: ${chunk(model, { content: ' there,' })}\r\n\r\ndata: ${chunk(model, { content: ' friend' })}\n\n`,
      // One event split across two network pieces.
      `data: ${chunk(model, { content: '.' }, 'stop').slice(0, 40)}`,
      `${chunk(model, { content: '.' }, 'stop').slice(40)}\n\n`,
    ];
    scripts.set(model, { pieces: [...kept, usageChunk(model), 'data: [DONE]\n\n'] });
    const r = await streamRaw(model);
    expect(r.status).toBe(200);
    expect(r.text).toBe([...kept, 'data: [DONE]\n\n'].join(''));
    // The gateway asked for the usage chunk on the client's behalf, and recorded it.
    expect(bodies.at(-1)?.stream_options).toEqual({ include_usage: true });
    const row = await recorded(r.requestId);
    expect(row).toMatchObject({ status: 200, stream: 1, prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
  });

  it('keeps the usage chunk when the client asked for it, byte for byte', async () => {
    const model = 'pt-client-usage';
    const pieces = [`data: ${chunk(model, { content: 'Hi' }, 'stop')}\n\n`, usageChunk(model), 'data: [DONE]\n\n'];
    scripts.set(model, { pieces });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi.' }] }),
    });
    expect(await res.text()).toBe(pieces.join(''));
  });

  it('is read by the official SDK like any stream', async () => {
    const model = 'pt-sdk';
    scripts.set(model, {
      pieces: [`data:${chunk(model, { role: 'assistant', content: 'Bonjour' })}\n\n`, `data: ${chunk(model, { content: ' !' }, 'stop', { service_tier: 'default' })}\n\n`, usageChunk(model), 'data: [DONE]\n\n'],
    });
    const client = new OpenAI({ apiKey: gw.adminKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Hello.' }] });
    let text = '';
    const finish: Array<string | null> = [];
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish.push(c.choices[0]?.finish_reason ?? null);
    }
    expect(text).toBe('Bonjour !');
    expect(finish.at(-1)).toBe('stop');
  });
});

describe('bytes that are not UTF-8', () => {
  it('go out as the text the shield read (U+FFFD), not as the upstream bytes', async () => {
    const model = 'pt-bad-utf8';
    const [head, tail] = chunk(model, { content: 'abXYcd' }, 'stop').split('XY');
    // 0xFF can never occur in UTF-8: a lenient client dropping it would see `abcd`.
    const bad = Buffer.concat([Buffer.from(`data: ${head}`), Buffer.from([0xff]), Buffer.from(`${tail}\n\n`)]);
    scripts.set(model, { pieces: [bad, usageChunk(model), 'data: [DONE]\n\n'] });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Hi.' }] }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.includes(0xff)).toBe(false);
    expect(contentOf(bytes.toString())).toBe('ab\uFFFDcd');
  });
});

describe('events the shield changes', () => {
  it('redacts a secret split across events and network pieces; the events around it pass unchanged', async () => {
    const model = 'pt-leak';
    const first = `data:${chunk(model, { role: 'assistant', content: 'Here you go:' }, null, { x_extra: 1 })}\n\n`;
    const pieces = [
      first,
      `data: ${chunk(model, { content: ` ${LEAK.slice(0, 12)}` })}\n\n`,
      // The rest of the key, its event cut in half by the network.
      `data: ${chunk(model, { content: `${LEAK.slice(12)} and` }).slice(0, 30)}`,
      `${chunk(model, { content: `${LEAK.slice(12)} and` }).slice(30)}\n\n`,
      `data: ${chunk(model, { content: ' keep it safe.' })}\n\n`,
      `data: ${chunk(model, {}, 'stop')}\n\n`,
      usageChunk(model),
      'data: [DONE]\n\n',
    ];
    scripts.set(model, { pieces });
    const r = await streamRaw(model);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(LEAK.slice(8));
    expect(r.text).not.toContain(LEAK.slice(-10));
    expect(contentOf(r.text)).toBe('Here you go: [REDACTED_OPENAI] and keep it safe.');
    // Nothing was held or changed in the first event: its bytes are the upstream's.
    expect(r.text.startsWith(first)).toBe(true);
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(r.text).not.toContain('"choices":[]');
    const row = await recorded(r.requestId);
    expect(row).toMatchObject({ status: 200, prompt_tokens: 11, completion_tokens: 7 });
  });

  it('releases text held at the end of a choice in its own chunk before the final one', async () => {
    const model = 'pt-held';
    // Ends in what may be the start of a key: held until the choice finishes.
    scripts.set(model, { pieces: [`data: ${chunk(model, { content: 'Use the prefix sk-' })}\n\n`, `data: ${chunk(model, {}, 'stop')}\n\n`, usageChunk(model), 'data: [DONE]\n\n'] });
    const r = await streamRaw(model);
    expect(contentOf(r.text)).toBe('Use the prefix sk-');
    const evs = events(r.text) as Array<{ choices: Array<{ delta: { content?: string }; finish_reason: string | null }> }>;
    // The held `sk-` goes out before the chunk that finishes the choice.
    expect(evs.findIndex((e) => e.choices[0]?.delta.content?.includes('sk-'))).toBeLessThan(evs.findIndex((e) => e.choices[0]?.finish_reason === 'stop'));
  });
});

describe('events that are not chunks', () => {
  it('data that is not JSON is dropped with the shield on, never passed unread; the stream goes on', async () => {
    const model = 'pt-not-json';
    scripts.set(model, {
      pieces: [
        `data: ${chunk(model, { role: 'assistant', content: 'Hello' })}\n\n`,
        `data: here is the key ${LEAK}\n\n`,
        `data: ${chunk(model, { content: ' there.' }, 'stop')}\n\n`,
        usageChunk(model),
        'data: [DONE]\n\n',
      ],
    });
    const r = await streamRaw(model);
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(LEAK.slice(8));
    expect(r.text).not.toContain('here is the key');
    expect(contentOf(r.text)).toBe('Hello there.');
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it("an upstream error event mid-stream reaches the client in keygate's envelope, the provider key masked, and is recorded", async () => {
    const model = 'pt-mid-error';
    const upstreamError = { error: { message: `Incorrect API key provided: ${KEY}. Check it.`, type: 'invalid_request_error', code: 'invalid_api_key', param: null } };
    scripts.set(model, { pieces: [`data: ${chunk(model, { role: 'assistant', content: 'Hi' })}\n\n`, `data: ${JSON.stringify(upstreamError)}\n\n`] });
    const r = await streamRaw(model);
    expect(r.text).not.toContain(KEY.slice(8));
    const errs = events(r.text).filter((e): e is { error: { type: string; code: string; message: string } } => typeof (e as { error?: unknown }).error === 'object');
    expect(errs[0].error).toMatchObject({ type: 'upstream_error', code: 'invalid_api_key' });
    expect(errs[0].error.message).toContain('Incorrect API key provided: sk-');
    const row = await recorded(r.requestId);
    expect(row).toMatchObject({ status: 502, error_code: 'invalid_api_key' });
  });
});

describe('client disconnect', () => {
  it('aborts the upstream call when the client goes away mid-stream', async () => {
    const model = 'pt-gone';
    scripts.set(model, { pieces: Array.from({ length: 200 }, (_, i) => `data: ${chunk(model, { content: ` w${i}` })}\n\n`), gapMs: 10, hold: true });
    // A plain node:http client, destroyed after the first bytes: the connection is gone for good.
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` } }, (res) => {
        res.once('data', (b: Buffer) => {
          req.destroy();
          resolve(b.toString());
        });
      });
      req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      req.end(JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Go on.' }] }));
    });
    expect(first).toContain(' w0');
    for (let i = 0; i < 100 && !closedEarly.has(model); i++) await new Promise((r) => setTimeout(r, 20));
    expect(closedEarly.has(model)).toBe(true);
    await gw.ctx.usage.flush();
    const row = await gw.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', model).executeTakeFirstOrThrow();
    expect(row.status).toBe(499);
  });
});
