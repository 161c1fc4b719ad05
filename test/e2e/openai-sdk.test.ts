/**
 * The official `openai` SDK pointed at a real gateway on loopback, in each key custody mode;
 * the mock upstream asserts which key reached it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-SERVERkey0123456789abcdefghijklmnopqrstuv');
const CLIENT_KEY = recordSecret('sk-proj-CLIENTkey0123456789abcdefghijklmnopqrstuv');
const GROQ_CLIENT_KEY = recordSecret('gsk_CLIENTgroqkey0123456789abcdefghijklmn');

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});

function client(gw: TestGateway, apiKey: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${gw.url}/v1`, defaultHeaders: headers, maxRetries: 0 });
}

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ text: string; chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] }> {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return { text: chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), chunks };
}

describe('KEY_MODE=server', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ label: 'sdk-server', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
  });
  afterAll(() => gw.stop());

  it('answers a chat completion with the server key upstream', async () => {
    const res = await client(gw, gw.adminKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from gpt-4o-mini');
    expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    expect(mock.last().path).toBe('/v1/chat/completions');
  });

  it('routes provider/model and strips the prefix', async () => {
    await client(gw, gw.adminKey).chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(mock.last().body?.model).toBe('gpt-4o');
  });

  it('streams chat and records usage without showing the usage chunk the client did not ask for', async () => {
    const stream = await client(gw, gw.adminKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const { text, chunks } = await collect(stream);
    expect(text).toBe('Hello from gpt-4o-mini');
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(mock.last().body?.stream_options).toEqual({ include_usage: true });
    await gw.ctx.usage.flush();
    const rec = (await gw.ctx.store.db.selectFrom('requests').selectAll().where('stream', '=', 1).orderBy('id', 'desc').executeTakeFirstOrThrow());
    expect(rec).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', status: 200, prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, custody: 'server', error_code: null });
  });

  it('passes the usage chunk through when the client asks for it', async () => {
    const stream = await client(gw, gw.adminKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const { chunks } = await collect(stream);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 });
  });

  it('creates embeddings', async () => {
    const res = await client(gw, gw.adminKey).embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding).toEqual([0.5, 0.25, 0.125]);
    expect(mock.last().path).toBe('/v1/embeddings');
  });

  it('lists models', async () => {
    const page = await client(gw, gw.adminKey).models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toContain('openai/gpt-4o-mini');
    expect(ids).toContain('groq/llama-3.1-8b-instant');
  });

  it('records each request in the store, without prompt text', async () => {
    await client(gw, gw.adminKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'SECRET-PROMPT-TEXT' }] });
    await gw.ctx.usage.flush();
    const rows = await gw.ctx.store.db.selectFrom('requests').selectAll().execute();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(rows)).not.toContain('SECRET-PROMPT-TEXT');
    const keyId = rows.at(-1)?.key_id;
    expect(keyId).toMatch(/^key_/);
  });

  it('ignores a provider key sent by the client', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-keygate-key': gw.adminKey, authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
  });
});

describe('KEY_MODE=passthrough', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ label: 'sdk-passthrough', env: { KEY_MODE: 'passthrough', OPENAI_BASE_URL: mock.url, GROQ_BASE_URL: mock.url } });
  });
  afterAll(() => gw.stop());

  it("forwards the client's own key, with the keygate key in x-keygate-key", async () => {
    const c = client(gw, CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    const res = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from gpt-4o-mini');
    expect(mock.last().headers.authorization).toBe(`Bearer ${CLIENT_KEY}`);
    expect(mock.last().headers['x-keygate-key']).toBeUndefined();
  });

  it('streams with the client key', async () => {
    const c = client(gw, GROQ_CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    const { text } = await collect(await c.chat.completions.create({ model: 'groq/llama-3.1-8b-instant', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(text).toBe('Hello from llama-3.1-8b-instant');
    expect(mock.last().headers.authorization).toBe(`Bearer ${GROQ_CLIENT_KEY}`);
  });

  it('embeddings and models work too; embeddings reach the upstream with the client key', async () => {
    const c = client(gw, CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    expect((await c.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })).data).toHaveLength(1);
    expect(mock.last()).toMatchObject({ path: '/v1/embeddings', headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(mock.last().headers['x-keygate-key']).toBeUndefined();
    expect((await c.models.list()).data.length).toBeGreaterThan(0);
  });

  it('refuses a call without the client key, with the documented message', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-keygate-key': gw.adminKey },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { message: string; type: string } };
    expect(body.error.message).toBe('Missing Authorization header. In passthrough mode the client must supply Authorization: Bearer <your-api-key>.');
    expect(body.error.type).toBe('authentication_error');
  });

  it('never stores the client key', async () => {
    await gw.ctx.usage.flush();
    const rows = await gw.ctx.store.db.selectFrom('requests').selectAll().execute();
    expect(rows.every((r) => r.custody === 'client' || r.status >= 400)).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(CLIENT_KEY);
  });
});

describe('KEY_MODE=auto', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ label: 'sdk-auto', env: { OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url, GROQ_BASE_URL: mock.url } });
  });
  afterAll(() => gw.stop());

  it('uses the server key where one is configured', async () => {
    await client(gw, gw.adminKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
  });

  it("uses the client's key where the gateway has none", async () => {
    const c = client(gw, GROQ_CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    await c.chat.completions.create({ model: 'groq/llama-3.1-8b-instant', messages: [{ role: 'user', content: 'hi' }] });
    expect(mock.last().headers.authorization).toBe(`Bearer ${GROQ_CLIENT_KEY}`);
  });

  it('streams with the server key for OpenAI and the client key for Groq', async () => {
    const mine = await collect(await client(gw, gw.adminKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(mine.text).toBe('Hello from gpt-4o-mini');
    expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    const c = client(gw, GROQ_CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    const theirs = await collect(await c.chat.completions.create({ model: 'groq/llama-3.1-8b-instant', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(theirs.text).toBe('Hello from llama-3.1-8b-instant');
    expect(mock.last().headers.authorization).toBe(`Bearer ${GROQ_CLIENT_KEY}`);
    await gw.ctx.usage.flush();
    const rows = await gw.ctx.store.db.selectFrom('requests').select(['provider', 'custody']).where('stream', '=', 1).execute();
    expect(rows).toEqual(expect.arrayContaining([{ provider: 'openai', custody: 'server' }, { provider: 'groq', custody: 'client' }]));
  });

  it('embeddings: the server key where configured, else the client key', async () => {
    await client(gw, gw.adminKey).embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(mock.last()).toMatchObject({ path: '/v1/embeddings', headers: { authorization: `Bearer ${SERVER_KEY}` } });
    const c = client(gw, CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    // An OpenAI key configured on the gateway wins over the client's own in auto mode.
    await c.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'x' });
    expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    const g = client(gw, GROQ_CLIENT_KEY, { 'x-keygate-key': gw.adminKey });
    await g.embeddings.create({ model: 'groq/some-embedding-model', input: 'x' });
    expect(mock.last()).toMatchObject({ path: '/v1/embeddings', headers: { authorization: `Bearer ${GROQ_CLIENT_KEY}` }, body: { model: 'some-embedding-model' } });
  });

  it('lists models', async () => {
    const ids = (await client(gw, gw.adminKey).models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['openai/gpt-4o-mini', 'groq/llama-3.1-8b-instant']));
  });

  it("relays the upstream's 404 model_not_found in the envelope, which the SDK raises as NotFoundError", async () => {
    const err = await client(gw, gw.adminKey)
      .chat.completions.create({ model: 'mock-no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const e = err as InstanceType<typeof OpenAI.NotFoundError>;
    expect(e.status).toBe(404);
    expect(e.error).toMatchObject({ type: 'not_found_error', code: 'model_not_found', message: expect.stringContaining('does not exist') });
  });

  it('says which key is missing when neither side has one', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ model: 'groq/llama-3.1-8b-instant', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/No Groq key is configured/);
  });
});

describe('Mistral and Ollama through /v1 (their base URLs from MISTRAL_BASE_URL and OLLAMA_BASE_URL)', () => {
  const MISTRAL_KEY = recordSecret('mistralSERVERkey0123456789abcdefABCDEF');
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ label: 'sdk-mistral-ollama', env: { KEY_MODE: 'server', MISTRAL_API_KEY: MISTRAL_KEY, MISTRAL_BASE_URL: mock.url, OLLAMA_BASE_URL: mock.url } });
  });
  afterAll(() => gw.stop());

  it('Mistral: chat and embeddings with the server key', async () => {
    const c = client(gw, gw.adminKey);
    const res = await c.chat.completions.create({ model: 'mistral/mistral-small-latest', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from mistral-small-latest');
    expect(mock.last()).toMatchObject({ path: '/v1/chat/completions', headers: { authorization: `Bearer ${MISTRAL_KEY}` } });
    await c.embeddings.create({ model: 'mistral/mistral-embed', input: 'x' });
    expect(mock.last()).toMatchObject({ path: '/v1/embeddings', body: { model: 'mistral-embed' } });
  });

  it('Mistral streams without stream_options (streamUsage: false); the record is an estimate, flagged', async () => {
    const { text } = await collect(await client(gw, gw.adminKey).chat.completions.create({ model: 'mistral/mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(text).toBe('Hello from mistral-small-latest');
    expect(mock.last().body?.stream).toBe(true);
    expect(mock.last().body).not.toHaveProperty('stream_options');
    await gw.ctx.usage.flush();
    const rec = await gw.ctx.store.db.selectFrom('requests').selectAll().where('provider', '=', 'mistral').where('stream', '=', 1).executeTakeFirstOrThrow();
    expect(rec).toMatchObject({ status: 200, usage_estimated: 1, error_code: null });
  });

  it('Ollama needs no key: nothing in Authorization upstream, stream usage asked for', async () => {
    const c = client(gw, gw.adminKey);
    const res = await c.chat.completions.create({ model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from llama3.2');
    expect(mock.last().headers.authorization).toBeUndefined();
    const { text } = await collect(await c.chat.completions.create({ model: 'ollama/llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true }));
    expect(text).toBe('Hello from llama3.2');
    expect(mock.last().body?.stream_options).toEqual({ include_usage: true });
    expect(mock.last().headers.authorization).toBeUndefined();
  });
});
