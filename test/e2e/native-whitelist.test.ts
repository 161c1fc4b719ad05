/**
 * The native routes' whitelist over raw HTTP (no client library normalising the path):
 * traversal, encoded slashes, doubled slashes, keys in the query, account-wide endpoints and
 * undeclared methods are refused before any upstream call. Also: passthrough keys in the
 * SDK's own header, account-wide endpoints when enabled, model allow-lists, Ollama NDJSON,
 * and the SafeAPI-Bridge routes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const ANTHROPIC_KEY = recordSecret('sk-ant-api03-WHITELISTserverKey0123456789abcdefgh');
const GEMINI_KEY = recordSecret('AIzaWHITELISTserverGeminiKey0123456789abc');
const OPENAI_KEY = recordSecret('sk-proj-WHITELISTserverKey0123456789abcdefghijklm');
const CLIENT_ANTHROPIC_KEY = recordSecret('sk-ant-api03-CLIENTownKey0123456789abcdefghijklmn');
const CLIENT_GEMINI_KEY = recordSecret('AIzaCLIENTownGeminiKey0123456789abcdefghi');
const QUERY_KEY = recordSecret('AIzaQUERYsmuggledKey0123456789abcdefghijk');

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Any upstream: records the call, answers JSON (or Ollama NDJSON for /api/chat). */
async function startRecorder(): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/api/chat') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: 'Hel' }, done: false })}\n`);
        res.write(`${JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: 'lo' }, done: false })}\n`);
        res.end(`${JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 7, eval_count: 2 })}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** One request with the path sent exactly as written. */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // An explicit length: Node sends a DELETE body unframed otherwise, poisoning the connection.
    const framing = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
    const req = request({ host: url.hostname, port: url.port, method, path, agent: false, headers: { ...framing, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

let anthropicMock: MockAnthropic;
let geminiMock: MockGemini;
let openaiMock: MockOpenAI;
let gw: TestGateway;
const upstreamCalls = () => anthropicMock.requests.length + geminiMock.requests.length + openaiMock.requests.length;

beforeAll(async () => {
  anthropicMock = await startMockAnthropic();
  geminiMock = await startMockGemini();
  openaiMock = await startMockOpenAI();
  gw = await startTestGateway({
    label: 'native-whitelist',
    env: {
      KEY_MODE: 'server',
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropicMock.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: geminiMock.url,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openaiMock.url,
    },
  });
});
afterAll(async () => {
  await gw.stop();
  await Promise.all([anthropicMock.close(), geminiMock.close(), openaiMock.close()]);
});

describe('bypass attempts, each refused before the upstream', () => {
  const msg = { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] };
  it.each([
    ['POST', '/anthropic/v1/messages/batches', 403, 'endpoint_not_enabled'],
    ['POST', '/anthropic/v1/messages/../files', 400, 'path_refused'],
    ['POST', '/anthropic/v1/messages/..%2ffiles', 400, 'path_refused'],
    ['POST', '/anthropic/v1//messages', 400, 'path_refused'],
    ['POST', '/anthropic/v1/%2e%2e/v1/messages', 400, 'path_refused'],
    ['POST', '/anthropic/v1/%2E%2E/v1/messages', 400, 'path_refused'],
    ['POST', '/anthropic/v1/messages%2fbatches', 400, 'path_refused'],
    ['POST', '/anthropic/v1/messages%5cbatches', 400, 'path_refused'],
    ['POST', '/anthropic/v1/./messages', 400, 'path_refused'],
    ['POST', '/anthropic/v1/messages/', 404, 'endpoint_not_allowed'],
    ['POST', '/anthropic/v1/messagesx', 404, 'endpoint_not_allowed'],
    ['POST', '/anthropic/v1/complete', 404, 'endpoint_not_allowed'],
    ['POST', `/gemini/v1beta/models/gemini-2.5-flash:generateContent?key=${QUERY_KEY}`, 400, 'path_refused'],
    ['POST', '/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=json', 400, 'path_refused'],
    ['POST', '/gemini/v1beta/models/a/b:generateContent', 404, 'endpoint_not_allowed'],
    ['POST', '/gemini/v1beta/models/gemini-2.5-flash:generateContent/../../files', 400, 'path_refused'],
    ['GET', '/gemini/v1beta/files', 403, 'endpoint_not_enabled'],
    ['GET', '/openai/v1/files', 403, 'endpoint_not_enabled'],
    ['POST', '/openai/v1/batches', 403, 'endpoint_not_enabled'],
    ['POST', '/openai/v1/fine_tuning/jobs', 403, 'endpoint_not_enabled'],
    ['POST', '/openai/v1/files/../chat/completions', 400, 'path_refused'],
    ['POST', '/openai/v1/chat/completions?api_key=abc', 400, 'path_refused'],
    ['GET', '/anthropic/v1/messages', 405, 'method_not_allowed'],
    ['DELETE', '/anthropic/v1/messages', 405, 'method_not_allowed'],
    ['PUT', '/openai/v1/chat/completions', 405, 'method_not_allowed'],
    ['DELETE', '/openai/v1/models/gpt-4o-mini', 405, 'method_not_allowed'],
    ['POST', '/ollama/api/pull', 403, 'endpoint_not_enabled'],
    ['POST', '/ollama/api/delete', 404, 'endpoint_not_allowed'],
  ] as const)('%s %s -> %i', async (method, path, status, code) => {
    const before = upstreamCalls();
    const res = await raw(gw.url, method, path, { authorization: `Bearer ${gw.adminKey}` }, method === 'GET' ? undefined : msg);
    recordOutput('native-whitelist', res.text);
    expect(res.status).toBe(status);
    expect(res.text).not.toContain(QUERY_KEY);
    expect(upstreamCalls()).toBe(before);
    // Refusals are written in the provider's own error shape; the code is kept where it has one.
    if (path.startsWith('/openai/')) expect(JSON.parse(res.text).error.code).toBe(code);
    if (path.startsWith('/anthropic/')) expect(JSON.parse(res.text)).toMatchObject({ type: 'error', error: { type: expect.any(String) } });
    if (path.startsWith('/gemini/')) expect(JSON.parse(res.text).error.code).toBe(status);
    if (status === 405) expect(res.headers.allow).toBeTruthy();
  });

  it('checks the whitelist before the credential: an unknown endpoint is 404 even unauthenticated', async () => {
    expect((await raw(gw.url, 'POST', '/anthropic/v1/nope', {}, msg)).status).toBe(404);
    expect((await raw(gw.url, 'POST', '/anthropic/v1/messages', {}, msg)).status).toBe(401);
  });

  it('takes the keygate key in x-api-key, x-goog-api-key and api-key too', async () => {
    for (const h of ['x-api-key', 'x-goog-api-key', 'api-key']) {
      const res = await raw(gw.url, 'POST', '/anthropic/v1/messages', { [h]: gw.adminKey, 'anthropic-version': '2023-06-01' }, msg);
      expect(res.status).toBe(200);
      expect(anthropicMock.last().headers['x-api-key']).toBe(ANTHROPIC_KEY);
    }
  });

  it('refuses two different keygate credentials', async () => {
    const res = await raw(gw.url, 'POST', '/anthropic/v1/messages', { 'x-api-key': gw.adminKey, authorization: 'Bearer kg-anotherKey0000000000000000000' }, msg);
    expect(res.status).toBe(400);
  });

  it('forwards only allow-listed headers', async () => {
    const res = await raw(
      gw.url,
      'POST',
      '/anthropic/v1/messages',
      { authorization: `Bearer ${gw.adminKey}`, 'anthropic-beta': 'prompt-caching-2024-07-31', cookie: 'session=1', 'x-forwarded-for': '1.2.3.4', 'anthropic-version': 'not a version' },
      msg,
    );
    expect(res.status).toBe(200);
    const h = anthropicMock.last().headers;
    expect(h['anthropic-beta']).toBe('prompt-caching-2024-07-31');
    expect(h['anthropic-version']).toBe('2023-06-01');
    expect(h.cookie).toBeUndefined();
    expect(h['x-forwarded-for']).toBeUndefined();
    expect(h.authorization).toBeUndefined();
  });

  it("applies the key's model allow-list (body model and Gemini path model)", async () => {
    const res = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'only-mini', models: ['gpt-4o-mini'] }),
    });
    const { key } = (await res.json()) as { key: string };
    recordSecret(key);
    const auth = { authorization: `Bearer ${key}` };
    expect((await raw(gw.url, 'POST', '/openai/v1/chat/completions', auth, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).status).toBe(200);
    const before = upstreamCalls();
    expect((await raw(gw.url, 'POST', '/openai/v1/chat/completions', auth, { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })).status).toBe(403);
    expect((await raw(gw.url, 'POST', '/gemini/v1beta/models/gemini-2.5-pro:generateContent', { 'x-goog-api-key': key }, { contents: [{ parts: [{ text: 'x' }] }] })).status).toBe(403);
    expect((await raw(gw.url, 'POST', '/openai/v1/moderations', auth, { input: 'x' })).status).toBe(403);
    expect(upstreamCalls()).toBe(before);
  });
});

describe('SafeAPI-Bridge routes', () => {
  const auth = () => ({ authorization: `Bearer ${gw.adminKey}` });

  it('POST /api/openai/proxy with endpoint /chat/completions reaches the whitelisted endpoint', async () => {
    const res = await raw(gw.url, 'POST', '/api/openai/proxy', auth(), { endpoint: '/chat/completions', model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).choices[0].message.content).toBe('Hello from gpt-4o-mini');
    const sent = openaiMock.last();
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).not.toHaveProperty('endpoint');
    expect(sent.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it.each([
    ['/../files', 400],
    ['/chat/completions/../../files', 400],
    ['/%2e%2e/files', 400],
    ['/files', 405],
    ['/fine_tuning/jobs', 403],
    ['chat/completions', 400],
    ['/chat/completions?key=abc', 400],
  ] as const)('refuses endpoint %j', async (endpoint, status) => {
    const before = upstreamCalls();
    const res = await raw(gw.url, 'POST', '/api/openai/proxy', auth(), { endpoint, model: 'gpt-4o-mini', messages: [] });
    recordOutput('native-bridge', res.text);
    expect(res.status).toBe(status);
    expect(upstreamCalls()).toBe(before);
  });

  it('refuses an unknown provider and an unauthenticated call', async () => {
    expect((await raw(gw.url, 'POST', '/api/nope/proxy', auth(), { endpoint: '/chat/completions' })).status).toBe(404);
    expect((await raw(gw.url, 'POST', '/api/openai/proxy', {}, { endpoint: '/chat/completions' })).status).toBe(401);
  });

  it('POST /api/chat/completions is the gateway chat route (model prefixes, translation)', async () => {
    const res = await raw(gw.url, 'POST', '/api/chat/completions', auth(), { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message.content).toBe('Hello!');
    expect(anthropicMock.last().headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect((await raw(gw.url, 'POST', '/api/chat/completions', {}, { model: 'gpt-4o-mini', messages: [] })).status).toBe(401);
  });
});

describe('passthrough: the client key in the header its SDK uses', () => {
  let pgw: TestGateway;
  beforeAll(async () => {
    pgw = await startTestGateway({ label: 'native-passthrough', env: { KEY_MODE: 'passthrough', ANTHROPIC_BASE_URL: anthropicMock.url, GEMINI_BASE_URL: geminiMock.url } });
  });
  afterAll(() => pgw.stop());

  it('Anthropic SDK: its own key reaches the upstream, the keygate key goes in x-keygate-key', async () => {
    const client = new Anthropic({ baseURL: `${pgw.url}/anthropic`, apiKey: CLIENT_ANTHROPIC_KEY, defaultHeaders: { 'x-keygate-key': pgw.adminKey }, maxRetries: 0 });
    const m = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] });
    expect(m.content[0]).toMatchObject({ type: 'text' });
    const h = anthropicMock.last().headers;
    expect(h['x-api-key']).toBe(CLIENT_ANTHROPIC_KEY);
    expect(h['x-keygate-key']).toBeUndefined();
    expect(JSON.stringify(h)).not.toContain(pgw.adminKey);
  });

  it('Gemini SDK: its own key in x-goog-api-key, never in the URL', async () => {
    const ai = new GoogleGenAI({ apiKey: CLIENT_GEMINI_KEY, httpOptions: { baseUrl: `${pgw.url}/gemini`, headers: { 'x-keygate-key': pgw.adminKey } } });
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });
    expect(r.text?.length).toBeGreaterThan(0);
    const sent = geminiMock.last();
    expect(sent.headers['x-goog-api-key']).toBe(CLIENT_GEMINI_KEY);
    expect(sent.path).not.toContain('key=');
    expect(JSON.stringify(sent.headers)).not.toContain(pgw.adminKey);
  });

  it('without a provider key: 401 in the provider shape', async () => {
    const res = await raw(pgw.url, 'POST', '/anthropic/v1/messages', { 'x-keygate-key': pgw.adminKey }, { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [] });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });
});

describe('account-wide endpoints, enabled in config; Ollama native', () => {
  let upstream: Awaited<ReturnType<typeof startRecorder>>;
  let egw: TestGateway;
  beforeAll(async () => {
    upstream = await startRecorder();
    egw = await startTestGateway({
      label: 'native-enabled',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${upstream.url}/v1`, ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: upstream.url, OLLAMA_NATIVE_BASE_URL: upstream.url },
      config: { providers: { openai: { nativeEndpoints: ['files'] }, anthropic: { nativeEndpoints: ['batches'] } } },
    });
  });
  afterAll(async () => {
    await egw.stop();
    await upstream.close();
  });
  const auth = () => ({ authorization: `Bearer ${egw.adminKey}` });

  it('GET /openai/v1/files passes when files is enabled; batches stays off', async () => {
    const res = await raw(egw.url, 'GET', '/openai/v1/files?limit=10', auth());
    expect(res.status).toBe(200);
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/files?limit=10' });
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect((await raw(egw.url, 'POST', '/openai/v1/batches', auth(), {})).status).toBe(403);
  });

  it('POST /anthropic/v1/messages/batches and a bodiless cancel pass when batches is enabled', async () => {
    expect((await raw(egw.url, 'POST', '/anthropic/v1/messages/batches', auth(), { requests: [] })).status).toBe(200);
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/messages/batches' });
    expect(upstream.requests.at(-1)?.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect((await raw(egw.url, 'POST', '/anthropic/v1/messages/batches/msgbatch_01abc/cancel', auth())).status).toBe(200);
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/messages/batches/msgbatch_01abc/cancel', body: '' });
  });

  it('Ollama /api/chat streams NDJSON line by line', async () => {
    const res = await raw(egw.url, 'POST', '/ollama/api/chat', auth(), { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l) as { message: { content: string }; done: boolean });
    expect(lines.map((l) => l.message.content).join('')).toBe('Hello');
    expect(lines.at(-1)?.done).toBe(true);
    expect(upstream.requests.at(-1)?.path).toBe('/api/chat');
  });
});
