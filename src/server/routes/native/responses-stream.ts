/**
 * The shield on OpenAI Responses API answers (`POST /v1/responses`), in their own shape.
 *
 * Streams: every text-bearing delta kind (output text, refusals, reasoning text and summaries,
 * function and custom tool arguments, MCP arguments, interpreter code) is one channel per
 * output item and part. Held text goes out as one more delta of the same kind just before the
 * channel's `.done` event. Every event that repeats the whole text (`.done`,
 * `content_part.done`, `output_item.done`, the response in `response.completed`) carries what
 * the client was streamed, redacted, never the upstream's own text: an SDK reading the final
 * response sees exactly what it read from the deltas. Text that never came as deltas is
 * screened whole once. A stream nothing was found in goes out byte for byte (clean-gate.ts);
 * once one is changed, an inserted event moves the following sequence numbers up so they stay
 * strictly increasing. Per-token logprobs of a changed text are dropped (they spell the original).
 */
import type { SseEvent } from '../../../core/provider.js';
import { extractAnswerParts } from '../../../guard/index.js';
import { formatPath, getAt, parsePath, setAt, type PathSegment } from '../../../guard/path.js';
import { isRecord, parseRecord } from '../../../providers/_shared/translate.js';
import type { AnswerStream } from '../../steps/guard.js';
import type { NativeStreamGuard } from './answer-guard.js';
import { CleanGate } from './clean-gate.js';

type Obj = Record<string, unknown>;

/** A delta kind: the `.done` event's whole-text field and where the text sits in its output item. */
interface Kind {
  field: string;
  /** The part-index field of the events and the item's array it indexes (`content[i]`, `summary[i]`). */
  part?: { index: 'content_index' | 'summary_index'; array: 'content' | 'summary' };
  /** Read by a person (checked for the system prompt leaking back), not tool input. */
  prose: boolean;
}

const CONTENT = { index: 'content_index', array: 'content' } as const;
const KINDS: Readonly<Record<string, Kind>> = {
  'response.output_text': { field: 'text', part: CONTENT, prose: true },
  'response.refusal': { field: 'refusal', part: CONTENT, prose: true },
  'response.reasoning_text': { field: 'text', part: CONTENT, prose: true },
  'response.reasoning_summary_text': { field: 'text', part: { index: 'summary_index', array: 'summary' }, prose: true },
  'response.function_call_arguments': { field: 'arguments', prose: false },
  'response.custom_tool_call_input': { field: 'input', prose: false },
  'response.mcp_call_arguments': { field: 'arguments', prose: false },
  'response.code_interpreter_call_code': { field: 'code', prose: false },
};
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const SNAPSHOTS = new Set(['response.created', 'response.queued', 'response.in_progress', ...TERMINAL]);
// Fields a held-text delta copies from the events of its channel.
const ID_FIELDS = ['item_id', 'output_index', 'content_index', 'summary_index'] as const;

interface Channel {
  /** What the client was sent of this text, redacted. */
  sent: string;
  /** The upstream's text, to tell a repeat that differs from it (screened as sent, never relayed). */
  raw: string;
  /** Deltas came: held text is released as one more delta shaped like `template`. */
  streamed: boolean;
  closed: boolean;
  template: Obj | null;
}

const isProse = (itemPath: readonly PathSegment[]): boolean => {
  const last = itemPath[itemPath.length - 1];
  return last === 'text' || last === 'refusal';
};

/** Logprobs next to a text that changed spell the original: dropped. */
function dropLogprobs(holder: unknown): void {
  if (isRecord(holder) && Array.isArray(holder.logprobs) && holder.logprobs.length > 0) holder.logprobs = [];
}

/** One upstream event as screened: its data (changed in place) and held-text deltas to send before it. */
interface Screened {
  ev?: SseEvent;
  data?: Obj;
  inserts: Obj[];
  seq: number | null;
  changed: boolean;
}

