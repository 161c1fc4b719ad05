/**
 * The shield on Ollama's native answers (`/api/chat`, `/api/generate`), in their own shape.
 *
 * Streams are NDJSON, one object a line: the text is `message.content` (chat) or `response`
 * (generate), the reasoning `message.thinking` or `thinking`; a line's tool calls arrive whole
 * (arguments as an object) and are screened as one piece. Each text is one channel; what it
 * holds back is appended to the `done: true` line, which ends every Ollama stream (or sent as
 * one more line if the upstream stopped without it). A stream nothing was changed in goes out
 * byte for byte (clean-gate.ts). Once the answer changed, per-token logprobs of the changed
 * lines and generate's `context` (token ids that spell the original answer) are dropped.
 */
import type { SseEvent } from '../../../core/provider.js';
import { isRecord, parseRecord } from '../../../providers/_shared/translate.js';
import type { AnswerStream } from '../../steps/guard.js';
import type { NativeStreamGuard } from './answer-guard.js';
import { CleanGate } from './clean-gate.js';

type Obj = Record<string, unknown>;

/** Where a line's texts sit: chat nests them in `message`, generate keeps them at the top. */
function holderOf(line: Obj): { holder: Obj; text: 'content' | 'response'; base: string } | null {
  if (isRecord(line.message)) return { holder: line.message, text: 'content', base: 'message.' };
  if (typeof line.response === 'string' || typeof line.thinking === 'string') return { holder: line, text: 'response', base: '' };
  return null;
}

/** One line as screened: the original event, and the line changed in place when `changed`. */
interface Screened {
  ev: SseEvent;
  line: Obj | null;
  changed: boolean;
}

export function ollamaStream(s: AnswerStream): NativeStreamGuard {
  const gate = new CleanGate<Screened>((t) => [t.changed && t.line ? { data: JSON.stringify(t.line) } : t.ev]);
  let chat = true;
  let like: Obj = {};
  let ended = false;

  return {
    event(ev) {
      const line = parseRecord(ev.data);
      const where = line && holderOf(line);
      // Not an answer line (an error object): relayed as it came, in its place.
      if (!line || !where) return gate.pass(ev, { ev, line: null, changed: false });
      const { holder, base } = where;
      chat = where.text === 'content';
      like = { model: line.model, created_at: line.created_at };
      let changed = false;
      for (const field of [where.text, 'thinking']) {
        const text = holder[field];
        if (typeof text !== 'string' || text.length === 0) continue;
        const out = s.push(field, `${base}${field}`, text);
        gate.track(field, text, out);
        if (out !== text) {
          holder[field] = out;
          changed = true;
        }
      }
      if (Array.isArray(holder.tool_calls) && holder.tool_calls.length > 0) {
        const piece = { message: { tool_calls: holder.tool_calls } };
        const screened = s.screenWhole(piece, 'ollama');
        if (screened !== piece) {
          holder.tool_calls = screened.message.tool_calls;
          gate.changed();
          changed = true;
        }
      }
      if (changed) dropLogprobs(line);
      if (line.done === true && !ended) {
        for (const field of [where.text, 'thinking']) {
          const held = s.flush(field);
          gate.track(field, '', held);
          if (!held) continue;
          holder[field] = `${typeof holder[field] === 'string' ? String(holder[field]) : ''}${held}`;
          changed = true;
        }
        if (line.context !== undefined && gate.dirty) {
          delete line.context;
          changed = true;
        }
        ended = true;
        s.end();
      }
      return gate.pass(ev, { ev, line, changed });
    },
    end() {
      if (ended) return gate.end(() => []);
      ended = true;
      const out = gate.end(() =>
        s.flushAll().map(([field, held]): Screened => {
          gate.track(field, '', held);
          const text = chat ? { message: { role: 'assistant', content: '', [field]: held } } : { response: '', [field]: held };
          return { ev: { data: '' }, line: { ...like, ...text, done: false }, changed: true };
        }),
      );
      s.end();
      return out;
    },
  };
}

function dropLogprobs(line: Obj): void {
  if (Array.isArray(line.logprobs) && line.logprobs.length > 0) line.logprobs = [];
}

/**
 * A whole Ollama answer after the shield redacted it (`guarded`): its `context` and logprobs
 * spell the original answer, so they go.
 */
export function ollamaJson(guarded: unknown): unknown {
  if (!isRecord(guarded)) return guarded;
  delete guarded.context;
  dropLogprobs(guarded);
  return guarded;
}
