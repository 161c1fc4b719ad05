/**
 * One native call after the whitelist matched and the caller authenticated: scope, model
 * allow-list, limits, custody, forward, then usage and limits settled. Shared by the
 * `/<provider>/*` routes and the SafeAPI-Bridge `/api/:provider/proxy` route.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errors } from '../../../core/errors.js';
import type { ChatCompletionRequest, EmbeddingsRequest } from '../../../core/openai-types.js';
import type { CompiledEndpoint, NativeProviderSpec } from '../../../providers/_shared/endpoint-whitelist.js';
import { enabledGroups, refuseAccountWide } from '../../../providers/_shared/account-wide.js';
import { circuitId, settleCircuit } from '../../../upstream/circuit-breaker.js';
import { isRecord, num } from '../../../providers/_shared/translate.js';
import { requireModel, requireProvider, requireRoute, requireScope } from '../../authenticate.js';
import type { GatewayContext } from '../../context.js';
import { resolveUpstreamKey, type Custody, type UpstreamKey } from '../../custody.js';
import { failedOutcome, type CallOutcome } from '../../forward.js';
import { reserveLimits } from '../../steps/limits.js';
import { guardRequest, policyFor } from '../../steps/guard.js';
import { nativeAnswerGuard } from './answer-guard.js';
import { forwardNative } from './forward-native.js';
import { recordCall } from '../../steps/record-call.js';

export interface NativeMatch {
  endpoint: CompiledEndpoint;
  params: Readonly<Record<string, string>>;
  /** The rebuilt query (`?alt=sse`) or ''. */
  query: string;
  /** The whitelisted provider path, without the query. */
  path: string;
}

export async function runNativeCall(
  ctx: GatewayContext,
  spec: NativeProviderSpec,
  req: FastifyRequest,
  reply: FastifyReply,
  match: NativeMatch,
  rawBody: unknown,
): Promise<void> {
  const { endpoint } = match;
  requireScope(req, endpoint.method === 'GET' ? 'read' : 'write');
  // A key's provider and route allow-lists hold on every native endpoint, model or none
  // (a model list, moderations, a batch); the route is the whitelisted endpoint's pattern.
  requireProvider(req, spec.id);
  requireRoute(req, `/${spec.id}${endpoint.path}`);
  let body: Record<string, unknown> | undefined;
  if (endpoint.method === 'POST') {
    // Bodiless POSTs (cancel a batch) stay bodiless; anything else must be a JSON object.
    if (isRecord(rawBody)) body = rawBody;
    else if (rawBody !== undefined || endpoint.model !== undefined) throw errors.invalidBody('The request body must be a JSON object.');
  }
  const model = modelOf(endpoint, match.params, body);
  req.callTarget = { provider: spec.id, model: model ?? endpoint.name, endpoint: `native:${endpoint.name}` };
  if (model !== null) requireModel(req, spec.id, model);
  // A key limited to some models cannot be checked on a call that names none (a batch may
  // hold any model), so it may only read.
  else if (endpoint.method !== 'GET' && req.principal?.models) {
    throw errors.forbidden('This credential is limited to certain models; this endpoint names none, so it cannot be checked.', 'model_not_allowed');
  }
  // A body field or header that loads stored account data passes only when its endpoint group is on.
  refuseAccountWide(spec.id, spec.accountWide, body, req.headers, enabledGroups(ctx.config.providers, spec.id));
  const provider = ctx.registry.get(spec.upstreamId ?? spec.id);
  if (!provider) throw errors.unknownProvider(spec.id);

  const stream = streams(endpoint, body);
  let hideUsageChunk = false;
  // OpenAI streams carry usage only when asked: ask, for accounting, and hide the extra chunk.
  if (stream && body && endpoint.path === '/v1/chat/completions') {
    const opts = isRecord(body.stream_options) ? body.stream_options : {};
    if (opts.include_usage !== true) {
      body = { ...body, stream_options: { ...opts, include_usage: true } };
      hideUsageChunk = true;
    }
  }

  // The shield screens native prompts too, before anything is reserved or sent, and the
  // answers of the chat-shaped endpoints on their way back (answer-guard.ts).
  const policy = policyFor(ctx, req, nativeOperations(spec, endpoint));
  const answerGuard = body && endpoint.method === 'POST' ? nativeAnswerGuard(ctx, req, policy, spec, endpoint, body) : null;
  if (body && endpoint.method === 'POST') {
    const format = spec.id === 'anthropic' ? 'anthropic' : spec.id === 'gemini' ? 'gemini' : 'openai';
    body = guardRequest(ctx, req, body, policy, format);
  }

  const started = performance.now();
  const usedModel = model ?? endpoint.name;
  const hold = await reserveLimits(ctx, req, reply, { provider: spec.id, model: usedModel, body: estimateShape(usedModel, endpoint, body) });
  let outcome: CallOutcome = { status: 500, usage: null, errorCode: 'internal_error' };
  let custody: Custody = 'none';
  let upstreamKey: UpstreamKey | null = null;
  // Native calls are not retried or re-routed (a native body is provider-specific), but they
  // respect and feed the provider's circuit breaker.
  const circuit = circuitId({ provider, model: model ?? '' });
  let letThrough = false;
  let sent = false;
  let circuitStatus: number | null = null;
  try {
    if (!ctx.breakers.allow(circuit)) throw errors.circuitOpen(provider.adapter.displayName);
    letThrough = true;
    const splitKey = ctx.splitKeys ? await ctx.splitKeys.resolve(req, provider.id) : null;
    upstreamKey = resolveUpstreamKey(ctx.config.keyMode, provider, req.clientProviderKey, splitKey, ctx.providerKeys);
    custody = upstreamKey.custody;
    sent = true;
    outcome = await forwardNative(ctx.upstream, reply, {
      spec,
      provider,
      method: endpoint.method,
      path: match.path + match.query,
      body: body === undefined ? undefined : JSON.stringify(body),
      stream,
      hideUsageChunk,
      upstreamKey,
      clientHeaders: req.headers,
      totalTimeoutMs: ctx.config.upstream.totalTimeoutMs,
      answerGuard,
    });
    circuitStatus = outcome.status;
  } catch (err) {
    outcome = failedOutcome(err);
    // A connection failure or timeout (502/504) counts; a failure of our own does not.
    circuitStatus = sent && err instanceof GatewayError && err.status >= 500 ? err.status : null;
    throw err;
  } finally {
    if (letThrough) settleCircuit(ctx.breakers, circuit, circuitStatus);
    // An answer is paid for; a call that failed before one is refunded.
    if (outcome.status < 400 || outcome.usage) hold.settle(outcome.usage);
    else hold.release();
    // The pool learns how its key did: a refused or rate-limited key rests.
    upstreamKey?.lease?.release(outcome.status === 401 || outcome.errorCode === 'upstream_auth_failed' ? 'auth_failed' : outcome.status === 429 ? 'rate_limited' : outcome.status >= 500 ? 'error' : 'ok');
    recordCall(ctx, req, {
      provider: spec.id,
      model: usedModel,
      endpoint: `native:${endpoint.name}`,
      outcome,
      elapsedMs: performance.now() - started,
      stream,
      custody,
      estimateBody: estimateShape(usedModel, endpoint, body),
    });
  }
}