export function responsesStream(s: AnswerStream): NativeStreamGuard {
  const channels = new Map<string, Channel>();
  // Inserted events sent so far: every later sequence number moves up by this much.
  let shift = 0;
  let lastSeq = -1;
  let named = true;
  let ended = false;
  const sse = (data: Obj): SseEvent => (named ? { event: String(data.type), data: JSON.stringify(data) } : { data: JSON.stringify(data) });
  const gate = new CleanGate<Screened>((t) => {
    const out: SseEvent[] = [];
    for (const d of t.inserts) {
      if (t.seq !== null) d.sequence_number = t.seq + shift++;
      out.push(sse(d));
    }
    if (!t.ev || !t.data) return out;
    let changed = t.changed;
    if (t.seq !== null && shift > 0) {
      t.data.sequence_number = t.seq + shift;
      changed = true;
    }
    out.push(changed ? { ...t.ev, data: JSON.stringify(t.data) } : t.ev);
    return out;
  });

  const keyOf = (oi: number, itemPath: readonly PathSegment[]) => `${oi}:${formatPath(itemPath)}`;
  const pathOf = (oi: number, itemPath: readonly PathSegment[]) => formatPath(['output', oi, ...itemPath]);

  /** Ends a channel: its held text (a delta to insert, if it streamed) and the whole text the client has. */
  const close = (oi: number, itemPath: readonly PathSegment[], upstream: unknown): { text: string | null; insert: Obj | null } => {
    const key = keyOf(oi, itemPath);
    let ch = channels.get(key);
    // A repeat unlike the text it repeats goes out as the client was sent it, never as it came.
    if (ch && typeof upstream === 'string' && upstream !== ch.raw) gate.changed();
    if (ch?.closed) return { text: ch.sent, insert: null };
    if (ch?.streamed) {
      ch.closed = true;
      const held = s.flush(key);
      gate.track(key, '', held);
      if (!held) return { text: ch.sent, insert: null };
      ch.sent += held;
      return { text: ch.sent, insert: { ...ch.template, delta: held } };
    }
    // Never streamed: the whole text is screened once, and repeated alike wherever it recurs.
    if (typeof upstream !== 'string' || upstream.length === 0) return { text: null, insert: null };
    const text = s.push(key, pathOf(oi, itemPath), upstream, isProse(itemPath)) + s.flush(key);
    gate.track(key, upstream, text);
    ch = { sent: text, raw: upstream, streamed: false, closed: true, template: null };
    channels.set(key, ch);
    return { text, insert: null };
  };

  /** Every text of one output item, as the client was sent it; held deltas to insert first. */
  const settleItem = (oi: number, item: unknown, inserts: Obj[]): { item: unknown; changed: boolean } => {
    if (!isRecord(item)) return { item, changed: false };
    let copy: Obj | null = null;
    for (const part of extractAnswerParts({ output: [item] }, 'responses')) {
      const itemPath = parsePath(part.path).slice(2);
      const { text, insert } = close(oi, itemPath, part.text);
      if (insert) inserts.push(insert);
      if (text === null || text === part.text) continue;
      copy ??= structuredClone(item);
      setAt(copy, itemPath, text);
      dropLogprobs(getAt(copy, itemPath.slice(0, -1)));
    }
    return copy ? { item: copy, changed: true } : { item, changed: false };
  };

  /** Releases what every open channel still holds (before a terminal event, or at the end). */
  const releaseAll = (inserts: Obj[]): void => {
    for (const [key, ch] of channels) {
      if (ch.closed || !ch.streamed) continue;
      ch.closed = true;
      const held = s.flush(key);
      gate.track(key, '', held);
      if (held) {
        ch.sent += held;
        inserts.push({ ...ch.template, delta: held });
      }
    }
  };

  /** Screens one upstream event in place; returns whether it changed, and events to send before it. */
  const handle = (data: Obj, inserts: Obj[]): boolean => {
    const type = String(data.type);
    const oi = typeof data.output_index === 'number' ? data.output_index : -1;
    const dot = type.lastIndexOf('.');
    const kind = KINDS[type.slice(0, dot)];
    const verb = type.slice(dot + 1);
    if (kind && oi >= 0 && (verb === 'delta' || verb === 'done')) {
      const partIndex = kind.part ? data[kind.part.index] : undefined;
      if (kind.part && typeof partIndex !== 'number') return false;
      const itemPath: PathSegment[] = kind.part ? [kind.part.array, partIndex as number, kind.field] : [kind.field];
      const key = keyOf(oi, itemPath);
      if (verb === 'delta') {
        const delta = data.delta;
        if (typeof delta !== 'string' || delta.length === 0) return false;
        let ch = channels.get(key);
        if (!ch) {
          const template: Obj = { type };
          for (const f of ID_FIELDS) if (data[f] !== undefined) template[f] = data[f];
          if (type === 'response.output_text.delta') template.logprobs = [];
          channels.set(key, (ch = { sent: '', raw: '', streamed: true, closed: false, template }));
        }
        // A delta after its channel closed (out of order) is screened as a text of its own.
        const late = ch.closed;
        const out = late ? s.push(`${key}+`, pathOf(oi, itemPath), delta, kind.prose) + s.flush(`${key}+`) : s.push(key, pathOf(oi, itemPath), delta, kind.prose);
        gate.track(late ? `${key}+` : key, delta, out);
        if (!late) {
          ch.sent += out;
          ch.raw += delta;
        }
        if (out === delta) return false;
        data.delta = out;
        dropLogprobs(data);
        return true;
      }
      const { text, insert } = close(oi, itemPath, data[kind.field]);
      if (insert) inserts.push(insert);
      if (text === null || text === data[kind.field]) return false;
      data[kind.field] = text;
      dropLogprobs(data);
      return true;
    }
    if ((type === 'response.content_part.done' || type === 'response.reasoning_summary_part.done') && oi >= 0 && isRecord(data.part)) {
      const [indexField, array] = type === 'response.content_part.done' ? (['content_index', 'content'] as const) : (['summary_index', 'summary'] as const);
      const index = data[indexField];
      if (typeof index !== 'number') return false;
      let changed = false;
      for (const field of ['text', 'refusal']) {
        const { text, insert } = close(oi, [array, index, field], data.part[field]);
        if (insert) inserts.push(insert);
        if (text === null || text === data.part[field]) continue;
        data.part[field] = text;
        dropLogprobs(data.part);
        changed = true;
      }
      return changed;
    }
    if (type === 'response.output_item.done' && oi >= 0) {
      const r = settleItem(oi, data.item, inserts);
      data.item = r.item;
      return r.changed;
    }
    if (type === 'response.output_item.added' || type === 'response.content_part.added' || type === 'response.reasoning_summary_part.added') {
      // Parts begin empty; one that does not is screened whole, its channel still to come.
      const field = type === 'response.output_item.added' ? 'item' : 'part';
      const piece = data[field];
      if (!isRecord(piece)) return false;
      const wrapped = field === 'item' ? { output: [piece] } : { output: [{ type: 'message', content: [piece] }] };
      const screened = s.screenWhole(wrapped, 'responses');
      if (screened === wrapped) return false;
      gate.changed();
      data[field] = field === 'item' ? screened.output[0] : (screened.output[0] as { content: unknown[] }).content[0];
      return true;
    }
    if (SNAPSHOTS.has(type) && isRecord(data.response) && Array.isArray(data.response.output)) {
      if (!TERMINAL.has(type)) {
        // A snapshot mid-stream (normally with no output yet): screened whole, channels left open.
        const screened = s.screenWhole({ output: data.response.output }, 'responses');
        if (screened.output === data.response.output) return false;
        gate.changed();
        data.response.output = screened.output;
        return true;
      }
      releaseAll(inserts);
      let changed = false;
      const output = data.response.output;
      output.forEach((item, i) => {
        const r = settleItem(i, item, inserts);
        if (r.changed) {
          output[i] = r.item;
          changed = true;
        }
      });
      return changed;
    }
    return false;
  };

  return {
    event(ev) {
      const data = parseRecord(ev.data);
      if (!data || typeof data.type !== 'string') return gate.pass(ev, { ev, inserts: [], seq: null, changed: false });
      const seq = typeof data.sequence_number === 'number' ? data.sequence_number : null;
      if (seq !== null) lastSeq = seq;
      named = ev.event !== undefined;
      const inserts: Obj[] = [];
      const changed = handle(data, inserts);
      const out = gate.pass(ev, { ev, data, inserts, seq, changed });
      if (TERMINAL.has(data.type) && !ended) {
        ended = true;
        s.end();
      }
      return out;
    },
    end() {
      // The upstream stopped before a terminal event: held text still goes out, as deltas.
      const out = gate.end(() => {
        const inserts: Obj[] = [];
        releaseAll(inserts);
        return inserts.length ? [{ inserts, seq: lastSeq >= 0 ? lastSeq + 1 : null, changed: false }] : [];
      });
      if (!ended) {
        ended = true;
        s.end();
      }
      return out;
    },
  };
}

/**
 * A whole Responses answer after the shield redacted it (`guarded`): logprobs of content
 * parts whose text changed are dropped, since their tokens spell the original.
 */
export function responsesJson(original: unknown, guarded: unknown): unknown {
  if (!isRecord(original) || !isRecord(guarded) || !Array.isArray(original.output) || !Array.isArray(guarded.output)) return guarded;
  guarded.output.forEach((item: unknown, i: number) => {
    const before = (original.output as unknown[])[i];
    if (!isRecord(item) || !isRecord(before) || !Array.isArray(item.content) || !Array.isArray(before.content)) return;
    item.content.forEach((part: unknown, j: number) => {
      const was = (before.content as unknown[])[j];
      if (isRecord(part) && isRecord(was) && part.text !== was.text) dropLogprobs(part);
    });
  });
  return guarded;
}
