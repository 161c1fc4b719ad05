/**
 * A provider that hangs, resets, answers garbage or echoes the key; a stream that is cut or
 * slow; a client that goes away. Each yields a clean answer and nothing hangs or leaks.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-FAILURESserverkey0123456789abcdefghijk');
const CLIENT_KEY = recordSecret('sk-proj-FAILUREScLIENTkey0123456789abcdefghijk');

let mock: MockOpenAI;
let gw: TestGateway;
let passthrough: TestGateway;

beforeAll(async () => {
  mock = await startMockOpenAI();
  // One attempt per call and no circuit breaking here: each failure must be seen as it is (resilience.test.ts covers retries).
  const config = { upstream: { firstByteTimeoutMs: 300, idleTimeoutMs: 2000, connectTimeoutMs: 1000, retries: 0, circuitBreaker: { failureThreshold: 1000 } } };
  gw = await startTestGateway({ label: 'failures', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url }, config });
  passthrough = await startTestGateway({ label: 'failures-pt', env: { KEY_MODE: 'passthrough', OPENAI_BASE_URL: mock.url }, config });
});
afterAll(async () => {
  await gw.stop();
  await passthrough.stop();
  await mock.close();
});

async function chat(model: string, opts: { stream?: boolean; g?: TestGateway; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
  const g = opts.g ?? gw;
  return fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${g.adminKey}`, ...opts.headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], stream: opts.stream ?? false }),
    signal: opts.signal,
  });
}

async function errorOf(res: Response): Promise<{ type: string; code: string; message: string }> {
  const text = await res.text();
  recordOutput('upstream-failures', text);
  return (JSON.parse(text) as { error: { type: string; code: string; message: string } }).error;
}

describe('upstream failures become clean 502/504 answers', () => {
  it('a hanging upstream yields 504 after the first-byte timeout', async () => {
    const res = await chat('mock-hang');
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
  });

  it('a connection reset yields 502', async () => {
    const res = await chat('mock-reset');
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe('upstream_unreachable');
  });

  it('a non-JSON 200 yields 502', async () => {
    const res = await chat('mock-garbage');
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe('upstream_bad_response');
  });

  it('an HTML 500 yields 502 without the HTML', async () => {
    const res = await chat('mock-500-html');
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.message).not.toContain('<html');
  });

  it('an unreachable upstream yields 502', async () => {
    const dead = await startTestGateway({ label: 'failures-dead', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
    try {
      const res = await chat('gpt-4o-mini', { g: dead });
      expect(res.status).toBe(502);
    } finally {
      await dead.stop();
    }
  });

  it("a refused server key is the operator's problem: 502, and the key is not echoed", async () => {
    const res = await chat('mock-echo-key');
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe('upstream_auth_failed');
    expect(JSON.stringify(err)).not.toContain(SERVER_KEY);
  });

  it('in passthrough the upstream 401 is relayed, with the echoed client key masked', async () => {
    const res = await chat('mock-echo-key', { g: passthrough, headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-keygate-key': passthrough.adminKey } });
    expect(res.status).toBe(401);
    const err = await errorOf(res);
    expect(err.code).toBe('invalid_api_key');
    expect(err.message).toContain('Incorrect API key provided: sk-...');
    expect(err.message).not.toContain(CLIENT_KEY);
    expect(err.message).not.toContain('FAILUREScLIENT');
  });

  it('an upstream 429 is relayed as 429', async () => {
    const res = await chat('mock-rate-limited');
    expect(res.status).toBe(429);
    expect((await errorOf(res)).type).toBe('rate_limit_error');
  });

  it('the gateway is still healthy afterwards', async () => {
    const res = await chat('gpt-4o-mini');
    expect(res.status).toBe(200);
  });
});

describe('streaming', () => {
  it('forwards each event as it arrives, before the upstream has finished', async () => {
    const res = await chat('mock-gated-stream', { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    // The upstream holds the rest of its answer until released: the first words must arrive
    // while it is still holding, so nothing buffers the whole answer.
    while (!seen.includes('first ')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended before the first chunk');
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen).not.toContain('[DONE]');
    mock.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    expect(seen).toContain('Hello');
    expect(seen.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('a client that disconnects mid-stream aborts the upstream request at once', async () => {
    const controller = new AbortController();
    const aborted = mock.nextAbort();
    const firstChunk = mock.firstChunkSent();
    const res = await chat('mock-gated-stream', { stream: true, signal: controller.signal });
    await firstChunk;
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await aborted; // resolves only when the upstream sees its connection closed
    await gw.ctx.usage.flush();
    const rows = await gw.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', 'mock-gated-stream').orderBy('id', 'desc').execute();
    // the record is written once the handler has seen the close; poll the writer briefly
    for (let i = 0; i < 50 && !rows.some((r) => r.status === 499); i++) {
      await new Promise((r) => setTimeout(r, 20));
      await gw.ctx.usage.flush();
      rows.splice(0, rows.length, ...(await gw.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', 'mock-gated-stream').execute()));
    }
    expect(rows.some((r) => r.status === 499 && r.error_code === 'client_closed')).toBe(true);
  });

  it('a stream cut by the upstream ends cleanly and is recorded as incomplete', async () => {
    const res = await chat('mock-cut-stream', { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    recordOutput('upstream-failures', text);
    expect(text).toContain('Hello');
    await gw.ctx.usage.flush();
    const row = await gw.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', 'mock-cut-stream').executeTakeFirstOrThrow();
    expect(row.error_code).not.toBeNull();
  });

  it('upstream errors before the first byte of a stream are JSON errors, not SSE', async () => {
    const res = await chat('mock-rate-limited', { stream: true });
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
  });
});

describe('stream endings and deadlines', () => {
  it('a stream that closes without [DONE] ends with an in-band error the SDK raises, recorded as stream_incomplete', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'mock-no-done', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    const failure = await (async () => {
      try {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(text).toBe('Hello from mock-no-done');
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'upstream_error', code: 'stream_incomplete' });
    await gw.ctx.usage.flush();
    const row = await gw.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', 'mock-no-done').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 502, error_code: 'stream_incomplete' });
  });

  it('the total deadline holds a stream until its headers arrive: 504, not a wait for the first-byte timeout', async () => {
    const config = { upstream: { totalTimeoutMs: 300, firstByteTimeoutMs: 600_000, retries: 0 } };
    const g = await startTestGateway({ label: 'failures-deadline', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url }, config });
    try {
      const res = await chat('mock-hang', { stream: true, g });
      expect(res.status).toBe(504);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    } finally {
      await g.stop();
    }
  });

  it('the same deadline holds a native stream (/openai/v1) until its headers arrive', async () => {
    const config = { upstream: { totalTimeoutMs: 300, firstByteTimeoutMs: 600_000, retries: 0 } };
    const g = await startTestGateway({ label: 'failures-deadline-native', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url }, config });
    try {
      const res = await fetch(`${g.url}/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${g.adminKey}` },
        body: JSON.stringify({ model: 'mock-hang', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      });
      expect(res.status).toBe(504);
      expect(await errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    } finally {
      await g.stop();
    }
  });

  it('after the first byte the deadline no longer applies: a stream outlasting it completes', async () => {
    const config = { upstream: { totalTimeoutMs: 1000, retries: 0 } };
    const g = await startTestGateway({ label: 'failures-deadline-long', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url }, config });
    try {
      const firstChunk = mock.firstChunkSent();
      const res = await chat('mock-gated-stream', { stream: true, g });
      await firstChunk;
      // Held past the whole deadline (a wait, not a timed assertion), then released.
      await new Promise((r) => setTimeout(r, 1500));
      mock.release();
      const text = await res.text();
      recordOutput('upstream-failures', text);
      expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    } finally {
      await g.stop();
    }
  });
});

describe('connect and idle timeouts', () => {
  let quick: TestGateway;
  beforeAll(async () => {
    // First byte is allowed long; only the idle timeout can end these calls quickly.
    const config = { upstream: { idleTimeoutMs: 300, firstByteTimeoutMs: 60_000, retries: 0, circuitBreaker: { failureThreshold: 1000 } } };
    quick = await startTestGateway({ label: 'failures-idle', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url }, config });
  });
  afterAll(() => quick.stop());

  it('a body that stalls midway: 504 upstream_timeout in the envelope', async () => {
    const res = await chat('mock-stall-body', { g: quick });
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
  });

  it('a stream that stalls midway: the words so far, then an in-band upstream_timeout event; recorded as 504', async () => {
    const res = await chat('mock-stall-stream', { stream: true, g: quick });
    expect(res.status).toBe(200);
    const text = await res.text();
    recordOutput('upstream-failures', text);
    expect(text).toContain('first ');
    const last = text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({ error: { type: 'timeout_error', code: 'upstream_timeout' } });
    await quick.ctx.usage.flush();
    const row = await quick.ctx.store.db.selectFrom('requests').selectAll().where('model', '=', 'mock-stall-stream').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 504, error_code: 'upstream_timeout' });
  });

  it('an upstream that accepts the connection but never completes the TLS handshake: 504 after the connect timeout', async () => {
    const silent = createServer(() => undefined); // accepts, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const config = { upstream: { connectTimeoutMs: 300, firstByteTimeoutMs: 60_000, retries: 0 } };
    const g = await startTestGateway({ label: 'failures-connect', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: `https://127.0.0.1:${port}/v1` }, config });
    try {
      const res = await chat('gpt-4o-mini', { g });
      expect(res.status).toBe(504);
      expect(await errorOf(res)).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' });
    } finally {
      await g.stop();
      silent.close();
    }
  });
});
