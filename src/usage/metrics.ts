/**
 * Prometheus metrics (prom-client), one Registry per gateway. Every label value comes from
 * a closed set decided by the server (known providers, the configured model list, fixed
 * endpoint, error, limit and threat names); anything else becomes "other", so no client can
 * grow the series count or smuggle a string (or a secret) into /metrics.
 * Hot path: label children are cached in Maps, so an observation is a few Map lookups and
 * additions, with no allocation of label objects.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { Family } from './metric-family.js';

export const PROVIDER_LABELS = ['openai', 'anthropic', 'gemini', 'groq', 'mistral', 'ollama', 'azure-openai', 'openai-compatible'] as const;
export const ENDPOINT_LABELS = [
  'chat', 'completions', 'embeddings', 'responses', 'messages', 'models', 'images', 'audio', 'moderations',
  // The native endpoints' own names (src/providers/*/native-endpoints.ts).
  'generate', 'count_tokens', 'files', 'batches', 'fine_tuning', 'assistants', 'cached_contents', 'info', 'manage',
] as const;
export const ERROR_LABELS = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'insufficient_quota',
  'upstream_error',
  'timeout_error',
  'keygate_policy_violation',
  'server_error',
] as const;
export const LIMIT_LABELS = ['rate_requests', 'rate_tokens', 'concurrency', 'quota_requests', 'quota_tokens', 'quota_cost'] as const;
export const THREAT_CATEGORY_LABELS = ['prompt_injection', 'secret', 'pii', 'system_prompt_leak', 'exfiltration'] as const;
// The shield's own actions (src/guard/policy.ts guardActionSchema): a finding that is only recorded is `log`.
export const THREAT_ACTION_LABELS = ['block', 'redact', 'log', 'allow'] as const;
export type CircuitStateLabel = 'closed' | 'half_open' | 'open';
const CIRCUIT_VALUE: Record<CircuitStateLabel, number> = { closed: 0, half_open: 1, open: 2 };

export interface RequestObservation {
  provider: string;
  model: string;
  /** An endpoint name from ENDPOINT_LABELS or an OpenAI-style path (`/v1/chat/completions`). */
  endpoint: string;
  status: number;
  /** Time spent in keygate itself (total minus upstream), milliseconds. */
  gatewayMs: number;
  /** Time spent waiting for the upstream, milliseconds; absent when no upstream was called. */
  upstreamMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  costUsd?: number;
}

export interface MetricsOptions {
  /** The server's model list; other model names are recorded as "other". */
  knownModels?: Iterable<string>;
  knownProviders?: Iterable<string>;
  /** Node process metrics, including nodejs_eventloop_lag_seconds (default true). */
  collectDefaults?: boolean;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  observeRequest(o: RequestObservation): void;
  error(type: string): void;
  limitRejected(limit: string): void;
  threat(category: string, action: string): void;
  circuitState(provider: string, state: CircuitStateLabel): void;
  /** Busy connections / pool capacity, 0..1, per provider. */
  poolSaturation(provider: string, ratio: number): void;
  setKnownModels(models: Iterable<string>): void;
  exposition(): Promise<string>;
}

const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const UPSTREAM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];

/**
 * The error type label of an answer: the type of the GatewayError it was answered with, as
 * the client saw it in the body. Only an outcome that carries no error (a stream that failed
 * after its headers, a native upstream error passed through, a refusal without a code) is
 * labelled from its status and code here.
 */
export function errorTypeOf(status: number, code: string, type?: string | null): string {
  if (type) return type;
  if (status === 429) return code === 'quota_exceeded' ? 'insufficient_quota' : 'rate_limit_error';
  if (status === 401) return 'authentication_error';
  // The shield names the category it blocked as the code (src/guard/errors.ts).
  if (status === 403) return (THREAT_CATEGORY_LABELS as readonly string[]).includes(code) ? 'keygate_policy_violation' : 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 504) return 'timeout_error';
  if (status === 502) return 'upstream_error';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'invalid_request_error';
  return 'other';
}

