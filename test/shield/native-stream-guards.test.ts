/**
 * The Responses and Ollama stream guards event by event, on what an e2e mock does not send:
 * a stream cut before its end, a repeat unlike its deltas, text that arrives only in
 * `response.completed`, an unchanged stream held back whole and then sent byte for byte.
 */
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { SseEvent } from '../../src/core/provider.js';
import { parseGuardPolicy } from '../../src/guard/index.js';
import { ollamaStream } from '../../src/server/routes/native/ollama-stream.js';
import { responsesStream } from '../../src/server/routes/native/responses-stream.js';
import { MAX_WAITING } from '../../src/server/routes/native/clean-gate.js';
import { AnswerStream } from '../../src/server/steps/guard.js';
import { guardTestContext } from '../support/guard-context.js';

const LEAK = 'sk-proj-GUARDunitABCDEFGHIJKLMNOPQRSTUV0123456789';

const { ctx } = guardTestContext();

const stream = () => new AnswerStream(ctx, {} as FastifyRequest, parseGuardPolicy({ categories: { pii: { action: 'allow' }, system_prompt_leak: { action: 'allow' } } }), () => null);

let seq = 0;
const rev = (type: string, data: Record<string, unknown>): SseEvent => ({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...data }) });
const delta = (d: string) => rev('response.output_text.delta', { item_id: 'msg_0', output_index: 0, content_index: 0, delta: d, logprobs: [] });
const parsed = (evs: SseEvent[]) => evs.map((e) => JSON.parse(e.data) as Record<string, any>);
const text = (evs: SseEvent[]) => parsed(evs).filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta as string).join('');

describe('responsesStream', () => {
  it('holds an unchanged stream back whole while text is held, then sends the very same events', () => {
    seq = 0;
    const g = responsesStream(stream());
    const a = delta('the prefix is sk-');
    expect(g.event(a)).toEqual([]);
    const b = delta('and more text follows.');
    const out = g.event(b);
    expect(out[0]).toBe(a);
    expect(out[1]).toBe(b);
  });

  it('sends held text as a delta at the end of a stream cut before response.completed', () => {
    seq = 0;
    const g = responsesStream(stream());
    const out = [...g.event(delta('key: ')), ...g.event(delta(LEAK.slice(0, 20))), ...g.event(delta(LEAK.slice(20)))];
    const tail = g.end();
    const all = [...out, ...tail];
    expect(text(all)).toBe('key: [REDACTED_OPENAI]');
    // The three upstream deltas (waiting while the key was held) and one of ours, numbered after them.
    expect(all).toHaveLength(4);
    expect(all.every((e) => e.event === 'response.output_text.delta')).toBe(true);
    expect(parsed(all).map((e) => e.sequence_number)).toEqual([0, 1, 2, 3]);
  });

  it('repeats the text the client was sent in .done, never an upstream text unlike its deltas', () => {
    seq = 0;
    const g = responsesStream(stream());
    const out = [...g.event(delta('all good here.')), ...g.event(rev('response.output_text.done', { item_id: 'msg_0', output_index: 0, content_index: 0, text: `all good here. ${LEAK}`, logprobs: [] }))];
    const done = parsed(out).find((e) => e.type === 'response.output_text.done');
    expect(done?.text).toBe('all good here.');
  });

  it('screens whole a text that arrives only in response.completed', () => {
    seq = 0;
    const g = responsesStream(stream());
    const item = { id: 'msg_0', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `use ${LEAK}`, annotations: [] }] };
    const out = parsed(g.event(rev('response.completed', { response: { id: 'r', object: 'response', status: 'completed', output: [item] } })));
    expect(out[0].response.output[0].content[0].text).toBe('use [REDACTED_OPENAI]');
    expect(g.end()).toEqual([]);
  });
});

describe('ollamaStream', () => {
  const line = (message: Record<string, unknown>, done = false): SseEvent => ({ data: JSON.stringify({ model: 'm', created_at: 't', message: { role: 'assistant', ...message }, done }) });

  it('sends held text as one more line when the stream stops without its done line', () => {
    const g = ollamaStream(stream());
    const out = [...g.event(line({ content: 'key: ' })), ...g.event(line({ content: LEAK.slice(0, 25) })), ...g.event(line({ content: LEAK.slice(25) })), ...g.end()];
    const lines = out.map((e) => JSON.parse(e.data) as { message: { content: string }; done: boolean });
    expect(lines.map((l) => l.message.content).join('')).toBe('key: [REDACTED_OPENAI]');
    expect(lines.every((l) => l.done === false)).toBe(true);
  });

  it('relays an error line in its place and an unchanged line as it came', () => {
    const g = ollamaStream(stream());
    const hi = line({ content: 'Hello' });
    const err = { data: '{"error":"model runner stopped"}' };
    expect(g.event(hi)).toEqual([hi]);
    expect(g.event(err)).toEqual([err]);
  });

  it('redacts tool call arguments that arrive whole, keeping them an object', () => {
    const g = ollamaStream(stream());
    const out = g.event(line({ content: '', tool_calls: [{ function: { name: 'deploy', arguments: { token: LEAK } } }] }));
    expect(JSON.parse(out[0].data).message.tool_calls[0].function.arguments).toEqual({ token: '[REDACTED_OPENAI]' });
  });
});

describe('a policy that always holds text back (personal data redacted)', () => {
  it('does not wait for the end of the stream: events flow after at most MAX_WAITING, the text whole', () => {
    seq = 0;
    const policy = parseGuardPolicy({ categories: { pii: { action: 'redact' }, system_prompt_leak: { action: 'allow' } } });
    const g = responsesStream(new AnswerStream(ctx, {} as FastifyRequest, policy, () => null));
    const words = Array.from({ length: 60 }, (_, i) => `word${i} `);
    const out: SseEvent[] = [];
    let firstOut = -1;
    words.forEach((w, i) => {
      const got = g.event(delta(w));
      if (got.length && firstOut < 0) firstOut = i;
      out.push(...got);
    });
    expect(firstOut).toBeGreaterThanOrEqual(0);
    expect(firstOut).toBeLessThanOrEqual(MAX_WAITING);
    out.push(...g.event(rev('response.output_text.done', { item_id: 'msg_0', output_index: 0, content_index: 0, text: words.join(''), logprobs: [] })), ...g.end());
    expect(text(out)).toBe(words.join(''));
    expect(parsed(out).find((e) => e.type === 'response.output_text.done')?.text).toBe(words.join(''));
  });
});
