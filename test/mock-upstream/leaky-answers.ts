/**
 * A loopback upstream whose answers leak, for the shield on native answers. It speaks
 * - the OpenAI Responses API, `POST /v1/responses`: a Response object (its `output[]` of
 *   `message` items with `output_text` parts, `reasoning` items with summaries, `function_call`
 *   items with `arguments`; `instructions` echoed back as the real API does), and with
 *   `stream: true` the documented SSE events (`event:` named, `sequence_number` increasing):
 *   response.created, response.in_progress, output_item.added, content_part.added,
 *   output_text.delta/.done, content_part.done, reasoning_summary_part.added,
 *   reasoning_summary_text.delta/.done, reasoning_summary_part.done,
 *   function_call_arguments.delta/.done, output_item.done, response.completed (the whole output
 *   again). Per-token logprobs when `include` asks for `message.output_text.logprobs`.
 * - Ollama's native `POST /api/chat` and `/api/generate`: one JSON object with `stream: false`,
 *   otherwise NDJSON lines (`message.content` / `response`, `thinking`, whole `tool_calls` with
 *   object arguments) ending with a `done: true` line carrying the counts (and generate's
 *   `context`).
 * The model name picks the answer (see `answerOf`; `leak-end` ends on the secret, so text is
 * still held when the text is done; `echo` repeats what reached it); text is streamed 3
 * characters at a time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, startJsonMock, type JsonMock } from './json-mock.js';

export interface LeakyAnswers {
  /** A secret that the `leak-*` models answer with. */
  leak: string;
  /** The e-mail the `leak-system` model adds to its echo. */
  email: string;
  /** The text of the `plain` model: nothing to find. */
  plain: string;
}

/** Cuts text into pieces of n characters, as a model streams tokens. */
export const pieces = (s: string, n = 3): string[] => Array.from({ length: Math.ceil(s.length / n) }, (_, i) => s.slice(i * n, i * n + n));

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The app's instructions in a request: Responses `instructions` and developer/system items, Ollama system messages and `system`. */
function systemOf(body: Obj): string {
  const out: string[] = [];
  for (const k of ['instructions', 'system']) if (typeof body[k] === 'string') out.push(body[k]);
  for (const list of [body.input, body.messages]) {
    if (!Array.isArray(list)) continue;
    for (const m of list) {
      if (!isObj(m) || (m.role !== 'system' && m.role !== 'developer')) continue;
      if (typeof m.content === 'string') out.push(m.content);
      else if (Array.isArray(m.content)) for (const p of m.content) if (isObj(p) && typeof p.text === 'string') out.push(p.text);
    }
  }
  return out.join('\n');
}

/** The user's last words: Responses `input` (a string or the last item's text), Ollama's last message or `prompt`. */
function lastUserText(body: Obj): string {
  if (typeof body.input === 'string') return body.input;
  if (typeof body.prompt === 'string') return body.prompt;
  const list = Array.isArray(body.input) ? body.input : Array.isArray(body.messages) ? body.messages : [];
  const last: unknown = list.at(-1);
  if (!isObj(last)) return '';
  if (typeof last.content === 'string') return last.content;
  return Array.isArray(last.content) ? last.content.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('') : '';
}

