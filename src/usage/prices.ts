/**
 * Per-model prices in USD per million tokens (input, output, cached input), used to reserve
 * spend before a call and to cost it after. A model without a price costs 0 and is flagged
 * `known: false`, never guessed. Overridable in config (issue: operations).
 */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
}

export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'openai/gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'openai/gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'openai/gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'openai/gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'openai/gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'openai/o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  'openai/text-embedding-3-small': { input: 0.02, output: 0 },
  'openai/text-embedding-3-large': { input: 0.13, output: 0 },
  'groq/llama-3.1-8b-instant': { input: 0.05, output: 0.08 },
  'groq/llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
  'mistral/mistral-large-latest': { input: 2, output: 6 },
  'mistral/mistral-small-latest': { input: 0.1, output: 0.3 },
  'mistral/mistral-embed': { input: 0.1, output: 0 },
  'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3 },
  'anthropic/claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1 },
  'anthropic/claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5 },
  'gemini/gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.075 },
  'gemini/gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.31 },
};

export class PriceTable {
  readonly #prices: Map<string, ModelPrice>;

  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    this.#prices = new Map(Object.entries({ ...DEFAULT_PRICES, ...overrides }));
  }

  get(provider: string, model: string): ModelPrice | undefined {
    return this.#prices.get(`${provider}/${model}`);
  }

  /** Cost in micro-dollars (integer), and whether the price was known. */
  costMicros(provider: string, model: string, t: { prompt: number; completion: number; cached?: number }): { micros: number; known: boolean } {
    const p = this.get(provider, model);
    if (!p) return { micros: 0, known: false };
    const cached = Math.min(t.cached ?? 0, t.prompt);
    const usd = ((t.prompt - cached) * p.input + cached * (p.cachedInput ?? p.input) + t.completion * p.output) / 1e6;
    return { micros: Math.ceil(usd * 1e6), known: true };
  }
}
