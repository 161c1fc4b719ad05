/**
 * One API, every provider: the official `openai` SDK talks to keygate in OpenAI's format;
 * keygate translates to Anthropic's Messages API and to Gemini's generateContent (mock
 * upstreams speaking their documented wire formats), streaming and tool calls included.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockAnthropic, type MockAnthropic } from '../mock-upstream/anthropic.js';
import { startMockGemini, type MockGemini } from '../mock-upstream/gemini.js';

const ANTHROPIC_KEY = recordSecret('sk-ant-api03-TRANSLATEDkey0123456789abcdefghijklmnop');
const GEMINI_KEY = recordSecret('AIzaTRANSLATEDgeminiKey0123456789abcdefgh');

let anthropicMock: MockAnthropic;
let geminiMock: MockGemini;
let gw: TestGateway;
let client: OpenAI;

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

beforeAll(async () => {
  anthropicMock = await startMockAnthropic();
  geminiMock = await startMockGemini();
  gw = await startTestGateway({
    label: 'translated',
    env: { KEY_MODE: 'server', ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropicMock.url, GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: geminiMock.url },
  });
  client = new OpenAI({ apiKey: gw.adminKey, baseURL: `${gw.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await gw.stop();
  await anthropicMock.close();
  await geminiMock.close();
});

describe.each([
  ['anthropic', 'anthropic/claude-sonnet-4-5'],
  ['gemini', 'gemini/gemini-2.5-flash'],
] as const)('%s through the OpenAI format', (provider, model) => {
  const last = () => (provider === 'anthropic' ? anthropicMock.last() : geminiMock.last());

  it('answers a chat completion with a system prompt, and records usage', async () => {
    const res = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message.role).toBe('assistant');
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
    const sent = last();
    if (provider === 'anthropic') {
      expect(sent.headers['x-api-key']).toBe(ANTHROPIC_KEY);
      expect(sent.body?.system).toBeDefined();
    } else {
      expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
      expect(sent.path).not.toContain(GEMINI_KEY);
      expect(sent.path).not.toContain('key=');
      expect(sent.body?.systemInstruction).toBeDefined();
    }
  });

  it('streams, chunk by chunk, ending with a finish reason', async () => {
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('stop');
  });

  it('calls tools, and streams the call as OpenAI tool_call deltas', async () => {
    const res = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], tool_choice: 'auto' });
    const call = res.choices[0].message.tool_calls?.[0];
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    expect(call && 'function' in call ? call.function.name : '').toBe('get_weather');
    expect(() => JSON.parse(call && 'function' in call ? call.function.arguments : '')).not.toThrow();

    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool], stream: true });
    // Calls are assembled per index, as OpenAI clients do (a provider may call in parallel).
    const calls = new Map<number, { name: string; args: string }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta?.tool_calls ?? []) {
        const c = calls.get(d.index) ?? { name: '', args: '' };
        c.name += d.function?.name ?? '';
        c.args += d.function?.arguments ?? '';
        calls.set(d.index, c);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(calls.size).toBeGreaterThan(0);
    for (const c of calls.values()) {
      expect(c.name).toBe('get_weather');
      expect(() => JSON.parse(c.args)).not.toThrow();
    }
    expect(finish).toBe('tool_calls');
  });

  it('sends a tool result back in the provider shape', async () => {
    const res = await client.chat.completions.create({
      model,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      ],
    });
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    const body = JSON.stringify(last().body);
    expect(body).toContain(provider === 'anthropic' ? 'tool_result' : 'functionResponse');
  });

  it('maps a provider rate limit to a 429 in the OpenAI envelope', async () => {
    const err = await client.chat.completions.create({ model: `${provider}/mock-rate-limited`, messages: [{ role: 'user', content: 'x' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    recordOutput('translated', JSON.stringify((err as InstanceType<typeof OpenAI.APIError>).error));
  });

  it('images: a base64 data: URL and an http(s) URL reach the provider in its shape', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';
    const res = await client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp' } },
          ],
        },
      ],
    });
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    const sent = last().body as Record<string, unknown>;
    if (provider === 'anthropic') {
      const content = (sent.messages as Array<{ content: unknown[] }>)[0].content;
      expect(content).toEqual([
        { type: 'text', text: 'What is in these?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.webp' } },
      ]);
    } else {
      const parts = (sent.contents as Array<{ parts: unknown[] }>)[0].parts;
      expect(parts).toEqual([{ text: 'What is in these?' }, { inlineData: { mimeType: 'image/png', data: png } }, { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp' } }]);
    }
  });

  it('JSON mode (response_format json_schema) and stop sequences', async () => {
    const schema = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };
    const res = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Where?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'place', schema } },
      stop: ['END', '\n\n'],
    });
    const sent = last().body as Record<string, unknown>;
    if (provider === 'anthropic') {
      expect(sent.stop_sequences).toEqual(['END', '\n\n']);
      // Anthropic's JSON mode: one forced tool whose input is the answer, given back as content.
      const tools = sent.tools as Array<{ name: string; input_schema: unknown }>;
      expect(tools).toHaveLength(1);
      expect(tools[0].input_schema).toEqual(schema);
      expect(sent.tool_choice).toEqual({ type: 'tool', name: tools[0].name });
      expect(JSON.parse(res.choices[0].message.content ?? '')).toMatchObject({ location: 'San Francisco, CA' });
      expect(res.choices[0].message.tool_calls ?? []).toHaveLength(0);
      expect(res.choices[0].finish_reason).toBe('stop');
    } else {
      const gc = sent.generationConfig as Record<string, unknown>;
      expect(gc.stopSequences).toEqual(['END', '\n\n']);
      expect(gc.responseMimeType).toBe('application/json');
      expect(gc.responseSchema ?? gc.responseJsonSchema).toBeDefined();
      expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    }
  });

  it('a stream cut midway: the client gets the text so far, then an error event (the SDK throws)', async () => {
    const stream = await client.chat.completions.create({ model: `${provider}/mock-cut-stream`, messages: [{ role: 'user', content: 'Hello' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('could not be reached or closed the connection');
    recordOutput('translated', String((err as Error).message));
    // Anthropic's cut comes after a full text delta; Gemini's first slice ("The") is short
    // enough for the shield to still hold it back when the cut comes.
    if (provider === 'anthropic') expect(text.length).toBeGreaterThan(0);
    const count = (provider === 'anthropic' ? anthropicMock : geminiMock).requests.filter((r) => r.body?.model === 'mock-cut-stream' || r.path.includes('mock-cut-stream')).length;
    expect(count).toBe(1); // never retried once the answer started
  });

  it('refuses a parameter the provider cannot honour, naming it', async () => {
    const err = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], n: 3 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toContain('n');
  });
});
