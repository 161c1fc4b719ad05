/**
 * After a call: metrics and the usage record (with tokens and cost), for the OpenAI-format
 * routes and the native ones alike. Nothing here is awaited: the record is written in batches.
 */
import type { FastifyRequest } from 'fastify';
import type { ChatCompletionRequest, EmbeddingsRequest, Usage } from '../../core/openai-types.js';
import { errorTypeOf } from '../../usage/metrics.js';
import { costColumns } from '../../usage/prices.js';
import { countTokens, promptTokens } from '../../usage/token-count.js';
import type { GatewayContext } from '../context.js';
import type { Custody } from '../custody.js';
import type { CallOutcome } from '../forward.js';
import { requestBodyBytes } from '../hardening/json-body.js';
import type { RequestRecord, StoredRequestRecord } from '../../store/repositories/requests.js';

export interface FinishedCall {
  provider: string;
  model: string;
  /** `chat`, `embeddings`, or `native:<endpoint>`. */
  endpoint: string;
  outcome: CallOutcome;
  /** ms since the handler started. */
  elapsedMs: number;
  stream: boolean;
  custody: Custody;
  /** The body as an OpenAI-shaped request, for estimating usage the provider did not report. */
  estimateBody: ChatCompletionRequest | EmbeddingsRequest;
}

/**
 * Usage the provider did not report, counted with a tokenizer: the prompt from the request,
 * the answer from the streamed text when the forward path kept it; without it (a native
 * call), the completion is bounded by max_tokens as the reservation was. Null for a failure.
 */
export function estimateUsage(c: FinishedCall, defaultMaxTokens: number): Usage | null {
  if (c.outcome.status >= 400) return null;
  const prompt = promptTokens(c.estimateBody);
  let completion = 0;
  if (c.outcome.answerText !== undefined) completion = countTokens(c.outcome.answerText);
  else if ('messages' in c.estimateBody) {
    const max = c.estimateBody.max_completion_tokens ?? c.estimateBody.max_tokens;
    completion = typeof max === 'number' ? max : defaultMaxTokens;
  }
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function recordCall(ctx: GatewayContext, req: FastifyRequest, c: FinishedCall): void {
  const { outcome } = c;
  req.callRecorded = true;
  // Tokens and cost (estimated, and flagged so, when the provider reported no usage).
  const estimated = outcome.usage ? null : estimateUsage(c, ctx.config.limits.defaultMaxTokens);
  const columns = costColumns(ctx.prices, {
    provider: c.provider,
    model: c.model,
    status: outcome.status,
    usage: outcome.usage ?? estimated,
    body: c.estimateBody,
    bodyBytes: requestBodyBytes(req),
    defaultMaxTokens: ctx.config.limits.defaultMaxTokens,
  });
  ctx.metrics.observeRequest({
    provider: c.provider,
    model: `${c.provider}/${c.model}`,
    endpoint: c.endpoint,
    status: outcome.status,
    gatewayMs: Math.max(0, c.elapsedMs - (outcome.upstreamMs ?? 0)),
    upstreamMs: outcome.upstreamMs,
    promptTokens: columns.prompt_tokens ?? undefined,
    completionTokens: columns.completion_tokens ?? undefined,
    cachedTokens: outcome.usage?.prompt_tokens_details?.cached_tokens,
    costUsd: columns.cost_micros === null ? undefined : columns.cost_micros / 1e6,
  });
  if (outcome.errorCode) ctx.metrics.error(errorTypeOf(outcome.status, outcome.errorCode, outcome.errorType));
  ctx.usage.record(
    usageRecord(req, {
      provider: c.provider,
      model: c.model,
      endpoint: c.endpoint,
      status: outcome.status,
      latency_ms: Math.round(c.elapsedMs),
      prompt_tokens: columns.prompt_tokens,
      completion_tokens: columns.completion_tokens,
      total_tokens: columns.total_tokens,
      cost_micros: columns.cost_micros,
      price_known: columns.price_known,
      usage_estimated: estimated ? 1 : columns.usage_estimated,
      stream: c.stream ? 1 : 0,
      custody: c.custody,
      split_key_id: req.splitKeyId ?? null,
      error_code: outcome.errorCode,
    }),
  );
}

/** What a usage record says about the call itself; usageRecord adds who made it and when. */
export type CallColumns = Pick<
  StoredRequestRecord,
  'provider' | 'model' | 'endpoint' | 'status' | 'latency_ms' | 'prompt_tokens' | 'completion_tokens' | 'total_tokens' | 'cost_micros' | 'price_known' | 'usage_estimated' | 'stream' | 'split_key_id' | 'error_code'
> & { custody: Custody };

/**
 * Every usage record (answered or refused), with who made the request and when. Written out
 * as one object literal on purpose: a literal that starts with a spread (`{ ...caller, ... }`)
 * cost ~5 us a request in the profile (V8 builds it property by property), this ~0.1 us.
 */
export function usageRecord(req: FastifyRequest, c: CallColumns): RequestRecord {
  const p = req.principal;
  return {
    request_id: String(req.id),
    ts: Date.now(),
    key_id: p?.keyId ?? null,
    user_id: p?.userId ?? null,
    app_id: p?.appId ?? null,
    provider: c.provider,
    model: c.model,
    endpoint: c.endpoint,
    status: c.status,
    latency_ms: c.latency_ms,
    prompt_tokens: c.prompt_tokens,
    completion_tokens: c.completion_tokens,
    total_tokens: c.total_tokens,
    cost_micros: c.cost_micros,
    price_known: c.price_known,
    usage_estimated: c.usage_estimated,
    stream: c.stream,
    custody: c.custody,
    split_key_id: c.split_key_id,
    error_code: c.error_code,
  };
}
