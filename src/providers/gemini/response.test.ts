import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import { fromGeminiEmbeddings, toGeminiEmbeddings } from './embeddings.js';
import { mapGeminiError } from './errors.js';
import { mapFinishReason } from './finish-reason.js';
import { fromGeminiResponse } from './response.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8'));

describe('gemini response translation', () => {
  it('maps a text answer with reasoning tokens', () => {
    expect(fromGeminiResponse(fixture('generate-content.json'), 'gemini-2.5-flash')).toMatchObject({
      id: 'chatcmpl-7AitaJGxJ8fjz7IP3N_O0Q4',
      object: 'chat.completion',
      model: 'gemini-2.5-flash',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 35, total_tokens: 40, completion_tokens_details: { reasoning_tokens: 26 } },
    });
  });

  it('maps functionCall parts to tool_calls with synthesised stable ids and finish_reason tool_calls', () => {
    const a = fromGeminiResponse(fixture('function-call.json'), 'gemini-2.5-flash');
    const b = fromGeminiResponse(fixture('function-call.json'), 'gemini-2.5-flash');
    expect(a.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ id: 'call_fcJson01_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
    });
    expect(b.choices[0].message.tool_calls?.[0].id).toBe(a.choices[0].message.tool_calls?.[0].id);
  });

  it('skips thought parts and reports cached tokens', () => {
    const out = fromGeminiResponse({ candidates: [{ content: { parts: [{ text: 'thinking...', thought: true }, { text: 'answer' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 2, cachedContentTokenCount: 6, totalTokenCount: 12 } }, 'g');
    expect(out.choices[0].message.content).toBe('answer');
    expect(out.usage).toEqual({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, prompt_tokens_details: { cached_tokens: 6 } });
  });

  it('maps a blocked prompt to content_filter', () => {
    expect(fromGeminiResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3 } }, 'g').choices[0].finish_reason).toBe('content_filter');
  });

  it('maps finish reasons', () => {
    expect(mapFinishReason('STOP', false)).toBe('stop');
    expect(mapFinishReason('STOP', true)).toBe('tool_calls');
    expect(mapFinishReason('MAX_TOKENS', false)).toBe('length');
    expect(mapFinishReason('SAFETY', false)).toBe('content_filter');
    expect(mapFinishReason('RECITATION', false)).toBe('content_filter');
    expect(mapFinishReason('OTHER', false)).toBe('stop');
    expect(mapFinishReason(undefined, false)).toBeNull();
  });

  it('refuses a body that is not a response', () => {
    expect(() => fromGeminiResponse({ foo: 1 }, 'g')).toThrow(GatewayError);
  });
});

describe('gemini errors', () => {
  it.each([
    [400, 'INVALID_ARGUMENT', 400, 'invalid_request_error'],
    [401, 'UNAUTHENTICATED', 401, 'authentication_error'],
    [403, 'PERMISSION_DENIED', 403, 'permission_error'],
    [404, 'NOT_FOUND', 404, 'not_found_error'],
    [429, 'RESOURCE_EXHAUSTED', 429, 'rate_limit_error'],
    [500, 'INTERNAL', 502, 'upstream_error'],
    [503, 'UNAVAILABLE', 503, 'upstream_error'],
    [504, 'DEADLINE_EXCEEDED', 504, 'timeout_error'],
  ])('%i %s -> %i %s', (code, status, outStatus, outType) => {
    expect(mapGeminiError(code, { error: { code, message: 'boom', status } })).toEqual({ status: outStatus, type: outType, code: status.toLowerCase(), message: 'boom' });
  });
});

describe('gemini invalid key', () => {
  it('maps Google\'s 400 "API key not valid" to 401 authentication_error', () => {
    const body = { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } };
    expect(mapGeminiError(400, body)).toEqual({ status: 401, type: 'authentication_error', code: 'invalid_api_key', message: 'API key not valid.' });
  });
});

describe('gemini embeddings', () => {
  it('builds a batchEmbedContents request', () => {
    expect(toGeminiEmbeddings({ model: 'x', input: ['a', 'b'], dimensions: 3 }, 'gemini-embedding-001')).toEqual({
      path: '/v1beta/models/gemini-embedding-001:batchEmbedContents',
      body: { requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 3 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 3 },
      ] },
    });
    expect(() => toGeminiEmbeddings({ model: 'x', input: [1, 2, 3] }, 'm')).toThrow(GatewayError);
  });

  it('maps the response to OpenAI floats, or base64 float32 when asked', () => {
    const floats = fromGeminiEmbeddings(fixture('batch-embed.json'), 'm');
    expect(floats.data).toEqual([
      { object: 'embedding', index: 0, embedding: [0.5, 0.25, 0.125] },
      { object: 'embedding', index: 1, embedding: [-0.5, 1, 0] },
    ]);
    const b64 = fromGeminiEmbeddings(fixture('batch-embed.json'), 'm', true);
    const buf = Buffer.from(b64.data[0].embedding as string, 'base64');
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4))).toEqual([0.5, 0.25, 0.125]);
  });
});