/** `/v1/chat/completions` -> chat, `native:count_tokens` -> count_tokens; names in the set pass; anything else -> other. */
export function endpointLabel(endpoint: string): string {
  if (endpoint.startsWith('native:')) {
    const name = endpoint.slice(7).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    return (ENDPOINT_LABELS as readonly string[]).includes(name) ? name : 'other';
  }
  const e = endpoint.replace(/^\/?(v1(beta)?\/)?/, '').split('?')[0];
  if (e === 'chat/completions') return 'chat';
  const first = e.split('/')[0];
  return (ENDPOINT_LABELS as readonly string[]).includes(first) ? first : 'other';
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

export function createMetrics(opts: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (opts.collectDefaults !== false) collectDefaultMetrics({ register: registry });
  let models = new Set(opts.knownModels ?? []);
  const providers = new Set<string>(opts.knownProviders ?? PROVIDER_LABELS);
  const bound = (set: ReadonlySet<string>, v: string): string => (set.has(v) ? v : 'other');
  const errorSet = new Set<string>(ERROR_LABELS);
  const limitSet = new Set<string>(LIMIT_LABELS);
  const categorySet = new Set<string>(THREAT_CATEGORY_LABELS);
  const actionSet = new Set<string>(THREAT_ACTION_LABELS);

  const registers = [registry];
  // The per-request series are our own families (below): an observation is a Map lookup and
  // a few additions, where prom-client's labelled children validate and hash the labels again
  // on every call (~4 us a request here). The rare ones stay prom-client's.
  const family = (name: string, help: string, type: 'counter' | 'histogram', labelNames: readonly string[], buckets: readonly number[] = []) => {
    const f = new Family(name, help, type, labelNames, buckets);
    registry.registerMetric(f as unknown as Parameters<Registry['registerMetric']>[0]);
    return f;
  };
  const requests = family('keygate_requests_total', 'Requests by provider, model, status class and endpoint.', 'counter', ['provider', 'model', 'status', 'endpoint']);
  const duration = family('keygate_request_duration_seconds', 'Whole request duration as the client sees it.', 'histogram', ['provider', 'endpoint'], UPSTREAM_BUCKETS);
  const overhead = family('keygate_gateway_overhead_seconds', 'Time spent in keygate itself (request minus upstream).', 'histogram', ['provider'], OVERHEAD_BUCKETS);
  const upstream = family('keygate_upstream_duration_seconds', 'Time spent waiting for the upstream provider.', 'histogram', ['provider'], UPSTREAM_BUCKETS);
  const tokens = family('keygate_tokens_total', 'Tokens by provider, model and kind (prompt, completion, cached).', 'counter', ['provider', 'model', 'kind']);
  const cost = family('keygate_cost_usd_total', 'Cost in US dollars by provider and model.', 'counter', ['provider', 'model']);
  const errors = family('keygate_errors_total', 'Errors answered, by error type.', 'counter', ['type']);
  const rejections = new Counter({ name: 'keygate_limit_rejections_total', help: 'Requests refused by a rate limit or quota.', labelNames: ['limit'], registers });
  const threats = new Counter({ name: 'keygate_threats_total', help: 'Threats detected, by category and action taken.', labelNames: ['category', 'action'], registers });
  const circuit = new Gauge({ name: 'keygate_upstream_circuit_state', help: 'Upstream circuit state: 0 closed, 1 half-open, 2 open.', labelNames: ['provider'], registers });
  const pool = new Gauge({ name: 'keygate_upstream_pool_saturation', help: 'Busy upstream connections over pool capacity (0..1).', labelNames: ['provider'], registers });

  // prom-client's label children, cached by their joined values (each key set is bounded, so each Map is).
  const cache = new Map<string, unknown>();
  function child<T extends { inc(v?: number): void }>(metric: { labels(...v: string[]): T }, name: string, ...values: string[]): T {
    const key = `${name}\u0001${values.join('\u0001')}`;
    let c = cache.get(key) as T | undefined;
    if (!c) {
      c = metric.labels(...values);
      cache.set(key, c);
    }
    return c;
  }

  return {
    registry,
    contentType: registry.contentType,
    observeRequest(o) {
      const p = bound(providers, o.provider);
      const m = bound(models, o.model);
      const ep = endpointLabel(o.endpoint);
      requests.inc(1, p, m, statusClass(o.status), ep);
      const up = o.upstreamMs ?? 0;
      duration.observe((o.gatewayMs + up) / 1000, p, ep);
      overhead.observe(o.gatewayMs / 1000, p);
      if (o.upstreamMs !== undefined) upstream.observe(o.upstreamMs / 1000, p);
      if (o.promptTokens) tokens.inc(o.promptTokens, p, m, 'prompt');
      if (o.completionTokens) tokens.inc(o.completionTokens, p, m, 'completion');
      if (o.cachedTokens) tokens.inc(o.cachedTokens, p, m, 'cached');
      if (o.costUsd && o.costUsd > 0) cost.inc(o.costUsd, p, m);
    },
    error(type) {
      errors.inc(1, bound(errorSet, type));
    },
    limitRejected(limit) {
      child(rejections, 'l', bound(limitSet, limit)).inc();
    },
    threat(category, action) {
      child(threats, 'x', bound(categorySet, category), bound(actionSet, action)).inc();
    },
    circuitState(provider, state) {
      circuit.set({ provider: bound(providers, provider) }, CIRCUIT_VALUE[state] ?? 0);
    },
    poolSaturation(provider, ratio) {
      pool.set({ provider: bound(providers, provider) }, Math.min(1, Math.max(0, Number.isFinite(ratio) ? ratio : 0)));
    },
    setKnownModels(list) {
      models = new Set(list);
      // Children cached under a model label stay valid; new names map through the new set.
    },
    exposition() {
      return registry.metrics();
    },
  };
}
