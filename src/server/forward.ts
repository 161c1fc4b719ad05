/**
 * Forwards one OpenAI-format call (chat or embeddings) to its provider and sends the answer
 * back: JSON, or SSE passed through event by event as it arrives. OpenAI-compatible providers
 * get the body with only the model rewritten; others go through their adapter's translator.
 * A client that disconnects aborts the upstream call at once.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errorTypeForStatus, errors, type ErrorType } from '../core/errors.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, EmbeddingsRequest, Usage } from '../core/openai-types.js';
import type { StreamMapper, SseEvent } from '../core/provider.js';
import { redactText } from '../core/redact.js';
import { NdjsonParser } from '../providers/_shared/ndjson.js';
import { SseParser, formatSse } from '../providers/_shared/sse.js';
import type { ModelRoute } from '../providers/registry.js';
import { upstreamFailure, type UpstreamClient, type UpstreamResponse } from '../upstream/http-client.js';
import type { UpstreamKey } from './custody.js';
import type { AnswerGuard, ChunkGuard } from './steps/guard.js';
import { writeOrWait } from './stream-write.js';
import { CallAbort } from '../upstream/call-abort.js';

export type Endpoint = 'chat' | 'embeddings';

export interface CallOutcome {
  status: number;
  usage: Usage | null;
  errorCode: string | null;
  /** The error type the client was answered with, when the outcome is an error (for the metric). */
  errorType?: ErrorType;
  /** Time spent waiting on the upstream (request sent to last byte), for the overhead metric. */
  upstreamMs?: number;
  /** A stream's answer text, kept only from a provider that reports no stream usage (for the token estimate). */
  answerText?: string;
}

/** The outcome of a call that threw: its status, code and type, as the client is answered. */
export function failedOutcome(err: unknown): CallOutcome {
  if (err instanceof GatewayError) return { status: err.status, usage: null, errorCode: err.code, errorType: err.type };
  const e = err as { status?: number; code?: string } | null;
  return { status: e?.status ?? 500, usage: null, errorCode: e?.code ?? 'internal_error' };
}

export interface ForwardInput {
  endpoint: Endpoint;
  route: ModelRoute;
  body: ChatCompletionRequest | EmbeddingsRequest;
  upstreamKey: UpstreamKey;
  totalTimeoutMs: number;
  /** The shield on the answer (chat only). */
  answerGuard?: AnswerGuard | null;
}

interface Prepared {
  path: string;
  body: string;
  headers: Record<string, string>;
  stream: boolean;
  /** The gateway asked for stream usage on the client's behalf: drop the usage-only chunk. */
  hideUsageChunk: boolean;
  mapper: StreamMapper | null;
}

export async function forward(
  upstream: UpstreamClient,
  req: FastifyRequest,
  reply: FastifyReply,
  input: ForwardInput,
): Promise<CallOutcome> {
  const { route } = input;
  const provider = route.provider;
  const prepared = prepare(input);

  // One controller for client disconnects and the whole-call deadline.
  const abort = new CallAbort();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.on('close', onClose);
  // The deadline covers a JSON call whole, a stream until its response headers arrive: after
  // the first byte the idle timeout governs, so a long answer that keeps flowing is never cut.
  const deadline = setTimeout(() => abort.abort(new DOMException('deadline', 'TimeoutError')), input.totalTimeoutMs);

  // The key is revealed at the last moment and only into the outgoing headers.
  const key = input.upstreamKey.key;
  const headers = { ...prepared.headers, ...(key ? provider.adapter.authHeaders(key.reveal()) : {}) };

  let res: UpstreamResponse;
  const sentAt = performance.now();
  try {
    res = await upstream.request({ origin: provider.origin, path: prepared.path, method: 'POST', headers, body: prepared.body, signal: abort });
  } catch (err) {
    clearTimeout(deadline);
    reply.raw.off('close', onClose);
    if (abort.aborted && reply.raw.destroyed) return { status: 499, usage: null, errorCode: 'client_closed' };
    throw upstreamFailure(abort.reason ?? err, provider.adapter.displayName);
  }
  if (prepared.stream) clearTimeout(deadline);

  setRouteHeaders(reply, input.route);
  try {
    if (res.statusCode >= 400) throw await upstreamError(res, input);
    const outcome = prepared.stream ? await streamBack(res, reply, prepared, input, abort) : await jsonBack(res, reply, input);
    outcome.upstreamMs = performance.now() - sentAt;
    return outcome;
  } catch (err) {
    if (abort.aborted && reply.raw.destroyed) return { status: 499, usage: null, errorCode: 'client_closed' };
    throw upstreamFailure(abort.reason instanceof DOMException ? abort.reason : err, provider.adapter.displayName);
  } finally {
    clearTimeout(deadline);
    reply.raw.off('close', onClose);
  }
}

