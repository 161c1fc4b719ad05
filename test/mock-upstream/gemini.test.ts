/**
 * Proves the mock speaks what the official @google/genai SDK expects (JSON, SSE with
 * function calls, embeddings, errors, a cut stream), and that the gemini adapter's requests
 * are accepted by it, with the key in the header and never in the URL.
 */
import { GoogleGenAI, type FunctionDeclaration } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemini as adapter } from '../../src/providers/gemini/index.js';
import { SseParser } from '../../src/providers/_shared/sse.js';
import type { ChatCompletionChunk, ChatCompletionRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../src/core/openai-types.js';
import { startMockGemini, type MockGemini } from './gemini.js';

let mock: MockGemini;
let ai: GoogleGenAI;
beforeAll(async () => {
  mock = await startMockGemini();
  ai = new GoogleGenAI({ apiKey: 'AIza-test-key', httpOptions: { baseUrl: mock.url } });
});
afterAll(() => mock.close());

const weather: FunctionDeclaration = { name: 'get_weather', description: 'Weather', parametersJsonSchema: { type: 'object', properties: { location: { type: 'string' } } } };

describe('mock Gemini upstream with the official SDK', () => {
  it('answers generateContent, with the key in x-goog-api-key and not in the URL', async () => {
    const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });
    expect(r.text).toBe('Hello! How can I help you today?');
    expect(r.usageMetadata?.thoughtsTokenCount).toBe(26);
    const req = mock.last();
    expect(req.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(req.headers['x-goog-api-key']).toBe('AIza-test-key');
    expect(req.path).not.toContain('AIza');
  });

  it('streams text through generateContentStream', async () => {
    const parts: string[] = [];
    let last: string | undefined;
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Why is the sky blue?' })) {
      parts.push(chunk.text ?? '');
      last = chunk.candidates?.[0]?.finishReason;
    }
    expect(parts.join('')).toBe('The sky is blue because of Rayleigh scattering.');
    expect(last).toBe('STOP');
    expect(mock.last().path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('streams function calls the SDK exposes as functionCalls', async () => {
    const calls = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Weather in Paris and Rome?', config: { tools: [{ functionDeclarations: [weather] }] } })) {
      calls.push(...(chunk.functionCalls ?? []));
    }
    expect(calls.map((c) => [c.name, c.args])).toEqual([['get_weather', { location: 'Paris' }], ['get_weather', { location: 'Rome' }]]);
  });

  it('answers a function response with text (multi-turn)', async () => {
    const r = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      config: { tools: [{ functionDeclarations: [weather] }] },
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 18 } } }] },
      ],
    });
    expect(r.functionCalls).toBeUndefined();
    expect(r.text).toBeTruthy();
  });

  it('embeds through batchEmbedContents', async () => {
    const r = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'b'] });
    expect(r.embeddings?.map((e) => e.values)).toEqual([[0.5, 0.25, 0.125, 0], [0.5, 0.25, 0.125, 1]]);
    expect(mock.last().path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
  });

  it('surfaces Google-shaped errors as SDK ApiErrors with their status', async () => {
    await expect(ai.models.generateContent({ model: 'mock-rate-limited', contents: 'x' })).rejects.toMatchObject({ status: 429 });
    await expect(ai.models.generateContent({ model: 'mock-unavailable', contents: 'x' })).rejects.toMatchObject({ status: 503 });
    const bad = new GoogleGenAI({ apiKey: 'bad-key', httpOptions: { baseUrl: mock.url } });
    await expect(bad.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('API key not valid') });
  });

  it('delivers a mid-stream error object as an SDK error, and cuts a stream mid-way', async () => {
    const drain = async (model: string) => {
      for await (const _ of await ai.models.generateContentStream({ model, contents: 'x' })) void _;
    };
    await expect(drain('mock-stream-error')).rejects.toMatchObject({ status: 503 });
    await expect(drain('mock-cut-stream')).rejects.toThrow();
  });
});

