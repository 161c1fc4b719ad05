/**
 * Per-model prices in USD per million tokens (input, output, cached input), used to reserve
 * spend before a call and to cost it after. A dated or versioned id takes the price of its
 * longest known base (`gpt-4o-2024-08-06` -> `gpt-4o`, `claude-sonnet-4-5-20250929` ->
 * `claude-sonnet-4-5`); `provider/*` in the overrides prices every other model of that provider
 * (`ollama/*: {input: 0, output: 0}`). A model still without a price costs 0 and is flagged
 * `known: false`, never guessed; under a spend budget it is refused or charged
 * `limits.unknownModelPrice` (see docs/limits.md). Overridable in config (`prices:` in the
 * YAML, see docs/usage-analytics.md).
 */
import type { ChatCompletionRequest, EmbeddingsRequest, Usage } from '../core/openai-types.js';

export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
}

// Checked 2026 against public price pages (found through search; verify before relying on them):
// - OpenAI: developers.openai.com/api/docs/pricing, as quoted by chatgptpricing-akr.pages.dev/api-pricing
//   and deploybase.ai/articles/openai-pricing (gpt-4o, 4o-mini, 4.1 family, o3, o4-mini, gpt-5
//   family, embeddings). GPT-5 cached-input rates disagree between sources, so none is shipped:
//   cached tokens are then charged at the input price (never under-counted).
// - Anthropic: platform.claude.com/docs/en/about-claude/pricing (Opus 4.1 $15/$75, cache hits
//   $1.50; Opus 4.5 $5/$25, $0.50; Sonnet 4.5 $3/$15, $0.30; Haiku 4.5 $1/$5, $0.10).
// - Gemini 2.5: $0.30/$2.50 (Flash) and $1.25/$10 (Pro, prompts up to 200k tokens; longer
//   prompts cost more and are not modelled), as listed in github.com/schlebek/ai-wish-generator
//   v3.2.0. Cached input: 10% of input (ai.google.dev/gemini-api/docs/pricing; the page itself
//   was not found by search, so this one is unconfirmed here; it was 25%, the pre-GA rate).
// - Groq: unchanged, no page with its numbers was found here (groq.com/pricing to verify).
// - Mistral: mistral-large-latest now points at Mistral Large 3, $0.50 input per
//   aipromptshub.co/calc/mistral-large-2-cost; $1.50 output not confirmed there (was $2/$6,
//   Large 2's price). Mistral publishes no cached-input price.
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'openai/gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'openai/gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'openai/gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'openai/gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'openai/gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'openai/o3': { input: 2, output: 8, cachedInput: 0.5 },
  'openai/o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'openai/gpt-5': { input: 1.25, output: 10 },
  'openai/gpt-5-mini': { input: 0.25, output: 2 },
  'openai/gpt-5-nano': { input: 0.05, output: 0.4 },
  'openai/text-embedding-3-small': { input: 0.02, output: 0 },
  'openai/text-embedding-3-large': { input: 0.13, output: 0 },
  'groq/llama-3.1-8b-instant': { input: 0.05, output: 0.08 },
  'groq/llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
  'mistral/mistral-large-latest': { input: 0.5, output: 1.5 },
  'mistral/mistral-small-latest': { input: 0.1, output: 0.3 },
  'mistral/mistral-embed': { input: 0.1, output: 0 },
  'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3 },
  'anthropic/claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1 },
  'anthropic/claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5 },
  'anthropic/claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5 },
  'gemini/gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.03 },
  'gemini/gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.125 },
};

// What may follow a base id in a dated or versioned one: `-2024-08-06`, `-20250929`, `@20250929`
// (Vertex), `-preview-05-20`, `-latest`, `-v2`, `:8b` (an Ollama tag). Only these: `gpt-5-pro`
// or `o3-pro` are other, dearer models, and must not take the price of `gpt-5` or `o3`.
const VERSION_SUFFIX = /^(?:[-@](?:\d+|latest|preview|exp|v\d+))*(?::[\w.-]+)?$/;
const MAX_RESOLVED = 10_000;

