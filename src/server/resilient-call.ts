/**
 * One client call, made resilient: walk the routing plan (primary, group members, fallback
 * chain); per target, retry connection errors, 429 and 5xx with backoff (never once an
 * answer has started reaching the client), skip targets whose circuit is open, and move on
 * to the next target on the configured statuses. The answer says which target answered
 * (x-keygate-provider / x-keygate-model, set by forward()).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errors } from '../core/errors.js';
import type { ChatCompletionRequest, EmbeddingsRequest } from '../core/openai-types.js';
import { enabledGroups, refuseAccountWide } from '../providers/_shared/account-wide.js';
import { openaiNativeSpec } from '../providers/openai/native-endpoints.js';
import type { ModelRoute } from '../providers/registry.js';
import { circuitId, settleCircuit } from '../upstream/circuit-breaker.js';
import { isRetryable, parseRetryAfter, retryDelayMs } from '../upstream/retry-policy.js';
import type { GatewayContext } from './context.js';
import { resolveUpstreamKey, type UpstreamKey } from './custody.js';
import { forward, type CallOutcome, type Endpoint } from './forward.js';
import type { AnswerGuard } from './steps/guard.js';

export interface ResilientResult {
  outcome: CallOutcome;
  route: ModelRoute;
  upstreamKey: UpstreamKey;
  attempts: number;
}

export async function callWithResilience(
  ctx: GatewayContext,
  req: FastifyRequest,
  reply: FastifyReply,
  endpoint: Endpoint,
  body: ChatCompletionRequest | EmbeddingsRequest,
  plan: readonly ModelRoute[],
  answerGuard: AnswerGuard | null = null,
): Promise<ResilientResult> {
  const { upstream: cfg, models } = ctx.config;
  const fallbackOn = fallbackStatuses(models.fallbackOn);
  const deadline = Date.now() + cfg.totalTimeoutMs;
  // A client's own provider key is for the provider it addressed (the plan's first target):
  // it is never sent to another provider of a fallback chain or group.
  const addressed = plan[0]?.provider.id;
  const clientKeyFor = (route: ModelRoute): string | null => (route.provider.id === addressed ? req.clientProviderKey : null);
  let lastError: GatewayError | null = null;
  let attempts = 0;

  for (const [i, route] of plan.entries()) {
    // An OpenAI-compatible body goes upstream as it is: a file it names (a chat `file` part's
    // file_id) is account-wide data, passed only when that group is enabled. (Custom servers
    // are the operator's own, configured by hand: not checked.)
    if (route.provider.adapter.openAICompatible && !customIds(ctx.config.providers.custom).has(route.provider.id)) {
      try {
        refuseAccountWide(route.provider.id, openaiNativeSpec.accountWide, body, {}, enabledGroups(ctx.config.providers, route.provider.id));
      } catch (err) {
        if (i === 0) throw err;
        continue;
      }
    }
    // Keys are per target: a fallback to another provider needs that provider's key.
    let upstreamKey: UpstreamKey;
    try {
      const splitKey = ctx.splitKeys ? await ctx.splitKeys.resolve(req, route.provider.id) : null;
      upstreamKey = resolveUpstreamKey(ctx.config.keyMode, route.provider, clientKeyFor(route), splitKey, ctx.providerKeys);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // Every key of the primary resting is a reason to try the fallbacks, not a dead end.
      if (i === 0 && err.code !== 'provider_keys_cooling') throw err;
      if (i === 0) lastError = err;
      continue; // a fallback this caller holds no key for is not an option
    }
    const circuit = circuitId(route);
    // An open circuit sheds this target: the next one answers, whatever fallbackOn says.
    let skipTarget = false;

    for (let attempt = 0; ; attempt++) {
      if (!ctx.breakers.allow(circuit)) {
        upstreamKey.lease?.release('error');
        lastError ??= errors.circuitOpen(route.provider.adapter.displayName);
        skipTarget = true;
        break;
      }
      attempts++;
      ctx.router.begin(route);
      // Whatever happens below, the breaker hears about this call (a half-open probe left
      // unsettled would keep the circuit shut for good), judged as native calls are.
      let settled = false;
      let keyFault = false;
      try {
        const outcome = await forward(ctx.upstream, req, reply, { endpoint, route, body, upstreamKey, totalTimeoutMs: Math.max(1, deadline - Date.now()), answerGuard });
        upstreamKey.lease?.release(outcome.status >= 500 ? 'error' : 'ok');
        // A stream that broke after it started still counts against the upstream's health.
        settleCircuit(ctx.breakers, circuit, outcome.status);
        settled = true;
        return { outcome, route, upstreamKey, attempts };
      } catch (err) {
        // Only a key the pool can switch away from counts as the key's fault (see ProviderKeyService).
        const canSwitch = upstreamKey.lease ? ctx.providerKeys.canSwitch(route.provider.id, upstreamKey.lease.keyId) : false;
        keyFault = releaseLease(upstreamKey, err) && canSwitch;
        if (!(err instanceof GatewayError)) throw err;
        settleCircuit(ctx.breakers, circuit, circuitStatusOf(err));
        settled = true;
        if (reply.sent || clientGone(reply)) throw err;
        lastError = err;
        const told = parseRetryAfter(err.headers['retry-after']);
        // Told to wait longer than we ever wait: retrying sooner would be refused again;
        // the next target (or the client, with the Retry-After) is the better answer.
        if (!keyFault && told !== null && told > cfg.retryMaxDelayMs) break;
        // A key the provider refused or rate-limited now rests: the next attempt takes another key at once.
        const delay = keyFault ? 0 : retryDelayMs(attempt + 1, { retries: cfg.retries, baseDelayMs: cfg.retryBaseDelayMs, maxDelayMs: cfg.retryMaxDelayMs }, err.headers['retry-after']);
        if (!(isRetryable(err) || keyFault) || attempt >= cfg.retries || Date.now() + delay >= deadline) break;
        if (delay > 0) await sleep(delay);
        if (clientGone(reply)) throw err;
      } finally {
        ctx.router.end(route);
        if (!settled) ctx.breakers.abandon(circuit);
      }
      if (upstreamKey.lease) {
        try {
          upstreamKey = resolveUpstreamKey(ctx.config.keyMode, route.provider, clientKeyFor(route), null, ctx.providerKeys);
        } catch (err) {
          if (!(err instanceof GatewayError)) throw err;
          if (!lastError) lastError = err;
          break;
        }
      }
    }
    if (lastError && !skipTarget && !fallbackOn.has(fallbackStatus(lastError))) throw lastError;
  }
  throw lastError ?? errors.unavailable('No upstream could take this request.');
}

/** fallbackOn names upstream statuses: the upstream's own when it answered, ours otherwise (connection failures, timeouts). */
function fallbackStatus(err: GatewayError): number {
  return err.upstreamStatus ?? err.status;
}

