import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import { NdjsonParser } from '../_shared/ndjson.js';
import { ollamaNative } from './adapter.js';

const chat = ollamaNative.chat!;

// Line shapes from https://github.com/ollama/ollama/blob/main/docs/api.md ("Generate a chat completion", streaming).
const STREAM = [
  { model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', message: { role: 'assistant', content: 'The' }, done: false },
  { model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', message: { role: 'assistant', content: ' sky' }, done: false },
  { model: 'llama3.2', created_at: '2023-08-04T19:22:45.499127Z', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', total_duration: 4883583458, load_duration: 1334875, prompt_eval_count: 26, prompt_eval_duration: 342546000, eval_count: 282, eval_duration: 4535599000 },
].map((l) => JSON.stringify(l)).join('\n') + '\n';

function replay(body: string): ChatCompletionChunk[] {
  const parser = new NdjsonParser();
  const mapper = chat.createStreamMapper('llama3.2');
  const out: ChatCompletionChunk[] = [];
  const bytes = new TextEncoder().encode(body);
  for (let i = 0; i < bytes.length; i += 9) for (const ev of parser.push(bytes.subarray(i, i + 9))) out.push(...mapper.push(ev));
  for (const ev of parser.end()) out.push(...mapper.push(ev));
  out.push(...mapper.finish());
  return out;
}

describe('ollama native adapter', () => {
  it('declares NDJSON streaming and a keyless local default', () => {
    expect(ollamaNative).toMatchObject({ streamFormat: 'ndjson', keyOptional: true, openAICompatible: false, defaultBaseUrl: 'http://127.0.0.1:11434' });
  });

  it('translates a request: options, explicit stream flag, base64 images, tools and tool results by name', () => {
    const spec = chat.toUpstream({
      model: 'x', temperature: 0.5, max_tokens: 9, stop: 'END', seed: 1,
      response_format: { type: 'json_object' },
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    }, 'llama3.2:3b');
    expect(spec).toEqual({
      path: '/api/chat',
      body: {
        model: 'llama3.2:3b', stream: false, format: 'json',
        options: { temperature: 0.5, num_predict: 9, stop: ['END'], seed: 1 },
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        messages: [
          { role: 'system', content: 'S' },
          { role: 'user', content: 'see', images: ['AAAA'] },
          { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] },
          { role: 'tool', content: 'ok', tool_name: 'f' },
        ],
      },
    });
  });

  it('refuses URL images, forced tool choice and bad model names', () => {
    expect(() => chat.toUpstream({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://e.com/a.png' } }] }] }, 'm')).toThrow(GatewayError);
    expect(() => chat.toUpstream({ model: 'x', messages: [], tool_choice: 'required' }, 'm')).toThrow(/tool_choice/);
    expect(() => chat.toUpstream({ model: 'x', messages: [] }, '../api/delete')).toThrow(GatewayError);
  });

  it('translates a JSON answer with tool calls and usage', () => {
    const out = chat.fromUpstream({ model: 'llama3.2', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: true, done_reason: 'stop', prompt_eval_count: 10, eval_count: 5 }, 'llama3.2');
    expect(out.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } });
    expect(out.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  });

  it('maps the documented NDJSON stream', () => {
    expect(replay(STREAM).map((c) => [c.choices[0].delta, c.choices[0].finish_reason, c.usage ?? null])).toEqual([
      [{ role: 'assistant', content: '' }, null, null],
      [{ content: 'The' }, null, null],
      [{ content: ' sky' }, null, null],
      [{}, 'stop', { prompt_tokens: 26, completion_tokens: 282, total_tokens: 308 }],
    ]);
  });

  it('reports a stream cut before done', () => {
    expect(() => replay(STREAM.split('\n').slice(0, 2).join('\n'))).toThrow(GatewayError);
  });

  it('maps errors and embeddings', () => {
    expect(ollamaNative.mapError!(404, { error: "model 'x' not found, try pulling it first" })).toMatchObject({ status: 404, type: 'not_found_error', code: 'model_not_found' });
    const e = ollamaNative.embeddings!;
    expect(e.toUpstream({ model: 'x', input: ['a'] }, 'all-minilm')).toEqual({ path: '/api/embed', body: { model: 'all-minilm', input: ['a'] } });
    expect(e.fromUpstream({ model: 'all-minilm', embeddings: [[0.1, 0.2]], prompt_eval_count: 3 }, 'all-minilm')).toEqual({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'all-minilm', usage: { prompt_tokens: 3, total_tokens: 3 } });
  });
});
