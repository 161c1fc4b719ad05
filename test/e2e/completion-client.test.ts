/**
 * The library client against the mock upstreams, no gateway in between: OpenAI-format
 * requests, translated for Anthropic and Gemini, streaming included; keys from a key manager,
 * sent in headers only, and masked in errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompletionClient, type KeyManager } from '../../src/index.js';
import { GatewayError } from '../../src/core/errors.js';
import type { ChatCompletionChunk } from '../../src/core/openai-types.js';
import { SecretString } from '../../src/crypto/secret-string.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const KEYS: Record<string, string> = {
  openai: recordSecret('sk-proj-LIBRARYclientKey0123456789abcdefghijklmno'),
  anthropic: recordSecret('sk-ant-api03-LIBRARYclientKey0123456789abcdefghij'),
  gemini: recordSecret('AIzaLIBRARYclientGeminiKey0123456789abcd'),
};

let openaiMock: MockOpenAI;
let anthropicMock: MockAnthropic;
let geminiMock: MockGemini;
let client: CompletionClient;
const asked: string[] = [];

const keyManager: KeyManager = {
  async getApiKey(provider) {
    asked.push(provider);
    const k = KEYS[provider];
    if (!k) throw new Error(`no key for ${provider}`);
    return SecretString.from(k);
  },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

beforeAll(async () => {
  [openaiMock, anthropicMock, geminiMock] = await Promise.all([startMockOpenAI(), startMockAnthropic(), startMockGemini()]);
  client = new CompletionClient({
    keyManager,
    env: { OPENAI_BASE_URL: openaiMock.url, ANTHROPIC_BASE_URL: anthropicMock.url, GEMINI_BASE_URL: geminiMock.url },
  });
});
afterAll(async () => {
  await Promise.all([openaiMock.close(), anthropicMock.close(), geminiMock.close()]);
});

describe('CompletionClient', () => {
  it('answers an OpenAI chat completion with the key manager key', async () => {
    const res = await client.createCompletion({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from gpt-4o-mini');
    expect(asked.at(-1)).toBe('openai');
    expect(openaiMock.last().headers.authorization).toBe(`Bearer ${KEYS.openai}`);
  });

  it('streams OpenAI chunks as an async iterable', async () => {
    const chunks = await collect(await client.createCompletion({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true }));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from gpt-4o-mini');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('translates to Anthropic and back', async () => {
    const res = await client.createCompletion({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message.content).toBe('Hello!');
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
    const sent = anthropicMock.last();
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(KEYS.anthropic);
    expect(sent.body).toMatchObject({ system: 'Be brief.', model: 'claude-sonnet-4-5' });
  });

  it('streams an Anthropic answer as OpenAI chunks, tool calls included', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const chunks = await collect(await client.createCompletion({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather?' }], tools, stream: true }));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls[0]?.function?.name).toBe('get_weather');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('translates to Gemini, key in x-goog-api-key and not in the URL', async () => {
    const res = await client.createCompletion({ model: 'gemini/gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] });
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    const sent = geminiMock.last();
    expect(sent.headers['x-goog-api-key']).toBe(KEYS.gemini);
    expect(sent.path).not.toContain('key=');
  });

  it('throws a GatewayError with the echoed key masked', async () => {
    const err = await client.createCompletion({ model: 'mock-echo-key', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(401);
    expect((err as GatewayError).message).not.toContain(KEYS.openai);
    recordOutput('completion-client', JSON.stringify((err as GatewayError).toJSON()));
  });

  it('throws on a provider error inside an Anthropic stream', async () => {
    const stream = await client.createCompletion({ model: 'anthropic/mock-stream-error', messages: [{ role: 'user', content: 'x' }], stream: true });
    await expect(collect(stream)).rejects.toBeInstanceOf(GatewayError);
  });
});
