/**
 * Sends one whitelisted native call to its provider and the answer back as the provider
 * wrote it: JSON bytes untouched, streams event by event (SSE or NDJSON) as they arrive.
 * Only an allow-list of client headers goes upstream; the key is the one custody chose.
 * Upstream errors keep the provider's own shape (its SDK expects it), with keys masked.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { GatewayError, errorTypeForStatus } from '../../../core/errors.js';
import type { Usage } from '../../../core/openai-types.js';
import type { SseEvent } from '../../../core/provider.js';
import { redactText } from '../../../core/redact.js';
import type { NativeError, NativeProviderSpec } from '../../../providers/_shared/endpoint-whitelist.js';
import { NdjsonParser } from '../../../providers/_shared/ndjson.js';
import { SseParser, formatSse } from '../../../providers/_shared/sse.js';
import type { ResolvedProvider } from '../../../providers/registry.js';
import { upstreamFailure, type UpstreamClient, type UpstreamResponse } from '../../../upstream/http-client.js';
import type { UpstreamKey } from '../../custody.js';
import type { CallOutcome } from '../../forward.js';
import type { NativeAnswerGuard } from './answer-guard.js';
import { writeOrWait } from '../../stream-write.js';
import { CallAbort } from '../../../upstream/call-abort.js';

export interface NativeForwardInput {
  spec: NativeProviderSpec;
  provider: ResolvedProvider;
  method: 'GET' | 'POST';
  /** Provider path with the rebuilt query, relative to the provider's API root. */
  path: string;
  body?: string;
  stream: boolean;
  /** The gateway added `stream_options.include_usage` for accounting: drop the usage-only chunk. */
  hideUsageChunk: boolean;
  upstreamKey: UpstreamKey;
  clientHeaders: Record<string, string | string[] | undefined>;
  totalTimeoutMs: number;
  /** The shield on the answer (null: passed through as the provider wrote it). */
  answerGuard?: NativeAnswerGuard | null;
}

// Upstream content types relayed as they are; anything else is sent as opaque bytes.
const SAFE_CONTENT_TYPE = /^(application\/(json|x-ndjson|jsonl|octet-stream)|text\/(plain|event-stream))\b/i;

export function upstreamPath(provider: ResolvedProvider, spec: NativeProviderSpec, path: string): string {
  const v = spec.versionInBaseUrl;
  // OpenAI's base URL conventionally ends in /v1 (https://api.openai.com/v1): then the
  // whitelisted /v1/... path continues it; a base URL without it takes the path whole.
  const rel = v && provider.basePath.endsWith(v) && path.startsWith(`${v}/`) ? path.slice(v.length) : path;
  return provider.basePath + rel;
}