describe('gemini adapter against the mock', () => {
  const send = async (spec: { path: string; body: unknown; headers?: Record<string, string> }) =>
    fetch(mock.url + spec.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...adapter.authHeaders('AIza-adapter'), ...spec.headers },
      body: JSON.stringify(spec.body),
    });
  const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } }, additionalProperties: false } } }];

  it('sends an accepted request with the key only in the header and translates the answer', async () => {
    const res = await send(adapter.chat!.toUpstream({ model: 'g', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }] }, 'gemini-2.5-flash'));
    expect(res.status).toBe(200);
    expect(adapter.chat!.fromUpstream(await res.json(), 'gemini-2.5-flash').choices[0].message.content).toBe('Hello! How can I help you today?');
    const r = mock.last();
    expect(r.headers['x-goog-api-key']).toBe('AIza-adapter');
    expect(r.path).not.toMatch(/key=|AIza/);
    expect(r.body).toMatchObject({ systemInstruction: { parts: [{ text: 'S' }] } });
  });

  it('streams function calls into OpenAI tool_call deltas, then maps the result back by name', async () => {
    const req: ChatCompletionRequest = { model: 'g', stream: true, tools, messages: [{ role: 'user', content: 'find it' }] };
    const res = await send(adapter.chat!.toUpstream(req, 'gemini-2.5-flash'));
    const parser = new SseParser();
    const mapper = adapter.chat!.createStreamMapper('gemini-2.5-flash');
    const chunks: ChatCompletionChunk[] = [];
    for await (const piece of res.body!) for (const ev of parser.push(piece)) chunks.push(...mapper.push(ev));
    chunks.push(...mapper.finish());
    const calls = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    expect(calls.map((c) => [c.index, c.id, c.function?.name])).toEqual([[0, 'call_fcResp01_0', 'lookup'], [1, 'call_fcResp01_1', 'lookup']]);
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');

    const next = adapter.chat!.toUpstream({
      model: 'g', tools,
      messages: [
        ...req.messages,
        { role: 'assistant', content: null, tool_calls: calls.map((c) => ({ id: c.id!, type: 'function' as const, function: { name: c.function!.name!, arguments: c.function!.arguments! } })) },
        { role: 'tool', tool_call_id: calls[0].id!, content: '{"hits":1}' },
        { role: 'tool', tool_call_id: calls[1].id!, content: 'none' },
      ],
    }, 'gemini-2.5-flash');
    const res2 = await send(next);
    expect(res2.status).toBe(200);
    expect(adapter.chat!.fromUpstream(await res2.json(), 'gemini-2.5-flash').choices[0].finish_reason).toBe('stop');
    expect((mock.last().body?.contents as unknown[]).at(-1)).toEqual({ role: 'user', parts: [
      { functionResponse: { name: 'lookup', response: { hits: 1 } } },
      { functionResponse: { name: 'lookup', response: { result: 'none' } } },
    ] });
  });

  it('embeds, in base64 when the openai SDK asks for it', async () => {
    const req: EmbeddingsRequest = { model: 'g', input: ['a'], encoding_format: 'base64' };
    const res = await send(adapter.embeddings!.toUpstream(req, 'gemini-embedding-001'));
    const fromUpstream = adapter.embeddings!.fromUpstream as (b: unknown, m: string, r?: EmbeddingsRequest) => EmbeddingsResponse;
    const out = fromUpstream(await res.json(), 'gemini-embedding-001', req);
    expect(typeof out.data[0].embedding).toBe('string');
  });

  it('maps the mock error bodies', async () => {
    const res = await send(adapter.chat!.toUpstream({ model: 'g', messages: [{ role: 'user', content: 'x' }] }, 'mock-rate-limited'));
    expect(adapter.mapError!(res.status, await res.json())).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'resource_exhausted' });
    const spec = adapter.chat!.toUpstream({ model: 'g', messages: [{ role: 'user', content: 'x' }] }, 'gemini-2.5-flash');
    const bad = await fetch(mock.url + spec.path, { method: 'POST', headers: { 'content-type': 'application/json', ...adapter.authHeaders('bad-key') }, body: JSON.stringify(spec.body) });
    expect(bad.status).toBe(400);
    expect(adapter.mapError!(bad.status, await bad.json())).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key' });
  });
});
