import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { toGeminiRequest } from './request.js';

const base = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'gemini/gemini-2.5-flash',
  messages: [{ role: 'user', content: 'Hi' }],
  ...over,
});
const body = (req: ChatCompletionRequest, opts = {}) => toGeminiRequest(req, 'gemini-2.5-flash', opts).body as Record<string, unknown>;

describe('gemini request translation', () => {
  it('targets generateContent, or streamGenerateContent with alt=sse, and never puts a key in the URL', () => {
    const plain = toGeminiRequest(base(), 'gemini-2.5-flash');
    expect(plain.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(toGeminiRequest(base({ stream: true }), 'gemini-2.5-flash').path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(plain.path).not.toMatch(/key=/);
    expect(plain.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('refuses model ids that could change the path', () => {
    expect(toGeminiRequest(base(), 'models/gemini-2.5-flash').path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    for (const m of ['../files', 'models/../x', 'a/b', 'x:generateContent?key=1', '%2e%2e', '']) {
      expect(() => toGeminiRequest(base(), m)).toThrow(GatewayError);
    }
  });

  it('moves system and developer messages to systemInstruction and maps roles user/model', () => {
    const b = body(base({ messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Use French.' },
      { role: 'user', content: 'A' },
      { role: 'assistant', content: 'B' },
      { role: 'user', content: 'C' },
    ] }));
    expect(b.systemInstruction).toEqual({ parts: [{ text: 'Be brief.\n\nUse French.' }] });
    expect(b.contents).toEqual([
      { role: 'user', parts: [{ text: 'A' }] },
      { role: 'model', parts: [{ text: 'B' }] },
      { role: 'user', parts: [{ text: 'C' }] },
    ]);
  });

  it('maps images: data URLs to inlineData, http URLs to fileData with a MIME type', () => {
    const b = body(base({ messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/a/cat.webp?size=2' } },
      { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
    ] }] }));
    expect((b.contents as Array<{ parts: unknown }>)[0].parts).toEqual([
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/a/cat.webp?size=2' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
    ]);
  });

  it('refuses an image URL on the Files API (account-wide), and one that is not a URL', () => {
    for (const url of ['https://generativelanguage.googleapis.com/v1beta/files/abc123', 'https://GENERATIVELANGUAGE.googleapis.com/v1beta/files/x.png', 'https://storage.googleapis.com/b/o.png', 'https://[::1']) {
      const req = base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
      let err: unknown = null;
      try {
        body(req);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).status).toBe(400);
    }
  });

  it('maps generationConfig parameters', () => {
    const b = body(base({ temperature: 0.2, top_p: 0.8, max_tokens: 100, stop: ['X'], seed: 7, presence_penalty: 0.5, frequency_penalty: 0.25 }));
    expect(b.generationConfig).toEqual({ temperature: 0.2, topP: 0.8, maxOutputTokens: 100, stopSequences: ['X'], seed: 7, presencePenalty: 0.5, frequencyPenalty: 0.25 });
    expect(body(base({ max_tokens: 100, max_completion_tokens: 50 })).generationConfig).toEqual({ maxOutputTokens: 50 });
  });

  it('maps response_format to responseMimeType and responseSchema (cleaned of keywords Gemini refuses)', () => {
    expect(body(base({ response_format: { type: 'json_object' } })).generationConfig).toEqual({ responseMimeType: 'application/json' });
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: { additionalProperties: { type: 'string' }, n: { type: 'integer' } }, required: ['n'] };
    expect(body(base({ response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema } } })).generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { additionalProperties: { type: 'string' }, n: { type: 'integer' } }, required: ['n'] },
    });
  });

  it('maps tools to functionDeclarations and tool_choice to functionCallingConfig', () => {
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } } }];
    expect(body(base({ tools })).tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] }]);
    expect(body(base({ tools, tool_choice: 'auto' })).toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(body(base({ tools, tool_choice: 'none' })).toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(body(base({ tools, tool_choice: 'required' })).toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(body(base({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } })).toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
  });

  it('maps tool calls to functionCall parts and tool results back by function name, merged in one user turn', () => {
    const b = body(base({ messages: [
      { role: 'user', content: 'Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, extra_content: { google: { thought_signature: 'SIG' } } } as never,
        { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"city":"Rome"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_b', content: '12:00' },
      { role: 'tool', tool_call_id: 'call_a', content: '{"temp":18}' },
    ] }));
    expect(b.contents).toEqual([
      { role: 'user', parts: [{ text: 'Paris and Rome?' }] },
      { role: 'model', parts: [
        { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG' },
        { functionCall: { name: 'get_time', args: { city: 'Rome' } } },
      ] },
      { role: 'user', parts: [
        { functionResponse: { name: 'get_time', response: { result: '12:00' } } },
        { functionResponse: { name: 'get_weather', response: { temp: 18 } } },
      ] },
    ]);
  });

  it('refuses a tool result whose call cannot be found', () => {
    expect(() => body(base({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }))).toThrow(/No assistant tool call/);
  });

  it('answers 400 naming the parameter and the provider, or drops it when configured', () => {
    for (const [param, value] of [['n', 2], ['logprobs', true], ['logit_bias', { 1: 1 }], ['parallel_tool_calls', false]] as const) {
      let err: unknown;
      try {
        body(base({ [param]: value }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GatewayError);
      expect(err).toMatchObject({ status: 400, param });
      expect((err as Error).message).toContain('Gemini');
    }
    expect(() => body(base({ n: 2, logprobs: true }), { dropUnsupportedParams: true })).not.toThrow();
    expect(() => body(base({ n: 1, parallel_tool_calls: true }))).not.toThrow();
  });
});