function prepare(input: ForwardInput): Prepared {
  const { adapter, basePath } = input.route.provider;
  const stream = input.endpoint === 'chat' && (input.body as ChatCompletionRequest).stream === true;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
  };
  if (adapter.openAICompatible) {
    const body: Record<string, unknown> = { ...input.body, model: input.route.model };
    let hideUsageChunk = false;
    if (stream && adapter.streamUsage) {
      const opts = (body.stream_options ?? {}) as { include_usage?: boolean };
      if (opts.include_usage !== true) {
        body.stream_options = { ...opts, include_usage: true };
        hideUsageChunk = true;
      }
    }
    const path = basePath + (input.endpoint === 'chat' ? '/chat/completions' : '/embeddings');
    return { path, body: JSON.stringify(body), headers, stream, hideUsageChunk, mapper: null };
  }
  const translator = input.endpoint === 'chat' ? adapter.chat : adapter.embeddings;
  if (!translator) throw errors.invalidBody(`The provider ${adapter.displayName} does not support ${input.endpoint === 'chat' ? 'chat completions' : 'embeddings'}.`, 'model');
  const spec =
    input.endpoint === 'chat'
      ? adapter.chat!.toUpstream(input.body as ChatCompletionRequest, input.route.model)
      : adapter.embeddings!.toUpstream(input.body as EmbeddingsRequest, input.route.model);
  return {
    path: basePath + spec.path,
    body: JSON.stringify(spec.body),
    headers: { ...headers, ...spec.headers },
    stream,
    hideUsageChunk: false,
    mapper: stream ? adapter.chat!.createStreamMapper(input.route.model) : null,
  };
}

function setRouteHeaders(reply: FastifyReply, route: ModelRoute): void {
  reply.header('x-keygate-provider', route.provider.id);
  reply.header('x-keygate-model', route.model);
}

async function jsonBack(res: UpstreamResponse, reply: FastifyReply, input: ForwardInput): Promise<CallOutcome> {
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw errors.upstreamBadResponse(input.route.provider.adapter.displayName);
  }
  if (!parsed || typeof parsed !== 'object') throw errors.upstreamBadResponse(input.route.provider.adapter.displayName);
  const adapter = input.route.provider.adapter;
  let out: unknown = parsed;
  if (!adapter.openAICompatible) {
    out = input.endpoint === 'chat' ? adapter.chat!.fromUpstream(parsed, input.route.model) : adapter.embeddings!.fromUpstream(parsed, input.route.model, input.body as EmbeddingsRequest);
  }
  const usage = readUsage((out as { usage?: unknown }).usage);
  const guarded = input.answerGuard && input.endpoint === 'chat' ? input.answerGuard.json(out as ChatCompletion) : null;
  reply.code(200).header('content-type', 'application/json; charset=utf-8');
  // A compatible answer is sent as the bytes it came in (unless the shield changed it);
  // a translated one is serialised once.
  await reply.send(guarded ? JSON.stringify(guarded) : adapter.openAICompatible ? text : JSON.stringify(out));
  return { status: 200, usage, errorCode: null };
}

