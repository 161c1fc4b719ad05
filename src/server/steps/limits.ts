/**
 * Rate limits and quotas around one upstream call: reserve before (all subjects at once,
 * all-or-nothing), settle after with the real usage and cost, release on failure so a
 * failed call costs nothing. A refusal is a 429 with Retry-After and OpenAI's headers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import type { ChatCompletionRequest, EmbeddingsRequest, Usage } from '../../core/openai-types.js';
import { LimitStoreError, buildRateLimitHeaders, type QuotaEvent, type Reservation, type SubjectLimits } from '../../limits/index.js';
import type { ModelPrice } from '../../usage/prices.js';
import type { GatewayContext } from '../context.js';
import { requestBodyBytes } from '../hardening/json-body.js';

export interface LimitHold {
  settle(usage: Usage | null): void;
  release(): void;
}

const NOOP: LimitHold = { settle: () => undefined, release: () => undefined };

export function estimateTokens(body: ChatCompletionRequest | EmbeddingsRequest, bodyBytes: number, defaultMaxTokens: number): number {
  // About four bytes a token for the prompt, plus what the answer may use.
  const prompt = Math.ceil(bodyBytes / 4);
  const max = (body as ChatCompletionRequest).max_completion_tokens ?? (body as ChatCompletionRequest).max_tokens;
  return prompt + ('messages' in body ? (typeof max === 'number' ? max : defaultMaxTokens) : 0);
}

export async function reserveLimits(
  ctx: GatewayContext,
  req: FastifyRequest,
  reply: FastifyReply,
  call: { provider: string; model: string; body: ChatCompletionRequest | EmbeddingsRequest },
): Promise<LimitHold> {
  const subjects = req.principal?.subjects ?? [];
  if (subjects.length === 0) return NOOP;
  // The body as parsed, not content-length: a chunked request has none and must not reserve 0.
  const bytes = requestBodyBytes(req);
  const estimatedTokens = estimateTokens(call.body, bytes, ctx.config.limits.defaultMaxTokens);
  const fallback = unknownPriceFallback(ctx, subjects, call.provider, call.model);
  const cost = ctx.prices.costMicros(call.provider, call.model, { prompt: Math.ceil(bytes / 4), completion: estimatedTokens - Math.ceil(bytes / 4) }, fallback);
  let result;
  try {
    result = await ctx.limits.reserve({ subjects, estimatedTokens, estimatedCostMicros: cost.micros });
  } catch (err) {
    if (err instanceof LimitStoreError) {
      ctx.logger.error({ err }, 'limit store unreachable');
      if (ctx.config.limits.failOpen) return NOOP;
      throw errors.unavailable('Limits cannot be checked right now; try again shortly.');
    }
    throw err;
  }
  const headers = buildRateLimitHeaders(result);
  if (!result.ok) {
    const quota = /daily|monthly/i.test(result.limit);
    ctx.events.emit({
      type: 'rate_limited',
      actor: req.principal?.keyId ?? 'anonymous',
      clientId: req.principal?.clientId,
      target: result.subject,
      outcome: 'denied',
      address: req.clientIp,
      requestId: String(req.id),
      details: { limit: result.limit, limitValue: result.limitValue, used: result.used, tooLarge: result.tooLarge },
    });
    const h = { ...headers, 'retry-after': String(Math.max(1, Math.ceil(result.retryAfterSeconds))) } as Record<string, string>;
    const message = `${quota ? 'Quota' : 'Rate limit'} reached: ${result.limit} of ${result.subject.split(':')[0]} (${result.limitValue}).${result.tooLarge ? ' This request alone exceeds the limit.' : ''}`;
    throw quota ? errors.quotaExceeded(message, h) : errors.rateLimited(message, h);
  }
  reply.headers(headers as Record<string, string>);
  emitQuotaEvents(ctx, req, result.quotaEvents);
  return holdFor(ctx, req, result, call, { tokens: estimatedTokens, costMicros: cost.micros }, fallback);
}

/**
 * A spend budget cannot hold for a model without a price: such a call is charged
 * `limits.unknownModelPrice` when configured, and refused (403) otherwise. Without a budget
 * an unknown price changes nothing (the record says the price was unknown).
 */
function unknownPriceFallback(ctx: GatewayContext, subjects: readonly SubjectLimits[], provider: string, model: string): ModelPrice | undefined {
  if (!subjects.some((s) => s.limits.dailyBudgetUsd !== undefined || s.limits.monthlyBudgetUsd !== undefined)) return undefined;
  if (ctx.prices.get(provider, model)) return undefined;
  const fallback = ctx.config.limits.unknownModelPrice;
  if (fallback) return fallback;
  throw errors.forbidden(
    `A spend budget applies to this credential, and keygate has no price for '${provider}/${model.slice(0, 100)}'; add it under 'prices' in the config (or set limits.unknownModelPrice).`,
    'model_price_unknown',
  );
}

function holdFor(
  ctx: GatewayContext,
  req: FastifyRequest,
  reservation: Reservation,
  call: { provider: string; model: string },
  estimate: { tokens: number; costMicros: number },
  fallback: ModelPrice | undefined,
): LimitHold {
  return {
    settle(usage) {
      // An answer whose usage is unknown keeps its estimate: it must not come out free.
      let real = estimate;
      if (usage) {
        const prompt = usage.prompt_tokens;
        const completion = usage.completion_tokens;
        const cost = ctx.prices.costMicros(call.provider, call.model, { prompt, completion, cached: usage.prompt_tokens_details?.cached_tokens }, fallback);
        real = { tokens: usage.total_tokens || prompt + completion, costMicros: cost.micros };
      }
      // After the response: nothing waits for this.
      reservation.settle(real).then(
        (r) => emitQuotaEvents(ctx, req, r.quotaEvents),
        (err: unknown) => ctx.logger.error({ err }, 'could not settle limits'),
      );
    },
    release() {
      reservation.release().catch((err: unknown) => ctx.logger.error({ err }, 'could not release limits'));
    },
  };
}

function emitQuotaEvents(ctx: GatewayContext, req: FastifyRequest, events: readonly QuotaEvent[]): void {
  for (const q of events) {
    ctx.events.emit({
      type: q.type,
      actor: req.principal?.keyId ?? 'system',
      clientId: req.principal?.clientId,
      target: q.subject,
      outcome: 'success',
      details: { limit: q.limit, threshold: q.threshold, used: q.used, limitValue: q.limitValue, window: q.windowId },
    });
  }
}