/**
 * The status a failed attempt tells the breaker (settleCircuit): ours when 5xx (a connection
 * failure or timeout is told as 502/504); an upstream 4xx (a rate limit included) is an
 * answer, the upstream is up; null when the gateway refused the request before sending it
 * (e.g. a translator's 400): that says nothing about the upstream.
 */
function circuitStatusOf(err: GatewayError): number | null {
  return err.status >= 500 || err.upstreamStatus !== null ? err.status : null;
}

/** Releases a pool lease with how the attempt went; true when the key itself was at fault. */
function releaseLease(upstreamKey: UpstreamKey, err: unknown): boolean {
  const lease = upstreamKey.lease;
  if (!lease) return false;
  if (err instanceof GatewayError && err.code === 'upstream_auth_failed') {
    lease.release('auth_failed');
    return true;
  }
  if (err instanceof GatewayError && err.status === 429) {
    const ms = parseRetryAfter(err.headers['retry-after']);
    lease.release('rate_limited', ms === null ? undefined : ms / 1000);
    return true;
  }
  lease.release('error');
  return false;
}

/** The client closed its connection (the request stream itself is done once its body is read). */
function clientGone(reply: FastifyReply): boolean {
  return reply.raw.destroyed || reply.raw.socket?.destroyed === true;
}

// Both come from the config, fixed for a gateway's life: built once, not on every request.
const fallbackMemo = new WeakMap<readonly number[], ReadonlySet<number>>();
function fallbackStatuses(list: readonly number[]): ReadonlySet<number> {
  let set = fallbackMemo.get(list);
  if (!set) fallbackMemo.set(list, (set = new Set(list)));
  return set;
}

const customMemo = new WeakMap<readonly { id: string }[], ReadonlySet<string>>();
function customIds(custom: readonly { id: string }[]): ReadonlySet<string> {
  let set = customMemo.get(custom);
  if (!set) customMemo.set(custom, (set = new Set(custom.map((c) => c.id))));
  return set;
}
