import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { toAnthropicRequest } from './request.js';

const base = (over: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: 'anthropic/claude-x',
  messages: [{ role: 'user', content: 'Hi' }],
  ...over,
});
const body = (req: ChatCompletionRequest, opts = {}) => toAnthropicRequest(req, 'claude-x', opts).body as Record<string, unknown>;

describe('anthropic request translation', () => {
  it('targets /v1/messages with the API version header and a default max_tokens', () => {
    const spec = toAnthropicRequest(base(), 'claude-x');
    expect(spec.path).toBe('/v1/messages');
    expect(spec.headers).toEqual({ 'anthropic-version': '2023-06-01' });
    expect(spec.body).toEqual({ model: 'claude-x', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], max_tokens: 4096 });
  });

  it('takes max_tokens from the request, max_completion_tokens first, else from the option', () => {
    expect(body(base({ max_tokens: 10 })).max_tokens).toBe(10);
    expect(body(base({ max_tokens: 10, max_completion_tokens: 20 })).max_tokens).toBe(20);
    expect(body(base(), { defaultMaxTokens: 777 }).max_tokens).toBe(777);
  });

  it('moves system and developer messages to the top-level system prompt', () => {
    const b = body(base({ messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
      { role: 'user', content: 'Hi' },
    ] }));
    expect(b.system).toBe('Be brief.\n\nUse French.');
    expect(b.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  it('maps sampling parameters, stop sequences, stream and user', () => {
    const b = body(base({ temperature: 0.3, top_p: 0.9, stop: 'END', stream: true, user: 'u-1' }));
    expect(b).toMatchObject({ temperature: 0.3, top_p: 0.9, stop_sequences: ['END'], stream: true, metadata: { user_id: 'u-1' } });
    expect(body(base({ stop: ['a', 'b'] })).stop_sequences).toEqual(['a', 'b']);
  });

  it('translates images: http URLs as url sources, data URLs as base64 sources', () => {
    const b = body(base({ messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is this?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
    ] }] }));
    expect((b.messages as Array<{ content: unknown }>)[0].content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
    ]);
  });

  it('refuses images that are neither http(s) nor data URLs', () => {
    expect(() => body(base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }))).toThrow(GatewayError);
  });

  it('translates tool definitions and every tool_choice form', () => {
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    expect(body(base({ tools })).tools).toEqual([{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]);
    expect(body(base({ tools, tool_choice: 'auto' })).tool_choice).toEqual({ type: 'auto' });
    expect(body(base({ tools, tool_choice: 'none' })).tool_choice).toEqual({ type: 'none' });
    expect(body(base({ tools, tool_choice: 'required' })).tool_choice).toEqual({ type: 'any' });
    expect(body(base({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } })).tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    expect(body(base({ tools, parallel_tool_calls: false })).tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    // Without tools there is nothing to choose from: no tool_choice is sent.
    expect(body(base({ tool_choice: 'none' }))).not.toHaveProperty('tool_choice');
  });

  it('turns assistant tool_calls into tool_use blocks and merges consecutive tool results into one user turn', () => {
    const b = body(base({ messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
      ] },
      { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
      { role: 'user', content: 'Thanks, which is warmer?' },
    ] }));
    expect(b.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      { role: 'assistant', content: [
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: '24C' },
        { type: 'text', text: 'Thanks, which is warmer?' },
      ] },
    ]);
  });

  it('keeps multi-turn order and assistant text', () => {
    const b = body(base({ messages: [
      { role: 'user', content: 'A' },
      { role: 'assistant', content: 'B' },
      { role: 'user', content: 'C' },
    ] }));
    expect((b.messages as Array<{ role: string }>).map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('refuses tool call arguments that are not a JSON object', () => {
    expect(() => body(base({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '[1' } }] }] }))).toThrow(/JSON object/);
  });

  it('implements response_format json_schema with a forced tool whose schema is the client schema', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const b = body(base({ response_format: { type: 'json_schema', json_schema: { name: 'a', schema } } }));
    expect(b.tools).toEqual([{ name: 'keygate_json_response', description: expect.any(String), input_schema: schema }]);
    expect(b.tool_choice).toEqual({ type: 'tool', name: 'keygate_json_response' });
    expect(body(base({ response_format: { type: 'json_object' } })).tools).toEqual([expect.objectContaining({ input_schema: { type: 'object' } })]);
  });

  it('falls back to a system instruction for JSON when the client brings its own tools', () => {
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'f' } }];
    const b = body(base({ tools, response_format: { type: 'json_object' }, messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }] }));
    expect((b.tools as unknown[]).length).toBe(1);
    expect(b.system).toMatch(/^S\n\nAnswer only with a valid JSON object/);
  });

  it('answers 400 naming the parameter and the provider for unsupported parameters', () => {
    for (const [param, value] of [['n', 2], ['logprobs', true], ['presence_penalty', 0.5], ['frequency_penalty', 1], ['seed', 1], ['logit_bias', { 1: 2 }]] as const) {
      try {
        body(base({ [param]: value }));
        expect.unreachable(`${param} should be refused`);
      } catch (err) {
        expect(err).toBeInstanceOf(GatewayError);
        const e = err as GatewayError;
        expect(e.status).toBe(400);
        expect(e.param).toBe(param);
        expect(e.message).toContain(`'${param}'`);
        expect(e.message).toContain('Anthropic');
      }
    }
  });

  it('accepts defaults of unsupported parameters, and drops set ones when configured', () => {
    expect(() => body(base({ n: 1, logprobs: false, top_logprobs: 0, presence_penalty: 0, seed: null }))).not.toThrow();
    const b = body(base({ n: 3, logprobs: true, presence_penalty: 1 }), { dropUnsupportedParams: true });
    expect(b).not.toHaveProperty('n');
    expect(b).not.toHaveProperty('logprobs');
    expect(b).not.toHaveProperty('presence_penalty');
  });

  it('does not forward unknown fields', () => {
    expect(body(base({ some_vendor_field: 1 }))).not.toHaveProperty('some_vendor_field');
  });
});