async function streamBack(
  res: UpstreamResponse,
  reply: FastifyReply,
  prepared: Prepared,
  input: ForwardInput,
  abort: CallAbort,
): Promise<CallOutcome> {
  reply.code(200).headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  // Written straight to the response, not through a PassThrough that Fastify pipes to it: one
  // stream hop less for every event. onResponse hooks (access log, usage, tracing) still run.
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, reply.getHeaders() as OutgoingHttpHeaders);

  const sse = input.route.provider.adapter.streamFormat === 'ndjson' ? null : new SseParser();
  const parser = sse ?? new NdjsonParser();
  const guard: ChunkGuard | null = input.answerGuard ? input.answerGuard.stream() : null;
  let usage: Usage | null = null;
  let sawDone = false;
  // The first error event the upstream sent mid-stream: the call is recorded with it.
  const seen: { error: GatewayError | null } = { error: null };
  // Only for a provider that never reports stream usage: its answer is counted with a tokenizer.
  const answer: string[] | null = input.route.provider.adapter.streamUsage || prepared.mapper ? null : [];
  const estimate = (): { answerText?: string } => (answer && !usage ? { answerText: answer.join('') } : {});

  // Everything one upstream network piece produces goes out in one write: one syscall and
  // at most one wait for drain per piece, not per event.
  let pending: string[] = [];
  const write = (text: string) => {
    pending.push(text);
  };
  const flushPending = async () => {
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0] : pending.join('');
    pending = [];
    await writeOrWait(out, text, abort);
  };
  const writeChunks = (chunks: readonly ChatCompletionChunk[]) => {
    for (const c of chunks) write(`data: ${JSON.stringify(c)}\n\n`);
  };
  const writeChunk = (chunk: ChatCompletionChunk) => writeChunks(guard ? guard.chunk(chunk) : [chunk]);
  const translated = (ev: SseEvent) => {
    for (const chunk of prepared.mapper!.push(ev)) {
      if (chunk.usage) usage = readUsage(chunk.usage);
      writeChunk(chunk);
    }
  };
  /**
   * One event of an OpenAI-compatible upstream. It goes out as the upstream's own text `raw`
   * (when the parser gives it) unless something in it must change: text the shield redacts,
   * holds back or releases, or the usage-only chunk the gateway asked for on the client's
   * behalf. Returns true when exactly `raw` was written.
   */
  const passEvent = (ev: SseEvent, raw?: string): boolean => {
    const asIs = () => {
      write(raw ?? formatSse(ev));
      return raw !== undefined;
    };
    if (ev.data === '[DONE]') {
      sawDone = true;
      const held = guard ? guard.end() : [];
      writeChunks(held);
      return asIs() && held.length === 0;
    }
    // An error the upstream reports mid-stream is told in our envelope, masked as an upstream
    // error answer is (a provider may echo the key it was given), never passed as it came.
    if (ev.data.includes('"error"')) {
      const e = safeParse(ev.data) as { error?: unknown; choices?: unknown } | null;
      if (e && typeof e === 'object' && e.error && !Array.isArray(e.choices)) {
        const ge = streamedUpstreamError(e.error, input);
        seen.error ??= ge;
        write(`data: ${JSON.stringify(ge.toJSON())}\n\n`);
        return false;
      }
    }
    if (guard) {
      // The shield reads every delta; it says whether the chunk goes out as it came. The
      // client then gets the upstream's bytes: the same JSON the shield parsed and read.
      const chunk = safeParse(ev.data) as ChatCompletionChunk | null;
      if (chunk && Array.isArray(chunk.choices)) {
        const u = readUsage(chunk.usage);
        if (u) usage = u;
        if (answer) answer.push(deltaText(chunk));
        if (prepared.hideUsageChunk && chunk.choices.length === 0 && u) return false;
        const screened = guard.screen(chunk);
        if (!screened) return asIs();
        writeChunks(screened);
        return false;
      }
      // Data that is not a chunk carries no text the shield can read: with the shield on it is
      // dropped, not passed unread (an OpenAI stream has chunks and [DONE] only; SDKs reject the rest).
      if (!chunk) return false;
    }
    // Only chunks that carry a usage object are parsed; the rest pass through untouched.
    if (ev.data.includes('"usage":{') || ev.data.includes('"usage": {')) {
      const chunk = safeParse(ev.data) as { usage?: unknown; choices?: unknown[] } | null;
      const u = readUsage(chunk?.usage);
      if (u) usage = u;
      if (prepared.hideUsageChunk && chunk && Array.isArray(chunk.choices) && chunk.choices.length === 0) return false;
    } else if (answer) {
      answer.push(deltaText(safeParse(ev.data) as ChatCompletionChunk | null));
    }
    return asIs();
  };
  const emitEvent = (ev: SseEvent) => {
    if (prepared.mapper) translated(ev);
    else passEvent(ev);
  };
  /**
   * One network piece; returns the piece itself when it is to go out as it came. From an
   * OpenAI-compatible SSE upstream, a piece that holds whole events only, every one of them
   * passed as it came, is written as is: the upstream's bytes, not re-encoded.
   */
  const onPiece = (piece: Buffer): Buffer | null => {
    if (!sse || prepared.mapper) {
      for (const ev of parser.push(piece)) emitEvent(ev);
      return null;
    }
    let untouched = sse.idle;
    const blocks = sse.pushRaw(piece);
    for (const block of blocks) {
      // A comment-only block (a keep-alive) is dropped, as before.
      const passed = block.ev ? passEvent(block.ev, block.raw) : false;
      // U+FFFD may stand for bytes that were not UTF-8: the text the shield read then goes
      // out (re-encoded), never bytes a lenient client could decode otherwise.
      if (!passed || block.raw.includes('\uFFFD')) untouched = false;
    }
    return untouched && blocks.length > 0 && sse.idle ? piece : null;
  };

  try {
    for await (const piece of res.body) {
      const whole = onPiece(piece as Buffer);
      if (whole) {
        // Its events were written as their own text: the same bytes, sent without re-encoding.
        pending = [];
        await writeOrWait(out, whole, abort);
      } else await flushPending();
    }
    for (const ev of parser.end()) emitEvent(ev);
    if (prepared.mapper) {
      for (const chunk of prepared.mapper.finish()) {
        if (chunk.usage) usage = readUsage(chunk.usage);
        writeChunk(chunk);
      }
      if (guard) writeChunks(guard.end());
      write('data: [DONE]\n\n');
      sawDone = true;
    } else if (guard && !sawDone) {
      writeChunks(guard.end());
    }
    if (!sawDone && !seen.error) {
      // Closed cleanly but without [DONE] (and without an error event, which says why): the answer may be cut short, and the client is told
      // so in-band (an SDK raises it) instead of taking a partial answer for a whole one.
      const ge = errors.streamIncomplete(input.route.provider.adapter.displayName);
      write(`data: ${JSON.stringify(ge.toJSON())}\n\n`);
      await flushPending();
      out.end();
      return { status: ge.status, usage, errorCode: ge.code, errorType: ge.type, ...estimate() };
    }
    await flushPending();
    out.end();
    if (seen.error) return { status: seen.error.status, usage, errorCode: seen.error.code, errorType: seen.error.type, ...estimate() };
    return { status: 200, usage, errorCode: null, ...estimate() };
  } catch (err) {
    if (abort.aborted && reply.raw.destroyed) {
      out.destroy();
      return { status: 499, usage, errorCode: 'client_closed' };
    }
    // Headers are gone: the failure is told in-band as an error event, then the stream ends.
    await flushPending().catch(() => undefined);
    const ge = upstreamFailure(err, input.route.provider.adapter.displayName);
    out.end(`data: ${JSON.stringify(ge.toJSON())}\n\n`);
    return { status: ge.status, usage, errorCode: ge.code, errorType: ge.type };
  }
}

