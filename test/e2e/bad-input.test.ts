/** Bad requests get a clear error in OpenAI's envelope with the right status, and nothing breaks. */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/connect.js';
import { ApiKeyRepository } from '../../src/store/repositories/api-keys.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

let mock: MockOpenAI;
let gw: TestGateway;
const SERVER_KEY = recordSecret('sk-proj-BADINPUTserverkey0123456789abcdefghijkl');

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({
    label: 'bad-input',
    env: { KEY_MODE: 'auto', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
    config: { server: { bodyLimit: 64 * 1024 } },
  });
});
afterAll(async () => {
  await gw.stop();
  await mock.close();
});

interface ErrorEnvelope {
  error: { message: string; type: string; code: string; param?: string };
}

async function post(body: string | object, headers: Record<string, string> = {}, path = '/v1/chat/completions'): Promise<{ status: number; body: ErrorEnvelope; headers: Headers }> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  recordOutput('bad-input', text);
  return { status: res.status, body: JSON.parse(text) as ErrorEnvelope, headers: res.headers };
}

const hello = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

describe('malformed bodies', () => {
  it('answers 400 invalid_json for malformed JSON', async () => {
    const r = await post('{"model": "gpt-4o-mini", "messages": [');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('answers 400 for an empty body', async () => {
    const r = await post('');
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe('invalid_request_error');
  });

  it('names the field that has the wrong type', async () => {
    const r = await post({ model: 'gpt-4o-mini', messages: 'hi' });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('messages');
    expect(r.body.error.message).toMatch(/'messages' must be array/);
  });

  it('names a nested field', async () => {
    const r = await post({ model: 'gpt-4o-mini', messages: [{ role: 'wizard', content: 'x' }] });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('messages[0].role');
  });

  it('names a missing required field', async () => {
    const r = await post({ messages: [{ role: 'user', content: 'x' }] });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('model');
  });

  it('does not coerce types', async () => {
    const r = await post({ ...hello, stream: 'true' });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('stream');
  });

  it('answers 413 for a body over the configured limit', async () => {
    const r = await post({ ...hello, messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('body_too_large');
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${gw.adminKey}` }, body: 'hello' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrorEnvelope).error.code).toBe('unsupported_media_type');
  });

  it('passes unknown top-level fields through to the provider', async () => {
    const r = await post({ ...hello, seed: 7, some_new_param: { a: 1 } });
    expect(r.status).toBe(200);
    expect(mock.last().body).toMatchObject({ seed: 7, some_new_param: { a: 1 } });
  });
});

describe('routing', () => {
  it('answers 404 for an unknown provider prefix', async () => {
    const r = await post({ ...hello, model: 'nope/some-model' });
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ type: 'not_found_error', code: 'provider_not_found', param: 'model' });
  });

  it('answers 404 for an unknown route, in the envelope', async () => {
    const res = await fetch(`${gw.url}/v1/nothing-here`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorEnvelope).error.type).toBe('not_found_error');
  });

  it('does not let a client choose the upstream', async () => {
    const before = mock.requests.length;
    const r = await post({ ...hello, base_url: 'http://169.254.169.254/' }, { 'x-forwarded-host': 'evil.example', host: 'evil.example', 'x-base-url': 'http://evil.example' });
    expect(r.status).toBe(200);
    expect(mock.requests.length).toBe(before + 1);
  });
});

describe('credentials', () => {
  it('answers 401 with WWW-Authenticate when no key is sent', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hello) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(((await res.json()) as ErrorEnvelope).error.code).toBe('missing_api_key');
  });

  it('answers 400 for a malformed Authorization header', async () => {
    const r = await post(hello, { authorization: 'Basic dXNlcjpwYXNz' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('malformed_credential');
    expect(r.headers.get('www-authenticate')).toMatch(/invalid_request/);
  });

  it('answers 401 for a wrong key, without echoing it', async () => {
    const wrong = recordSecret(`kg-${'A'.repeat(43)}`);
    const r = await post(hello, { authorization: `Bearer ${wrong}` });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('invalid_api_key');
    expect(JSON.stringify(r.body)).not.toContain(wrong);
  });

  it('refuses a key revoked by another process on the very next request', async () => {
    const other = await openStore(gw.loaded.databaseUrl);
    const repo = new ApiKeyRepository(other);
    const { key } = await repo.create({ name: 'soon-revoked' });
    recordSecret(key);
    expect((await post(hello, { authorization: `Bearer ${key}` })).status).toBe(200);
    expect(await repo.revoke('soon-revoked')).toBe(1);
    await other.close();
    const r = await post(hello, { authorization: `Bearer ${key}` });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('revoked_api_key');
  });

  it('refuses an expired key', async () => {
    const repo = new ApiKeyRepository(gw.ctx.store);
    const { key } = await repo.create({ name: 'expired', expiresAt: Date.now() - 1000 });
    recordSecret(key);
    const r = await post(hello, { authorization: `Bearer ${key}` });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('expired_api_key');
  });

  it('refuses a key without the write scope for completions (403)', async () => {
    const repo = new ApiKeyRepository(gw.ctx.store);
    const { key } = await repo.create({ name: 'read-only', scopes: ['read'] });
    recordSecret(key);
    const r = await post(hello, { authorization: `Bearer ${key}` });
    expect(r.status).toBe(403);
    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
  });
});

describe('allow-lists on a key', () => {
  it('refuses a provider the key may not use (403), and only that', async () => {
    const { key } = await gw.ctx.repos.keys.create({ name: 'groq-only', providers: ['groq'] });
    recordSecret(key);
    const r = await post(hello, { authorization: `Bearer ${key}` });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('model_not_allowed');
    const groq = await post({ ...hello, model: 'groq/llama-3.1-8b-instant' }, { authorization: `Bearer ${key}` });
    expect(groq.status).not.toBe(403);
  });
});

describe('health', () => {
  it('is alive and ready without credentials', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: { ok: true }, providers: { ok: true } } });
  });
});

/** Sends raw bytes on a new connection and returns everything the gateway wrote back until it closed. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    let out = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

function envelopeOf(response: string): ErrorEnvelope {
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  recordOutput('bad-input', body);
  return JSON.parse(body) as ErrorEnvelope;
}

describe('errors raised before routing use the envelope too', () => {
  it('a URL with malformed percent-encoding: 400 invalid_url, the URL not echoed', async () => {
    const res = await fetch(`${gw.url}/v1/%zz`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(res.status).toBe(400);
    const text = await res.text();
    recordOutput('bad-input', text);
    expect(JSON.parse(text)).toEqual({ error: { type: 'invalid_request_error', code: 'invalid_url', message: expect.any(String) } });
    expect(text).not.toContain('%zz');
  });

  it('a malformed HTTP request: 400 malformed_request', async () => {
    const response = await rawExchange(gw.url, 'THIS IS NOT HTTP\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(envelopeOf(response).error).toMatchObject({ type: 'invalid_request_error', code: 'malformed_request' });
  });

  it('headers over the size limit: 431 headers_too_large', async () => {
    const response = await rawExchange(gw.url, `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(envelopeOf(response).error).toMatchObject({ code: 'headers_too_large' });
  });

  it('a request arriving during shutdown: 503 in the envelope, while the stream in flight finishes', async () => {
    const g = await startTestGateway({ label: 'bad-input-closing', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
    const { port } = new URL(g.url);
    const socket = connect(Number(port), '127.0.0.1');
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const ended = new Promise<void>((r) => socket.on('close', () => r()));
    const body = JSON.stringify({ model: 'mock-gated-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const firstChunk = mock.firstChunkSent();
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${g.adminKey}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await firstChunk;
    const closing = g.close();
    // A second request on the same (busy, so not idle-closed) connection, after shutdown began.
    socket.write(`GET /v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${g.adminKey}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 100));
    mock.release();
    await ended;
    await closing;
    await g.stop();
    recordOutput('bad-input', out);
    const second = out.indexOf('HTTP/1.1 503');
    expect(out.startsWith('HTTP/1.1 200')).toBe(true);
    expect(out.slice(0, second)).toContain('data: [DONE]');
    expect(second).toBeGreaterThan(0);
    expect(envelopeOf(out.slice(second)).error).toMatchObject({ type: 'server_error', code: 'unavailable' });
  });
});
