/**
 * The translated answers, as the `openai` SDK sees them: a minimal relay (OpenAI request ->
 * adapter.toUpstream -> mock provider -> fromUpstream / SseParser + stream mapper -> OpenAI
 * JSON or SSE) stands where the gateway will, so the SDK's own accumulator checks that the
 * chunks (tool call deltas included) assemble into a valid completion.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionRequest } from '../../src/core/openai-types.js';
import type { ProviderAdapter } from '../../src/core/provider.js';
import { anthropic } from '../../src/providers/anthropic/index.js';
import { gemini } from '../../src/providers/gemini/index.js';
import { SseParser } from '../../src/providers/_shared/sse.js';
import { startMockAnthropic, type MockAnthropic } from './anthropic.js';
import { startMockGemini, type MockGemini } from './gemini.js';

let mockA: MockAnthropic;
let mockG: MockGemini;
let relay: Server;
let client: OpenAI;

beforeAll(async () => {
  mockA = await startMockAnthropic();
  mockG = await startMockGemini();
  const routes: Record<string, { adapter: ProviderAdapter; url: string; key: string }> = {
    anthropic: { adapter: anthropic, url: mockA.url, key: 'sk-ant-relay' },
    gemini: { adapter: gemini, url: mockG.url, key: 'AIza-relay' },
  };
  relay = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as ChatCompletionRequest;
    const [provider, model] = body.model.split('/');
    const { adapter, url, key } = routes[provider];
    const spec = adapter.chat!.toUpstream(body, model);
    const up = await fetch(url + spec.path, { method: 'POST', headers: { 'content-type': 'application/json', ...adapter.authHeaders(key), ...spec.headers }, body: JSON.stringify(spec.body) });
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(adapter.chat!.fromUpstream(await up.json(), model)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const parser = new SseParser();
    const mapper = adapter.chat!.createStreamMapper(model);
    for await (const piece of up.body!) for (const ev of parser.push(piece)) for (const c of mapper.push(ev)) res.write(`data: ${JSON.stringify(c)}\n\n`);
    for (const c of mapper.finish()) res.write(`data: ${JSON.stringify(c)}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  client = new OpenAI({ apiKey: 'unused', baseURL: `http://127.0.0.1:${(relay.address() as AddressInfo).port}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await new Promise<void>((resolve) => relay.close(() => resolve()));
  await mockA.close();
  await mockG.close();
});

const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];

describe.each([
  ['anthropic/claude-sonnet-4-5', 'Hello!', [{ location: 'San Francisco, CA', unit: 'fahrenheit' }]],
  ['gemini/gemini-2.5-flash', 'The sky is blue because of Rayleigh scattering.', [{ location: 'Paris' }, { location: 'Rome' }]],
])('%s through the openai SDK', (model, streamedText, streamedArgs) => {
  it('streams text that the SDK assembles, with usage on the final chunk', async () => {
    const stream = client.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Hi' }] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.content).toBe(streamedText);
    expect(final.choices[0].finish_reason).toBe('stop');
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams tool calls that the SDK assembles into complete calls', async () => {
    const stream = client.chat.completions.stream({ model, tools, messages: [{ role: 'user', content: 'Weather?' }] });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls ?? [];
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(calls.map((c) => (c.type === 'function' ? JSON.parse(c.function.arguments) : null))).toEqual(streamedArgs);
    expect(calls.every((c) => c.id && c.type === 'function' && c.function.name === 'get_weather')).toBe(true);
  });

  it('answers non-streamed requests in the shape the SDK types', async () => {
    const r = await client.chat.completions.create({ model, tools, messages: [{ role: 'user', content: 'Weather?' }] });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0].message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
  });
});
