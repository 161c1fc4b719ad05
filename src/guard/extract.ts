/**
 * Every text part of a request or an answer, with its JSON path and where it came from.
 * Walks content-part arrays (OpenAI, Anthropic, Gemini), tool-call arguments and tool
 * results, instead of stringifying them (InferShield's "[object Object]" bug).
 *
 * Requests of the OpenAI Responses API (`input` items, `instructions`) and of Ollama's native
 * API (`messages`, `prompt`, `system`) are read by the `openai` request walk; their answers
 * have formats of their own: `responses` (`output[]` items) and `ollama` (`message`, or
 * generate's `response`, and `thinking`).
 */
import { formatPath, type PathSegment } from './path.js';
import type { PartSource, TextPart } from './types.js';

export type WireFormat = 'openai' | 'anthropic' | 'gemini' | 'responses' | 'ollama';

// Keys whose string values are identifiers or binary payloads, not text a model reads.
const SKIP_KEYS = new Set([
  'type', 'role', 'id', 'tool_call_id', 'tool_use_id', 'name', 'model', 'mime_type', 'mimeType', 'media_type',
  'image_url', 'inlineData', 'inline_data', 'fileData', 'file_data', 'input_audio', 'cache_control', 'signature',
  'detail', 'finish_reason', 'stop_reason', 'object', 'index',
  // Ollama's base64 images and tool names; a Responses reasoning item's opaque blob and call ids.
  'images', 'tool_name', 'encrypted_content', 'call_id',
]);
// In a Responses answer also: per-token logprobs (the text is read whole), an image call's
// base64 result, and status words.
const RESPONSES_SKIP = new Set([...SKIP_KEYS, 'logprobs', 'top_logprobs', 'result', 'status', 'item_id']);
const SKIP_PART_TYPES = new Set(['image', 'image_url', 'input_image', 'input_audio', 'file', 'input_file']);
const MAX_DEPTH = 32;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Collects every string leaf under `value`. */
function walk(value: unknown, path: PathSegment[], source: PartSource, out: TextPart[], depth = 0, skip: ReadonlySet<string> = SKIP_KEYS): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (value.length > 0 && !value.startsWith('data:')) out.push({ path: formatPath(path), text: value, source });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, [...path, i], source, out, depth + 1, skip));
    return;
  }
  if (!isObj(value)) return;
  if (typeof value.type === 'string' && SKIP_PART_TYPES.has(value.type)) return;
  for (const [k, v] of Object.entries(value)) {
    if (skip.has(k)) continue;
    walk(v, [...path, k], sourceOfKey(k, value, source), out, depth + 1, skip);
  }
}

/** Parts nested in a message can carry a different source than the message (tool results). */
function sourceOfKey(key: string, parent: Obj, inherited: PartSource): PartSource {
  if (parent.type === 'tool_result' || key === 'functionResponse' || key === 'function_response') return 'tool_result';
  if (parent.type === 'tool_use' || key === 'functionCall' || key === 'function_call' || key === 'tool_calls') return 'tool_args';
  if (parent.type === 'document' || parent.type === 'search_result') return 'other';
  return inherited;
}

function sourceOfRole(role: unknown): PartSource {
  switch (role) {
    case 'system':
    case 'developer':
      return 'system';
    case 'assistant':
    case 'model':
      return 'assistant';
    case 'tool':
    case 'function':
      return 'tool_result';
    case 'user':
      return 'user';
    default:
      return 'other';
  }
}

/**
 * A Responses API input item: a message by its role (`developer` and `system` are the app's
 * instructions), a tool's output as a tool result, an earlier call of the model as its
 * arguments.
 */
function sourceOfInputItem(item: Obj): PartSource {
  if (typeof item.role === 'string') return sourceOfRole(item.role);
  const type = typeof item.type === 'string' ? item.type : '';
  if (type.endsWith('_call_output')) return 'tool_result';
  if (type.endsWith('_call')) return 'tool_args';
  if (type === 'reasoning') return 'assistant';
  return 'user';
}

export function extractRequestParts(body: unknown, format: WireFormat = 'openai'): TextPart[] {
  const out: TextPart[] = [];
  if (!isObj(body)) return out;
  if (format === 'gemini') {
    walk(body.systemInstruction ?? body.system_instruction, ['systemInstruction'], 'system', out);
    if (Array.isArray(body.contents)) {
      body.contents.forEach((c, i) => walk(isObj(c) ? c.parts : c, ['contents', i, 'parts'], isObj(c) ? sourceOfRole(c.role ?? 'user') : 'user', out));
    }
    return out;
  }
  // Anthropic's system, and Ollama's (generate); OpenAI has no top-level `system`.
  walk(body.system, ['system'], 'system', out);
  if (Array.isArray(body.messages)) {
    body.messages.forEach((m, i) => {
      if (!isObj(m)) return;
      const source = sourceOfRole(m.role);
      for (const [k, v] of Object.entries(m)) {
        if (SKIP_KEYS.has(k)) continue;
        walk(v, ['messages', i, k], k === 'tool_calls' || k === 'function_call' ? 'tool_args' : source, out);
      }
    });
  }
  // Legacy completions, embeddings and Ollama's generate (`prompt`, `suffix`); Responses API
  // `input` items carry their own role or kind.
  for (const key of ['prompt', 'suffix'] as const) if (body[key] !== undefined) walk(body[key], [key], 'user', out);
  if (Array.isArray(body.input)) body.input.forEach((item, i) => walk(item, ['input', i], isObj(item) ? sourceOfInputItem(item) : 'user', out));
  else if (body.input !== undefined) walk(body.input, ['input'], 'user', out);
  if (body.instructions !== undefined) walk(body.instructions, ['instructions'], 'system', out);
  if (Array.isArray(body.tools)) {
    body.tools.forEach((t, i) => {
      const fn = isObj(t) && isObj(t.function) ? t.function : isObj(t) ? t : null;
      if (fn && typeof fn.description === 'string') {
        const base: PathSegment[] = isObj(t) && isObj(t.function) ? ['tools', i, 'function', 'description'] : ['tools', i, 'description'];
        out.push({ path: formatPath(base), text: fn.description, source: 'tool_definition' });
      }
    });
  }
  return out;
}

export function extractAnswerParts(body: unknown, format: WireFormat = 'openai'): TextPart[] {
  const out: TextPart[] = [];
  if (typeof body === 'string') return [{ path: 'text', text: body, source: 'assistant' }];
  if (!isObj(body)) return out;
  if (format === 'gemini') walk(body.candidates, ['candidates'], 'assistant', out);
  // Only the output: a response also echoes the request's `instructions`, which is no leak.
  else if (format === 'responses') walk(body.output, ['output'], 'assistant', out, 0, RESPONSES_SKIP);
  else if (format === 'ollama') {
    if (isObj(body.message)) walk(body.message, ['message'], 'assistant', out);
    for (const key of ['response', 'thinking'] as const) walk(body[key], [key], 'assistant', out);
  } else if (format === 'anthropic') walk(body.content, ['content'], 'assistant', out);
  else if (Array.isArray(body.choices)) {
    body.choices.forEach((c, i) => {
      if (!isObj(c)) return;
      walk(c.message ?? c.delta ?? c.text, ['choices', i, c.message ? 'message' : c.delta ? 'delta' : 'text'], 'assistant', out);
    });
  }
  return out;
}

/** The system prompt of a request, for leak detection on the answer. */
export function systemPromptOf(body: unknown, format: WireFormat = 'openai'): string {
  return extractRequestParts(body, format)
    .filter((p) => p.source === 'system')
    .map((p) => p.text)
    .join('\n');
}
