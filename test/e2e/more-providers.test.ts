/**
 * Azure OpenAI, Ollama's native API and Gemini embeddings through the gateway, with the
 * official `openai` SDK as the client (mock upstreams speaking each provider's wire format),
 * and Azure's circuit breaker keyed per deployment.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAzure, type MockAzure } from '../mock-upstream/azure.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';
import { OLLAMA_EMBEDDING, startMockOllama, type MockOllama } from '../mock-upstream/ollama.js';

const AZURE_KEY = recordSecret('AZUREmoreProvidersKey0123456789abcdef01');
const GEMINI_KEY = recordSecret('AIzaMOREprovidersGeminiKey0123456789abc');

let azure: MockAzure;
let ollama: MockOllama;
let gemini: MockGemini;
let gw: TestGateway;
let client: OpenAI;

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

beforeAll(async () => {
  [azure, ollama, gemini] = await Promise.all([startMockAzure(), startMockOllama(), startMockGemini()]);
  gw = await startTestGateway({
    label: 'more-providers',
    env: {
      KEY_MODE: 'server',
      AZURE_OPENAI_BASE_URL: azure.url,
      AZURE_OPENAI_API_KEY: AZURE_KEY,
      OLLAMA_NATIVE_BASE_URL: ollama.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: gemini.url,
    },
    config: { upstream: { retries: 0, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } } },
  });
  client = new OpenAI({ apiKey: gw.adminKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await gw.stop();
  await Promise.all([azure.close(), ollama.close(), gemini.close()]);
});

describe('Azure OpenAI', () => {
  it('chat goes to the deployment URL with api-version and the api-key header', async () => {
    const res = await client.chat.completions.create({ model: 'azure-openai/eu-gpt4o', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from eu-gpt4o');
    expect(res.usage?.total_tokens).toBe(13);
    const sent = azure.last();
    expect(sent.path).toBe('/openai/deployments/eu-gpt4o/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe(AZURE_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body?.model).toBeUndefined();
  });

  it('streams: the filter-only first chunk is dropped, the usage folds into the finish chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'azure-openai/eu-gpt4o', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.choices.length).toBeGreaterThan(0);
      text += chunk.choices[0].delta?.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Hello from eu-gpt4o');
    expect(finish).toBe('stop');
    expect(usage?.total_tokens).toBe(13);
  });

  it('embeddings go to the deployment embeddings URL', async () => {
    const res = await client.embeddings.create({ model: 'azure-openai/embed-small', input: 'x', encoding_format: 'float' });
    expect(res.data[0].embedding).toEqual([0.5, 0.25]);
    expect(azure.last().path).toBe('/openai/deployments/embed-small/embeddings?api-version=2024-10-21');
  });

  it('one failing deployment opens its own circuit only: another deployment keeps answering', async () => {
    const err = await client.chat.completions.create({ model: 'azure-openai/broken', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(gw.ctx.breakers.state('azure-openai/broken')).toBe('open');
    const before = azure.requests.length;
    // Shed at once while open: the broken deployment is not called again.
    const shed = await client.chat.completions.create({ model: 'azure-openai/broken', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect((shed as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(azure.requests.length).toBe(before);
    const ok = await client.chat.completions.create({ model: 'azure-openai/eu-gpt4o', messages: [{ role: 'user', content: 'x' }] });
    expect(ok.choices[0].message.content).toBe('Hello from eu-gpt4o');
    expect(gw.ctx.breakers.state('azure-openai/eu-gpt4o')).toBe('closed');
  });
});

describe('Ollama native (/api/chat, /api/embed)', () => {
  it('chat: /api/chat with stream false, usage from the counts', async () => {
    const res = await client.chat.completions.create({ model: 'ollama-native/llama3.2', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], temperature: 0.2, max_tokens: 50 });
    expect(res.choices[0].message.content).toBe('Hello from Ollama');
    expect(res.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    const sent = ollama.last();
    expect(sent.path).toBe('/api/chat');
    expect(sent.body).toMatchObject({ model: 'llama3.2', stream: false, options: { temperature: 0.2, num_predict: 50 } });
    expect((sent.body?.messages as Array<{ role: string }>)[0].role).toBe('system');
  });

  it('streams NDJSON as OpenAI chunks', async () => {
    const stream = await client.chat.completions.create({ model: 'ollama-native/llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Hello from Ollama');
    expect(finish).toBe('stop');
  });

  it('tool calls: arguments object becomes a JSON string, with an id', async () => {
    const res = await client.chat.completions.create({ model: 'ollama-native/llama3.2', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] });
    const call = res.choices[0].message.tool_calls?.[0];
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    expect(call && 'function' in call ? call.function.name : '').toBe('get_weather');
    expect(JSON.parse(call && 'function' in call ? call.function.arguments : '')).toEqual({ city: 'Paris' });
    expect(call?.id.length).toBeGreaterThan(0);
  });

  it('embeddings: the SDK default (base64) is encoded as float32 and decodes to the values', async () => {
    const res = await client.embeddings.create({ model: 'ollama-native/nomic-embed-text', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(Array.from(res.data[1].embedding)).toEqual(OLLAMA_EMBEDDING);
    expect(ollama.last().path).toBe('/api/embed');
    expect(ollama.last().body).toMatchObject({ model: 'nomic-embed-text', input: ['a', 'b'] });
  });

  it('embeddings: encoding_format float gives the plain values', async () => {
    const res = await client.embeddings.create({ model: 'ollama-native/nomic-embed-text', input: 'a', encoding_format: 'float' });
    expect(res.data[0].embedding).toEqual(OLLAMA_EMBEDDING);
  });
});

describe('Gemini /v1/embeddings', () => {
  it('batchEmbedContents, base64 by default for the SDK', async () => {
    const res = await client.embeddings.create({ model: 'gemini/gemini-embedding-001', input: ['one', 'two'] });
    expect(res.data.map((d) => Array.from(d.embedding))).toEqual([
      [0.5, 0.25, 0.125, 0],
      [0.5, 0.25, 0.125, 1],
    ]);
    const sent = gemini.last();
    expect(sent.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
  });
});
