/**
 * OpenAIChunkGuard.screen: null (send the upstream's bytes) only when a chunk goes out exactly
 * as it came; the chunks to send when the shield redacts, holds or releases text.
 */
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import { parseGuardPolicy } from '../../guard/index.js';
import { AnswerStream, OpenAIChunkGuard } from './guard.js';
import { guardTestContext } from '../../../test/support/guard-context.js';

const LEAK = 'sk-proj-CHUNKguardABCDEFGHIJKLMNOPQRSTUV0123456789';

const { ctx, threats } = guardTestContext();

function guard(): OpenAIChunkGuard {
  return new OpenAIChunkGuard(new AnswerStream(ctx, {} as FastifyRequest, parseGuardPolicy({ categories: { pii: { action: 'allow' }, system_prompt_leak: { action: 'allow' } } }), () => null));
}

const chunk = (content: string | undefined, finish: string | null = null): ChatCompletionChunk =>
  ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }] }) as ChatCompletionChunk;

describe('OpenAIChunkGuard.screen', () => {
  it('returns null for plain text, a role-only delta and a finish with nothing held', () => {
    const g = guard();
    expect(g.screen(chunk('Hello there, '))).toBeNull();
    expect(g.screen(chunk(undefined))).toBeNull();
    expect(g.screen(chunk('friend.'))).toBeNull();
    expect(g.screen(chunk(undefined, 'stop'))).toBeNull();
    expect(g.end()).toEqual([]);
  });

  it('returns the changed chunk when text is held, and releases it before the finishing chunk', () => {
    const g = guard();
    const c = chunk('the prefix is sk-');
    const out = g.screen(c);
    expect(out).toEqual([c]);
    expect(c.choices[0].delta.content).toBe('the prefix is ');
    const fin = chunk(undefined, 'stop');
    const released = g.screen(fin)!;
    expect(released.map((x) => x.choices[0].delta.content)).toEqual(['sk-', undefined]);
    expect(released.at(-1)).toBe(fin);
  });

  it('redacts a key split across deltas and never returns null for a delta that carried part of it', () => {
    const g = guard();
    const parts = [`key: ${LEAK.slice(0, 10)}`, LEAK.slice(10, 30), `${LEAK.slice(30)} ok`];
    let text = '';
    for (const p of parts) {
      const c = chunk(p);
      const out = g.screen(c);
      expect(out).not.toBeNull();
      for (const x of out!) text += x.choices[0].delta.content ?? '';
    }
    for (const x of g.end()) text += x.choices[0].delta.content ?? '';
    expect(text).toBe('key: [REDACTED_OPENAI] ok');
    expect(threats.at(-1)).toMatchObject({ direction: 'answer', action: 'redact', categories: 'secret' });
    expect(JSON.stringify(threats)).not.toContain(LEAK.slice(12));
  });

  it('end() releases what is held once; a second call returns nothing', () => {
    const g = guard();
    g.screen(chunk('trailing sk-'));
    expect(g.end().map((x) => x.choices[0].delta.content)).toEqual(['sk-']);
    expect(g.end()).toEqual([]);
  });
});