export function upstreamHeaders(input: NativeForwardInput): Record<string, string> {
  const headers: Record<string, string> = {
    accept: input.stream ? (input.spec.streamFormat === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream') : 'application/json',
  };
  if (input.body !== undefined) headers['content-type'] = 'application/json';
  const key = input.upstreamKey.key;
  // The key is revealed at the last moment and only into the outgoing headers.
  if (key) Object.assign(headers, input.provider.adapter.authHeaders(key.reveal()));
  // Non-credential protocol headers the client chose (e.g. anthropic-version), when well-formed.
  for (const [name, shape] of Object.entries(input.spec.forwardHeaders ?? {})) {
    const v = input.clientHeaders[name];
    if (typeof v === 'string' && v.length <= 200 && shape.test(v)) headers[name] = v;
  }
  return headers;
}

export async function forwardNative(upstream: UpstreamClient, reply: FastifyReply, input: NativeForwardInput): Promise<CallOutcome> {
  const display = input.provider.adapter.displayName;
  const abort = new CallAbort();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.on('close', onClose);
  // As on /v1: the deadline covers a JSON call whole and a stream until its headers arrive;
  // after the first byte the idle timeout governs.
  const deadline = setTimeout(() => abort.abort(new DOMException('deadline', 'TimeoutError')), input.totalTimeoutMs);
  const sentAt = performance.now();
  try {
    let res: UpstreamResponse;
    try {
      res = await upstream.request({
        origin: input.provider.origin,
        path: upstreamPath(input.provider, input.spec, input.path),
        method: input.method,
        headers: upstreamHeaders(input),
        body: input.body,
        signal: abort,
      });
    } catch (err) {
      if (abort.aborted && reply.raw.destroyed) return { status: 499, usage: null, errorCode: 'client_closed' };
      throw upstreamFailure(abort.reason ?? err, display);
    }
    if (input.stream) clearTimeout(deadline);
    reply.header('x-keygate-provider', input.spec.id);
    const outcome = res.statusCode >= 400 ? await relayError(res, reply, input) : input.stream ? await streamBack(res, reply, input, abort) : await bodyBack(res, reply, input);
    outcome.upstreamMs = performance.now() - sentAt;
    return outcome;
  } catch (err) {
    if (abort.aborted && reply.raw.destroyed) return { status: 499, usage: null, errorCode: 'client_closed' };
    throw upstreamFailure(abort.reason instanceof DOMException ? abort.reason : err, display);
  } finally {
    clearTimeout(deadline);
    reply.raw.off('close', onClose);
  }
}

async function bodyBack(res: UpstreamResponse, reply: FastifyReply, input: NativeForwardInput): Promise<CallOutcome> {
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const type = String(res.headers['content-type'] ?? '');
  let usage: Usage | null = null;
  let parsed: unknown;
  if (/json/i.test(type)) {
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
      usage = input.spec.usageFromJson(parsed);
    } catch {
      // not JSON after all: relayed as it came, without usage
    }
  }
  let out: Buffer | string = bytes;
  if (input.answerGuard && (parsed !== undefined || /^text\//i.test(type))) {
    // Unparseable text is screened as one string, so a broken body cannot carry a secret past.
    try {
      const guarded = input.answerGuard.json(parsed !== undefined ? parsed : bytes.toString('utf8'));
      if (guarded !== null) out = typeof guarded === 'string' ? guarded : JSON.stringify(guarded);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // Blocked: the answer was paid for (usage kept), but the client gets the provider-shaped 403.
      reply.code(err.status).header('content-type', 'application/json; charset=utf-8');
      await reply.send(JSON.stringify(input.spec.errorBody(nativeError(err))));
      return { status: err.status, usage, errorCode: err.code, errorType: err.type };
    }
  }
  reply.code(res.statusCode).header('content-type', SAFE_CONTENT_TYPE.test(type) ? type : 'application/octet-stream');
  await reply.send(out);
  return { status: res.statusCode, usage, errorCode: null };
}

async function streamBack(res: UpstreamResponse, reply: FastifyReply, input: NativeForwardInput, abort: CallAbort): Promise<CallOutcome> {
  const ndjson = input.spec.streamFormat === 'ndjson';
  const out = new PassThrough();
  reply.code(res.statusCode).headers({
    'content-type': ndjson ? 'application/x-ndjson' : 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  void reply.send(out);
  const parser = ndjson ? new NdjsonParser() : new SseParser();
  const tap = input.spec.usageTap();
  const guard = input.answerGuard?.stream() ?? null;
  const write = (text: string) => writeOrWait(out, text, abort);
  const emit = async (ev: SseEvent) => {
    tap.event(ev);
    if (input.hideUsageChunk && isUsageOnlyChunk(ev.data)) return;
    for (const e of guard ? guard.event(ev) : [ev]) await write(ndjson ? `${e.data}\n` : formatSse(e));
  };
  // Held-back text (already redacted) goes out before the stream ends; the threat is recorded.
  const finish = async (send: boolean) => {
    const held = guard ? guard.end() : [];
    if (send) for (const e of held) await write(ndjson ? `${e.data}\n` : formatSse(e));
  };
  try {
    for await (const piece of res.body) for (const ev of parser.push(piece as Buffer)) await emit(ev);
    for (const ev of parser.end()) await emit(ev);
    await finish(true);
    out.end();
    return { status: 200, usage: tap.usage(), errorCode: null };
  } catch (err) {
    if (abort.aborted && reply.raw.destroyed) {
      await finish(false);
      out.destroy();
      return { status: 499, usage: tap.usage(), errorCode: 'client_closed' };
    }
    // Headers are gone: the failure is told in-band, in the provider's own error shape.
    const ge = upstreamFailure(err, input.provider.adapter.displayName);
    await finish(!out.destroyed).catch(() => undefined);
    out.end(input.spec.streamErrorEvent(nativeError(ge)));
    return { status: ge.status, usage: tap.usage(), errorCode: ge.code, errorType: ge.type };
  }
}

function isUsageOnlyChunk(data: string): boolean {
  if (!data.includes('"usage"')) return false;
  try {
    const c = JSON.parse(data) as { choices?: unknown[]; usage?: unknown };
    return Array.isArray(c.choices) && c.choices.length === 0 && !!c.usage;
  } catch {
    return false;
  }
}

/** Relays an upstream error in the provider's shape, with the key (and anything key-shaped) masked. */
async function relayError(res: UpstreamResponse, reply: FastifyReply, input: NativeForwardInput): Promise<CallOutcome> {
  const text = await res.body.text().catch(() => '');
  const status = res.statusCode;
  const display = input.provider.adapter.displayName;
  const retryAfter = res.headers['retry-after'];
  if (typeof retryAfter === 'string' && (status === 429 || status >= 500)) reply.header('retry-after', retryAfter);
  // The gateway's own key was refused (Gemini says so with a 400 API_KEY_INVALID): the client
  // did nothing wrong and must not be told 401.
  if (input.upstreamKey.custody === 'server' && (status === 401 || status === 403 || /API_KEY_INVALID/.test(text))) {
    const e = new GatewayError(502, 'upstream_error', 'upstream_auth_failed', `The ${display} upstream refused the gateway's provider key. An operator must check it.`);
    reply.code(502).header('content-type', 'application/json; charset=utf-8');
    await reply.send(JSON.stringify(input.spec.errorBody(nativeError(e))));
    return { status: 502, usage: null, errorCode: e.code, errorType: e.type };
  }
  const secrets = input.upstreamKey.key ? [input.upstreamKey.key.reveal()] : [];
  const masked = redactText(text.slice(0, 64 * 1024), secrets);
  // Statuses an SDK acts on (429, 503, 529: retry) are kept; other 5xx become 502.
  const clientStatus = status < 500 || [502, 503, 504, 529].includes(status) ? status : 502;
  let body: string;
  try {
    JSON.parse(masked);
    body = masked;
  } catch {
    const e = new GatewayError(clientStatus, errorTypeForStatus(status), 'upstream_error', `The ${display} upstream answered with status ${status}.`);
    body = JSON.stringify(input.spec.errorBody(nativeError(e)));
  }
  reply.code(clientStatus).header('content-type', 'application/json; charset=utf-8');
  await reply.send(body);
  return { status: clientStatus, usage: null, errorCode: `upstream_${status}` };
}

export function nativeError(e: GatewayError): NativeError {
  return { status: e.status, type: e.type, code: e.code, message: e.message };
}
