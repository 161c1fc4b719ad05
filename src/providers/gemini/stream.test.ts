import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import { replaySse } from '../_shared/replay.js';
import { createGeminiStreamMapper } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8');
const shape = (chunks: ChatCompletionChunk[]) => chunks.map((c) => ({ delta: c.choices[0].delta, finish: c.choices[0].finish_reason, ...(c.usage ? { usage: c.usage } : {}) }));

describe('gemini stream mapping (recorded fixtures)', () => {
  it('maps the text stream, ending with finish_reason and usage', () => {
    const chunks = replaySse(fixture('text.sse'), createGeminiStreamMapper('gemini-2.5-flash'), 5);
    expect(shape(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'The' }, finish: null },
      { delta: { content: ' sky is blue because of Rayleigh scattering.' }, finish: null },
      { delta: {}, finish: 'stop', usage: { prompt_tokens: 8, completion_tokens: 43, total_tokens: 51, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 33 } } },
    ]);
    for (const c of chunks) expect(c).toMatchObject({ id: 'chatcmpl-mAitaK2UHb6OmtkPy6XJ6Ak', object: 'chat.completion.chunk', model: 'gemini-2.5-flash' });
  });

  it('maps streamed function calls to tool_call deltas with index, id, name and whole arguments', () => {
    const chunks = shape(replaySse(fixture('function-call.sse'), createGeminiStreamMapper('gemini-2.5-flash')));
    expect(chunks).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { tool_calls: [
        { index: 0, id: 'call_fcResp01_0', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' }, extra_content: { google: { thought_signature: 'CiQB0e2Kb0sig' } } },
        { index: 1, id: 'call_fcResp01_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
      ] }, finish: null },
      { delta: {}, finish: 'tool_calls', usage: { prompt_tokens: 74, completion_tokens: 30, total_tokens: 104 } },
    ]);
  });

  it('keeps tool indexes increasing across events', () => {
    const m = createGeminiStreamMapper('g');
    const ev = (parts: object[], finishReason?: string) => ({ data: JSON.stringify({ responseId: 'r', candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}) }] }) });
    m.push(ev([{ functionCall: { name: 'a', args: {} } }]));
    const second = m.push(ev([{ functionCall: { name: 'b', args: { x: 1 } } }], 'STOP'));
    expect(second[0].choices[0].delta.tool_calls).toEqual([{ index: 1, id: 'call_r_1', type: 'function', function: { name: 'b', arguments: '{"x":1}' } }]);
  });

  it('reports a stream cut before any finishReason', () => {
    const full = fixture('text.sse');
    const cut = full.slice(0, full.lastIndexOf('data: '));
    expect(() => replaySse(cut, createGeminiStreamMapper('g'))).toThrow(GatewayError);
  });

  it('turns an error object in the stream into a mapped GatewayError', () => {
    const m = createGeminiStreamMapper('g');
    expect(() => m.push({ data: JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }) })).toThrow(expect.objectContaining({ status: 503, code: 'unavailable' }));
  });
});
