import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import { replaySse } from '../_shared/replay.js';
import { createAnthropicStreamMapper } from './stream.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');
const shape = (chunks: ChatCompletionChunk[]) => chunks.map((c) => ({ delta: c.choices[0].delta, finish: c.choices[0].finish_reason, ...(c.usage ? { usage: c.usage } : {}) }));

describe('anthropic stream mapping (recorded fixtures)', () => {
  it('maps the documented text stream', () => {
    const chunks = replaySse(fixture('text.sse'), createAnthropicStreamMapper('claude-x'));
    expect(shape(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: 'Hello' }, finish: null },
      { delta: { content: '!' }, finish: null },
      { delta: {}, finish: 'stop', usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 } },
    ]);
    for (const c of chunks) {
      expect(c).toMatchObject({ id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY', object: 'chat.completion.chunk', model: 'claude-sonnet-4-5-20250929' });
    }
  });

  it('maps the documented tool-use stream to OpenAI tool_call deltas', () => {
    const chunks = shape(replaySse(fixture('tool-use.sse'), createAnthropicStreamMapper('claude-x'), 13));
    const text = chunks.map((c) => c.delta.content ?? '').join('');
    expect(text).toBe("Okay, let's check the weather for San Francisco, CA:");
    const toolDeltas = chunks.filter((c) => c.delta.tool_calls).map((c) => c.delta.tool_calls);
    expect(toolDeltas).toEqual([
      [{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      [{ index: 0, function: { arguments: '{"location":' } }],
      [{ index: 0, function: { arguments: ' "San' } }],
      [{ index: 0, function: { arguments: ' Francisc' } }],
      [{ index: 0, function: { arguments: 'o,' } }],
      [{ index: 0, function: { arguments: ' CA"' } }],
      [{ index: 0, function: { arguments: ', ' } }],
      [{ index: 0, function: { arguments: '"unit": "fah' } }],
      [{ index: 0, function: { arguments: 'renheit"}' } }],
    ]);
    const args = toolDeltas.map((d) => d![0].function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(chunks[chunks.length - 1]).toEqual({ delta: {}, finish: 'tool_calls', usage: { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 } });
  });

  it('gives a second tool call the next index', () => {
    const m = createAnthropicStreamMapper('claude-x');
    const ev = (event: string, data: object) => ({ event, data: JSON.stringify({ type: event, ...data }) });
    m.push(ev('message_start', { message: { id: 'msg_a', usage: { input_tokens: 1, output_tokens: 0 } } }));
    const a = m.push(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't1', name: 'f', input: {} } }));
    const b = m.push(ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 't2', name: 'g', input: {} } }));
    const d = m.push(ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{}' } }));
    expect(a[0].choices[0].delta.tool_calls?.[0]).toMatchObject({ index: 0, id: 't1' });
    expect(b[0].choices[0].delta.tool_calls?.[0]).toMatchObject({ index: 1, id: 't2' });
    expect(d[0].choices[0].delta.tool_calls).toEqual([{ index: 1, function: { arguments: '{}' } }]);
  });

  it('streams the forced JSON tool as content with finish_reason stop', () => {
    const m = createAnthropicStreamMapper('claude-x');
    const ev = (event: string, data: object) => ({ event, data: JSON.stringify({ type: event, ...data }) });
    const out = [
      ...m.push(ev('message_start', { message: { id: 'msg_j', usage: { input_tokens: 3, cache_read_input_tokens: 7 } } })),
      ...m.push(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'keygate_json_response', input: {} } })),
      ...m.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"a":' } })),
      ...m.push(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '1}' } })),
      ...m.push(ev('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 4 } })),
      ...m.push(ev('message_stop', {})),
      ...m.finish(),
    ];
    expect(shape(out)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish: null },
      { delta: { content: '{"a":' }, finish: null },
      { delta: { content: '1}' }, finish: null },
      { delta: {}, finish: 'stop', usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, prompt_tokens_details: { cached_tokens: 7 } } },
    ]);
  });

  it('takes cumulative usage from message_delta, input counts included when it repeats them', () => {
    const m = createAnthropicStreamMapper('claude-x');
    const ev = (event: string, data: object) => ({ event, data: JSON.stringify({ type: event, ...data }) });
    m.push(ev('message_start', { message: { id: 'msg_u', usage: { input_tokens: 5, output_tokens: 1 } } }));
    m.push(ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 6, cache_read_input_tokens: 10, output_tokens: 20 } }));
    expect(m.push(ev('message_stop', {})).at(-1)?.usage).toEqual({ prompt_tokens: 16, completion_tokens: 20, total_tokens: 36, prompt_tokens_details: { cached_tokens: 10 } });
  });

  it('turns a mid-stream error event into a mapped GatewayError', () => {
    let err: unknown;
    try {
      replaySse(fixture('error-overloaded.sse'), createAnthropicStreamMapper('claude-x'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 503, type: 'upstream_error', code: 'overloaded_error' });
  });

  it('reports a stream cut before message_stop instead of ending it cleanly', () => {
    const full = fixture('text.sse');
    const cut = full.slice(0, full.indexOf('event: message_delta'));
    expect(() => replaySse(cut, createAnthropicStreamMapper('claude-x'))).toThrow(GatewayError);
  });
});
