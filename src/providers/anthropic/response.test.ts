import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import { fromAnthropicResponse } from './response.js';
import { mapStopReason } from './stop-reason.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8'));

describe('anthropic response translation', () => {
  it('maps a text message', () => {
    const out = fromAnthropicResponse(fixture('message.json'), 'claude-x');
    expect(out).toMatchObject({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
    });
    expect(out.usage?.prompt_tokens_details).toBeUndefined();
  });

  it('maps tool_use blocks to tool_calls with JSON string arguments', () => {
    const out = fromAnthropicResponse(fixture('tool-use.json'), 'claude-x');
    expect(out.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: "I'll check the current weather in San Francisco for you.",
        tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } }],
      },
    });
  });

  it('returns the forced JSON tool input as content with finish_reason stop', () => {
    const out = fromAnthropicResponse({ id: 'm', content: [{ type: 'tool_use', id: 't', name: 'keygate_json_response', input: { answer: 'yes' } }], stop_reason: 'tool_use', usage: { input_tokens: 1, output_tokens: 2 } }, 'claude-x');
    expect(out.choices[0].message).toEqual({ role: 'assistant', content: '{"answer":"yes"}', refusal: null });
    expect(out.choices[0].finish_reason).toBe('stop');
  });

  it('JSON mode: a text preamble before the forced tool is dropped, so the content stays valid JSON', () => {
    const content = [{ type: 'text', text: 'Here it is:' }, { type: 'tool_use', id: 't', name: 'keygate_json_response', input: { answer: 'yes' } }];
    const out = fromAnthropicResponse({ id: 'm', content, stop_reason: 'tool_use', usage: { input_tokens: 1, output_tokens: 2 } }, 'claude-x');
    expect(out.choices[0].message.content).toBe('{"answer":"yes"}');
  });

  it('counts cached input in prompt_tokens and reports it as cached_tokens', () => {
    const out = fromAnthropicResponse({ id: 'm', content: [{ type: 'text', text: 'x' }], stop_reason: 'end_turn', usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 3 } }, 'claude-x');
    expect(out.usage).toEqual({ prompt_tokens: 115, completion_tokens: 3, total_tokens: 118, prompt_tokens_details: { cached_tokens: 100 } });
  });

  it('maps every stop reason', () => {
    expect(mapStopReason('end_turn')).toBe('stop');
    expect(mapStopReason('stop_sequence')).toBe('stop');
    expect(mapStopReason('max_tokens')).toBe('length');
    expect(mapStopReason('tool_use')).toBe('tool_calls');
    expect(mapStopReason('refusal')).toBe('content_filter');
    expect(mapStopReason(null)).toBeNull();
  });

  it('refuses a body that is not a message', () => {
    expect(() => fromAnthropicResponse({ type: 'error' }, 'claude-x')).toThrow(GatewayError);
  });
});