export function startLeakyAnswers(a: LeakyAnswers): Promise<JsonMock> {
  const text = `Sure, the production key is ${a.leak} - keep it safe.`;
  const args = { token: a.leak, note: 'rotate soon' };
  const answerOf = (model: string, body: Obj): string => {
    if (model.includes('system')) return `My instructions say: ${systemOf(body)} Contact ${a.email} for more.`;
    if (model === 'leak-end') return `Here it is: ${a.leak}`;
    if (model === 'echo') return `You said: ${lastUserText(body)}`;
    return model === 'plain' ? a.plain : text;
  };

  function responses(res: ServerResponse, body: Obj): void {
    const model = String(body.model);
    const logprobs = Array.isArray(body.include) && body.include.includes('message.output_text.logprobs');
    const lp = (t: string) => (logprobs ? pieces(t).map((token) => ({ token, logprob: -0.01, bytes: [...Buffer.from(token)], top_logprobs: [] })) : []);
    const answer = answerOf(model, body);
    const message = (oi: number, t: string) => ({ id: `msg_${oi}`, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: t, annotations: [], logprobs: lp(t) }] });
    const reasoning = (oi: number, t: string) => ({ id: `rs_${oi}`, type: 'reasoning', summary: [{ type: 'summary_text', text: t }] });
    const call = (oi: number) => ({ id: `fc_${oi}`, type: 'function_call', status: 'completed', call_id: 'call_1', name: 'deploy', arguments: JSON.stringify(args) });
    const output = model === 'leak-tool' ? [call(0)] : model === 'leak-reasoning' ? [reasoning(0, text), message(1, a.plain)] : [message(0, answer)];
    const response = (status: string, out: unknown[]) => ({
      id: 'resp_1', object: 'response', created_at: 1, status, error: null, incomplete_details: null,
      instructions: body.instructions ?? null, max_output_tokens: null, model, output: out, parallel_tool_calls: true,
      previous_response_id: null, reasoning: { effort: null, summary: null }, store: false, temperature: 1,
      text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled',
      usage: status === 'completed' ? { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 14 } : null,
      user: null, metadata: {},
    });
    if (body.stream !== true) return json(res, 200, response('completed', output));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    let seq = 0;
    const ev = (type: string, data: Obj) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
    ev('response.created', { response: response('in_progress', []) });
    ev('response.in_progress', { response: response('in_progress', []) });
    output.forEach((item, oi) => {
      const item_id = item.id;
      if (item.type === 'message') {
        const t = (item as ReturnType<typeof message>).content[0].text;
        ev('response.output_item.added', { output_index: oi, item: { ...item, status: 'in_progress', content: [] } });
        ev('response.content_part.added', { item_id, output_index: oi, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
        for (const p of pieces(t)) ev('response.output_text.delta', { item_id, output_index: oi, content_index: 0, delta: p, logprobs: lp(p) });
        ev('response.output_text.done', { item_id, output_index: oi, content_index: 0, text: t, logprobs: lp(t) });
        ev('response.content_part.done', { item_id, output_index: oi, content_index: 0, part: (item as ReturnType<typeof message>).content[0] });
      } else if (item.type === 'reasoning') {
        const t = (item as ReturnType<typeof reasoning>).summary[0].text;
        ev('response.output_item.added', { output_index: oi, item: { ...item, summary: [] } });
        ev('response.reasoning_summary_part.added', { item_id, output_index: oi, summary_index: 0, part: { type: 'summary_text', text: '' } });
        for (const p of pieces(t)) ev('response.reasoning_summary_text.delta', { item_id, output_index: oi, summary_index: 0, delta: p });
        ev('response.reasoning_summary_text.done', { item_id, output_index: oi, summary_index: 0, text: t });
        ev('response.reasoning_summary_part.done', { item_id, output_index: oi, summary_index: 0, part: { type: 'summary_text', text: t } });
      } else {
        const t = (item as ReturnType<typeof call>).arguments;
        ev('response.output_item.added', { output_index: oi, item: { ...item, status: 'in_progress', arguments: '' } });
        for (const p of pieces(t)) ev('response.function_call_arguments.delta', { item_id, output_index: oi, delta: p });
        ev('response.function_call_arguments.done', { item_id, output_index: oi, name: 'deploy', arguments: t });
      }
      ev('response.output_item.done', { output_index: oi, item });
    });
    ev('response.completed', { response: response('completed', output) });
    res.end();
  }

  function ollama(res: ServerResponse, path: string, body: Obj): void {
    const model = String(body.model);
    const chat = path === '/api/chat';
    const answer = answerOf(model, body);
    const created_at = '2025-01-01T00:00:00Z';
    const counts = { done_reason: 'stop', total_duration: 1000, load_duration: 10, prompt_eval_count: 7, prompt_eval_duration: 5, eval_count: 3, eval_duration: 5 };
    const think = model === 'leak-think';
    const content = think ? a.plain : answer;
    const tool_calls = model === 'leak-tool' ? [{ function: { name: 'deploy', arguments: args } }] : undefined;
    // Generate's last object carries the conversation as token ids; a stand-in here.
    const context = chat ? {} : { context: [1, 2, 3] };
    const piece = (c: string, thinking?: string, tc?: unknown) =>
      chat ? { message: { role: 'assistant', content: tc ? '' : c, ...(thinking !== undefined ? { thinking } : {}), ...(tc ? { tool_calls: tc } : {}) } } : { response: c, ...(thinking !== undefined ? { thinking } : {}) };
    if (body.stream === false) return json(res, 200, { model, created_at, ...piece(content, think ? text : undefined, tool_calls), done: true, ...context, ...counts });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (o: Obj) => res.write(`${JSON.stringify({ model, created_at, ...o })}\n`);
    if (think) for (const p of pieces(text)) line({ ...piece('', p), done: false });
    if (tool_calls) line({ ...piece('', undefined, tool_calls), done: false });
    else for (const p of pieces(content)) line({ ...piece(p), done: false });
    line({ ...piece(''), done: true, ...context, ...counts });
    res.end();
  }

  return startJsonMock('leaky answers', (req: IncomingMessage, res: ServerResponse, body) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || !body) return json(res, 404, { error: 'not found' });
    if (path === '/v1/responses') return responses(res, body);
    if (path === '/api/chat' || path === '/api/generate') return ollama(res, path, body);
    return json(res, 404, { error: 'not found' });
  });
}