export class PriceTable {
  readonly #prices: Map<string, ModelPrice>;
  /** provider -> its priced model ids, longest first (for the prefix match). */
  readonly #bases = new Map<string, string[]>();
  /** `provider/model` -> the price it resolved to (null: none); the request path asks often. */
  readonly #resolved = new Map<string, ModelPrice | null>();

  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    this.#prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
    for (const id of this.#prices.keys()) {
      const slash = id.indexOf('/');
      const model = id.slice(slash + 1);
      if (model === '*') continue;
      const list = this.#bases.get(id.slice(0, slash)) ?? [];
      list.push(model);
      this.#bases.set(id.slice(0, slash), list);
    }
    for (const list of this.#bases.values()) list.sort((a, b) => b.length - a.length);
  }

  /** The price of a model: exact id, else its longest priced base and a version suffix, else the provider's `*` entry. */
  get(provider: string, model: string): ModelPrice | undefined {
    const id = `${provider}/${model}`;
    const cached = this.#resolved.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.#resolve(provider, model, id) ?? null;
    if (this.#resolved.size >= MAX_RESOLVED) this.#resolved.clear();
    this.#resolved.set(id, found);
    return found ?? undefined;
  }

  #resolve(provider: string, model: string, id: string): ModelPrice | undefined {
    const exact = this.#prices.get(id);
    if (exact) return exact;
    for (const base of this.#bases.get(provider) ?? []) {
      if (model.length > base.length && model.startsWith(base) && VERSION_SUFFIX.test(model.slice(base.length))) return this.#prices.get(`${provider}/${base}`);
    }
    return this.#prices.get(`${provider}/*`);
  }

  /**
   * Cost in micro-dollars (integer), and whether the price was known. `fallback` prices a
   * model the table does not know (it is still reported `known: false`).
   */
  costMicros(provider: string, model: string, t: { prompt: number; completion: number; cached?: number }, fallback?: ModelPrice): { micros: number; known: boolean } {
    const known = this.get(provider, model);
    const p = known ?? fallback;
    if (!p) return { micros: 0, known: false };
    const cached = Math.min(t.cached ?? 0, t.prompt);
    const usd = ((t.prompt - cached) * p.input + cached * (p.cachedInput ?? p.input) + t.completion * p.output) / 1e6;
    return { micros: Math.ceil(usd * 1e6), known: known !== undefined };
  }
}

/** The cost columns of a request record (see docs/usage-analytics.md). */
export interface CostColumns {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost_micros: number | null;
  price_known: number;
  usage_estimated: number;
}

export interface CostInput {
  provider: string;
  model: string;
  status: number;
  usage: Usage | null;
  body: ChatCompletionRequest | EmbeddingsRequest;
  /** The request body's size (content-length). */
  bodyBytes: number;
  /** Completion tokens assumed when the request sets no max_tokens (limits.defaultMaxTokens). */
  defaultMaxTokens: number;
}

/**
 * Tokens and cost for a record. With the provider's usage: exact. An answer that came back
 * without usage (a stream from a provider that reports none) is estimated the way the
 * limiter reserved it (prompt = body bytes / 4, completion = max_tokens or the default), so
 * recorded spend never comes out below what the quotas counted; it is flagged estimated. A
 * failed call with no usage costs nothing. An unknown price gives null, never a guess.
 */
export function costColumns(prices: PriceTable, c: CostInput): CostColumns {
  const known = prices.get(c.provider, c.model) !== undefined;
  const u = c.usage;
  if (u) {
    const cost = prices.costMicros(c.provider, c.model, { prompt: u.prompt_tokens, completion: u.completion_tokens, cached: u.prompt_tokens_details?.cached_tokens });
    return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens, cost_micros: known ? cost.micros : null, price_known: known ? 1 : 0, usage_estimated: 0 };
  }
  if (c.status >= 400) return { prompt_tokens: null, completion_tokens: null, total_tokens: null, cost_micros: known ? 0 : null, price_known: known ? 1 : 0, usage_estimated: 0 };
  const prompt = Math.ceil(c.bodyBytes / 4);
  const chat = c.body as ChatCompletionRequest;
  const max = 'messages' in c.body ? (chat.max_completion_tokens ?? chat.max_tokens) : 0;
  const completion = 'messages' in c.body ? (typeof max === 'number' ? max : c.defaultMaxTokens) : 0;
  const cost = prices.costMicros(c.provider, c.model, { prompt, completion });
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cost_micros: known ? cost.micros : null, price_known: known ? 1 : 0, usage_estimated: 1 };
}
