/**
 * Every API request is recorded, refused ones too: a 401 from auth, a 400/413/415 from
 * validation, a 404 unknown model, a 403 from the allow-lists or the shield, a 429 from the
 * limits never reach recordCall. After the response, this records the ones that did not,
 * with the provider and model when the handler got far enough to know them. Never prompt text.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorType } from '../../core/errors.js';
import { redactText } from '../../core/redact.js';
import { isRecord } from '../../providers/_shared/translate.js';
import { errorTypeOf } from '../../usage/metrics.js';
import type { GatewayContext } from '../context.js';
import { usageRecord } from './record-call.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** recordCall ran for this request: the fallback recorder leaves it alone. */
    callRecorded: boolean;
    /** What the call was for, once the handler knows (set before the checks that may refuse it). */
    callTarget: CallTarget | null;
    /** The code of the error this request was answered with, for the record. */
    errorCode: string | null;
    /** Its type, as the body said it (the metric's label). */
    errorType: ErrorType | null;
  }
}

export interface CallTarget {
  provider: string;
  model: string;
  endpoint: string;
}

/** Routes of the public API (the OpenAI shape) and their record's endpoint. */
const OPENAI_ROUTES: Readonly<Record<string, string>> = {
  '/v1/chat/completions': 'chat',
  '/api/chat/completions': 'chat',
  '/v1/embeddings': 'embeddings',
  '/v1/models': 'models',
};

/** Which recorded endpoint a matched route is, or null when the route is not part of the API. */
export function apiEndpointOf(routeUrl: string | undefined, nativeIds: ReadonlySet<string>): { endpoint: string; provider: string } | null {
  if (!routeUrl) return null;
  const openai = OPENAI_ROUTES[routeUrl];
  if (openai) return { endpoint: openai, provider: '' };
  if (routeUrl === '/api/:provider/proxy') return { endpoint: 'native', provider: '' };
  const m = /^\/([a-z0-9-]+)\/\*$/.exec(routeUrl);
  if (m && nativeIds.has(m[1])) return { endpoint: 'native', provider: m[1] };
  return null;
}

/** Part of the response-end hook (app.ts). */
export function makeRefusalRecorder(ctx: GatewayContext, nativeIds: ReadonlySet<string>) {
  return function recordRefusal(req: FastifyRequest, reply: FastifyReply): void {
    if (req.callRecorded || reply.statusCode < 400) return;
    const api = apiEndpointOf(req.routeOptions.url, nativeIds);
    if (!api) return;
    const target = req.callTarget ?? guessTarget(req, api);
    const code = req.errorCode ?? `http_${reply.statusCode}`;
    // Counted like every call: the request, its status class, and the error's type.
    ctx.metrics.observeRequest({ provider: target.provider, model: `${target.provider}/${target.model}`, endpoint: target.endpoint, status: reply.statusCode, gatewayMs: reply.elapsedTime });
    ctx.metrics.error(errorTypeOf(reply.statusCode, code, req.errorType));
    ctx.usage.record(
      usageRecord(req, {
        provider: target.provider,
        model: target.model,
        endpoint: target.endpoint,
        status: reply.statusCode,
        latency_ms: Math.round(reply.elapsedTime),
        // Nothing was sent upstream: no tokens, no cost.
        prompt_tokens: null,
        completion_tokens: null,
        total_tokens: null,
        cost_micros: 0,
        price_known: 1,
        usage_estimated: 0,
        stream: isRecord(req.body) && req.body.stream === true ? 1 : 0,
        custody: 'none',
        split_key_id: null,
        error_code: code,
      }),
    );
  };
}

/** Before the handler knew the target: the provider from the route, the model as the client named it. */
function guessTarget(req: FastifyRequest, api: { endpoint: string; provider: string }): CallTarget {
  const params = req.params as { provider?: unknown } | undefined;
  const provider = api.provider || (typeof params?.provider === 'string' ? params.provider : '');
  const named = isRecord(req.body) && typeof req.body.model === 'string' ? req.body.model : '';
  // The client's own text: clipped, and masked in case a key was pasted where a model belongs.
  return { provider: clip(provider), model: clip(redactText(named)), endpoint: api.endpoint };
}

function clip(s: string): string {
  return s.length > 100 ? s.slice(0, 100) : s;
}
