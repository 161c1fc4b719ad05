/**
 * Proves the mock speaks what the official @anthropic-ai/sdk expects (JSON, SSE with tool
 * use, errors, a cut stream), and that the anthropic adapter's requests are accepted by it
 * and its answers translate, streaming included.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropic as adapter } from '../../src/providers/anthropic/index.js';
import { SseParser } from '../../src/providers/_shared/sse.js';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../src/core/openai-types.js';
import { startMockAnthropic, type MockAnthropic } from './anthropic.js';

let mock: MockAnthropic;
let client: Anthropic;
beforeAll(async () => {
  mock = await startMockAnthropic();
  client = new Anthropic({ apiKey: 'sk-ant-test-key', baseURL: mock.url, maxRetries: 0 });
});
afterAll(() => mock.close());

const weatherTool = { name: 'get_weather', description: 'Weather', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } } } };

describe('mock Anthropic upstream with the official SDK', () => {
  it('answers a message and records the key header and body', async () => {
    const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello!' }]);
    expect(msg.model).toBe('claude-sonnet-4-5');
    expect(msg.stop_reason).toBe('end_turn');
    const r = mock.last();
    expect(r.path).toBe('/v1/messages');
    // SDK 1.x sends the key as a bearer token (client.js apiKeyAuth), not x-api-key.
    expect(r.headers.authorization).toBe('Bearer sk-ant-test-key');
    expect(r.body).toMatchObject({ model: 'claude-sonnet-4-5', max_tokens: 64 });
  });

  it('streams text through the SDK stream helper', async () => {
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('Hello!');
    expect(final.usage.output_tokens).toBe(15);
  });

  it('streams a tool use whose input the SDK assembles from input_json_delta fragments', async () => {
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in SF?' }] });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[1]).toEqual({ type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } });
  });

  it('answers a tool result with text (multi-turn)', async () => {
    const msg = await client.messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 64, tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in SF?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'SF' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '15C' }] },
      ],
    });
    expect(msg.stop_reason).toBe('end_turn');
  });

  it('surfaces errors with the provider shape as SDK errors', async () => {
    await expect(client.messages.create({ model: 'mock-overloaded', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } });
    await expect(client.messages.create({ model: 'mock-rate-limited', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    const badKey = new Anthropic({ apiKey: 'bad-key', baseURL: mock.url, maxRetries: 0 });
    await expect(badKey.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('delivers a mid-stream error event as an SDK error', async () => {
    const stream = client.messages.stream({ model: 'mock-stream-error', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    await expect(stream.finalMessage()).rejects.toMatchObject({ error: { error: { type: 'overloaded_error' } } });
  });

  it('cuts a stream mid-way', async () => {
    const stream = client.messages.stream({ model: 'mock-cut-stream', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    await expect(stream.finalMessage()).rejects.toThrow();
  });

  it('counts tokens', async () => {
    const r = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.input_tokens).toBeGreaterThan(0);
  });
});

describe('anthropic adapter against the mock', () => {
  const send = async (req: ChatCompletionRequest) => {
    const spec = adapter.chat!.toUpstream(req, req.model);
    return fetch(mock.url + spec.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...adapter.authHeaders('sk-ant-adapter'), ...spec.headers },
      body: JSON.stringify(spec.body),
    });
  };
  const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];

  it('sends an accepted request with the key in x-api-key only and translates the answer', async () => {
    const res = await send({ model: 'claude-x', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }] });
    expect(res.status).toBe(200);
    const out = adapter.chat!.fromUpstream(await res.json(), 'claude-x');
    expect(out.choices[0].message.content).toBe('Hello!');
    const r = mock.last();
    expect(r.headers['x-api-key']).toBe('sk-ant-adapter');
    expect(r.headers['anthropic-version']).toBe('2023-06-01');
    expect(r.path).not.toContain('sk-ant-adapter');
    expect(r.body).toMatchObject({ system: 'S', max_tokens: 4096 });
  });

  it('streams a tool call through parser and mapper into OpenAI tool_call deltas', async () => {
    const res = await send({ model: 'claude-x', stream: true, tools, messages: [{ role: 'user', content: 'find it' }] });
    const parser = new SseParser();
    const mapper = adapter.chat!.createStreamMapper('claude-x');
    const chunks: ChatCompletionChunk[] = [];
    for await (const piece of res.body!) for (const ev of parser.push(piece)) chunks.push(...mapper.push(ev));
    chunks.push(...mapper.finish());
    const calls = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'lookup', arguments: '' } });
    expect(JSON.parse(calls.map((c) => c.function?.arguments ?? '').join(''))).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('maps the mock error bodies', async () => {
    const res = await send({ model: 'mock-overloaded', messages: [{ role: 'user', content: 'x' }] });
    expect(adapter.mapError!(res.status, await res.json())).toMatchObject({ status: 503, code: 'overloaded_error' });
  });
});