/** The delta text of one chunk, over all its choices. */
function deltaText(chunk: ChatCompletionChunk | null): string {
  if (!chunk || !Array.isArray(chunk.choices)) return '';
  let text = '';
  for (const c of chunk.choices) if (typeof c?.delta?.content === 'string') text += c.delta.content;
  return text;
}

/** An upstream error object's code and message, cut to length and masked (a provider may echo the key it was given). */
function maskedErrorWords(err: unknown, secrets: readonly string[]): { code: string; message: string | null } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; type?: unknown; code?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.type === 'string' ? e.type : 'upstream_error';
  return { code: redactText(code, secrets).slice(0, 100), message: typeof e.message === 'string' ? redactText(e.message, secrets).slice(0, 2000) : null };
}

/** An error event inside an upstream stream, in our envelope, masked as upstreamError() masks. */
function streamedUpstreamError(err: unknown, input: ForwardInput): GatewayError {
  const words = maskedErrorWords(err, input.upstreamKey.key ? [input.upstreamKey.key.reveal()] : []);
  return new GatewayError(502, 'upstream_error', words.code, words.message ?? `The ${input.route.provider.adapter.displayName} upstream reported an error mid-stream.`);
}

/** Reads an upstream error answer into our envelope, masking any key it echoes. */
async function upstreamError(res: UpstreamResponse, input: ForwardInput): Promise<GatewayError> {
  const provider = input.route.provider.adapter;
  const text = await res.body.text().catch(() => '');
  const secrets = input.upstreamKey.key ? [input.upstreamKey.key.reveal()] : [];
  const status = res.statusCode;
  const parsed = safeParse(text);
  const mapped = provider.mapError && parsed ? provider.mapError(status, parsed) : null;
  // The gateway's own key was refused (some providers say so with a 400): the client did
  // nothing wrong, and must not be told 401.
  const effective = mapped?.status ?? status;
  if (input.upstreamKey.custody === 'server' && (effective === 401 || effective === 403)) {
    return new GatewayError(502, 'upstream_error', 'upstream_auth_failed', `The ${provider.displayName} upstream refused the gateway's provider key. An operator must check it.`);
  }
  const retryAfter = res.headers['retry-after'];
  const headers = typeof retryAfter === 'string' && (effective === 429 || effective >= 500) ? { 'retry-after': retryAfter } : undefined;
  // fallbackOn is matched against the upstream's own status (ours maps every 5xx to 502).
  const upstreamStatus = status;
  if (mapped) return new GatewayError(mapped.status, mapped.type, mapped.code, redactText(mapped.message, secrets), { headers, upstreamStatus });
  const e = (parsed as { error?: unknown } | null)?.error;
  const clientStatus = status >= 500 ? 502 : status;
  const words = e ? maskedErrorWords(e, secrets) : null;
  if (words && words.message !== null) return new GatewayError(clientStatus, errorTypeForStatus(status), words.code, words.message, { headers, upstreamStatus });
  return new GatewayError(clientStatus, errorTypeForStatus(status), 'upstream_error', `The ${provider.displayName} upstream answered with status ${status}.`, { headers, upstreamStatus });
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function readUsage(u: unknown): Usage | null {
  if (!u || typeof u !== 'object') return null;
  const o = u as Record<string, unknown>;
  const prompt = typeof o.prompt_tokens === 'number' ? o.prompt_tokens : 0;
  const completion = typeof o.completion_tokens === 'number' ? o.completion_tokens : 0;
  const total = typeof o.total_tokens === 'number' ? o.total_tokens : prompt + completion;
  return { ...(o as object), prompt_tokens: prompt, completion_tokens: completion, total_tokens: total } as Usage;
}