/**
 * Route operations of a native call for the shield's route policies: the endpoint itself
 * (`native:anthropic:messages`), then what it does, so a `chat` policy covers every way to chat.
 */
function nativeOperations(spec: NativeProviderSpec, endpoint: CompiledEndpoint): string[] {
  const own = `native:${spec.id}:${endpoint.name}`;
  if (/embed/i.test(endpoint.name)) return [own, 'embeddings'];
  return endpoint.stream !== undefined ? [own, 'chat'] : [own];
}

function modelOf(endpoint: CompiledEndpoint, params: Readonly<Record<string, string>>, body: Record<string, unknown> | undefined): string | null {
  if (endpoint.model === 'path') return params.model ?? null;
  if (endpoint.model !== 'body') return null;
  const m = body?.model;
  if (typeof m !== 'string' || m.length === 0 || m.length > 256) throw errors.invalidBody("The request body must name a 'model'.", 'model');
  return m;
}

function streams(endpoint: CompiledEndpoint, body: Record<string, unknown> | undefined): boolean {
  switch (endpoint.stream) {
    case 'always':
      return true;
    case 'body-flag':
      return body?.stream === true;
    case 'body-flag-default-on':
      return body?.stream !== false;
    default:
      return false;
  }
}

/**
 * The limits step estimates tokens from an OpenAI-shaped body: a generating call is shown
 * as one with its answer budget (each provider names it differently), others as input only.
 */
function estimateShape(model: string, endpoint: CompiledEndpoint, body: Record<string, unknown> | undefined): ChatCompletionRequest | EmbeddingsRequest {
  if (endpoint.stream === undefined) return { model, input: '' };
  const b = body ?? {};
  const gen = isRecord(b.generationConfig) ? b.generationConfig : {};
  const opts = isRecord(b.options) ? b.options : {};
  const max = num(b.max_tokens) || num(b.max_completion_tokens) || num(b.max_output_tokens) || num(gen.maxOutputTokens) || num(opts.num_predict);
  return { model, messages: [], ...(max > 0 ? { max_tokens: max } : {}) };
}
