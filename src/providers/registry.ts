/**
 * The provider registry: which providers exist, where each one's upstream is (server-side
 * config or its conventional env var, never the client), which server keys it holds, and
 * how a requested model name resolves to a provider and an upstream model.
 */
import { errors } from '../core/errors.js';
import type { ProviderAdapter } from '../core/provider.js';
import { SecretString } from '../crypto/secret-string.js';
import type { KeygateConfig, ProviderSettings } from '../config/schema.js';
import { openAICompatible } from './_shared/openai-compatible.js';
import { openai } from './openai/index.js';
import { groq } from './groq/index.js';
import { mistral } from './mistral/index.js';
import { ollama } from './ollama/index.js';
import { createAnthropicAdapter } from './anthropic/index.js';
import { createGeminiAdapter } from './gemini/index.js';
import { createAzureOpenAIAdapter } from './azure-openai/index.js';
import { ollamaNative } from './ollama-native/index.js';

interface BuiltIn {
  adapter: ProviderAdapter;
  /** No usable default base URL (e.g. one host per Azure resource): enabled only when one is set. */
  needsBaseUrl?: boolean;
  /** Models listed by GET /v1/models when the config lists none. */
  models?: readonly string[];
}

/** Built-in adapters, in listing order. Translating adapters take the translation options. */
export function builtInProviders(config: KeygateConfig): BuiltIn[] {
  const translate = { dropUnsupportedParams: config.models.dropUnsupportedParams };
  return [
    { adapter: openai },
    { adapter: groq },
    { adapter: mistral },
    { adapter: ollama },
    { adapter: createAnthropicAdapter({ ...translate, defaultMaxTokens: config.models.defaultMaxTokens }), models: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'] },
    { adapter: createGeminiAdapter(translate), models: ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-embedding-001'] },
    { adapter: createAzureOpenAIAdapter({ apiVersion: config.models.azureApiVersion }), needsBaseUrl: true },
    { adapter: ollamaNative },
  ];
}

export interface ResolvedProvider {
  readonly adapter: ProviderAdapter;
  readonly id: string;
  /** Parsed once at start-up: origin for the pool, path prefix for requests. */
  readonly origin: string;
  readonly basePath: string;
  readonly serverKey: SecretString | null;
  readonly models: readonly string[];
}

export interface ModelRoute {
  provider: ResolvedProvider;
  /** The provider's own model id (the prefix removed). */
  model: string;
}

/** Reads a key from the environment; `enc:` values are opened by the injected decryptor. */
export type KeyReader = (envName: string) => SecretString | null;

export const plainEnvKeyReader =
  (env: NodeJS.ProcessEnv): KeyReader =>
  (name) => {
    const v = env[name];
    return v ? SecretString.from(v) : null;
  };

export class ProviderRegistry {
  readonly #byId = new Map<string, ResolvedProvider>();
  readonly #aliases: ReadonlyMap<string, string>;
  readonly #defaultProvider: string;

  constructor(config: KeygateConfig, env: NodeJS.ProcessEnv, readKey: KeyReader, extraAdapters: readonly ProviderAdapter[] = []) {
    const settings = config.providers as unknown as Record<string, ProviderSettings | undefined>;
    for (const { adapter, needsBaseUrl, models: builtInModels } of [...builtInProviders(config), ...extraAdapters.map((adapter) => ({ adapter, needsBaseUrl: false, models: undefined }))]) {
      const s = settings[adapter.id];
      if (s?.enabled === false) continue;
      const baseUrl = s?.baseUrl ?? env[adapter.env.baseUrl];
      if (needsBaseUrl && !baseUrl) continue;
      const models = s?.models ?? builtInModels ?? (adapter as { models?: readonly string[] }).models ?? [];
      this.#add(adapter, baseUrl ?? adapter.defaultBaseUrl, readKey(s?.apiKeyEnv ?? adapter.env.apiKey), models, adapter.env.baseUrl);
    }
    for (const c of config.providers.custom) {
      if (this.#byId.has(c.id)) throw new Error(`providers.custom: the id '${c.id}' is already a built-in provider; choose another id.`);
      const adapter = openAICompatible({
        id: c.id,
        displayName: c.name ?? c.id,
        defaultBaseUrl: c.baseUrl,
        env: { baseUrl: '', apiKey: c.apiKeyEnv ?? '' },
        streamUsage: c.streamUsage,
        keyOptional: c.keyOptional,
      });
      this.#add(adapter, c.baseUrl, c.apiKeyEnv ? readKey(c.apiKeyEnv) : null, c.models, `providers.custom[${c.id}].baseUrl`);
    }
    this.#aliases = new Map(Object.entries(config.models.aliases));
    this.#defaultProvider = config.models.defaultProvider;
  }

  #add(adapter: ProviderAdapter, baseUrl: string, serverKey: SecretString | null, models: readonly string[], source: string): void {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new Error(`${source}: '${baseUrl.slice(0, 60)}' is not a valid URL; use a full URL such as ${adapter.defaultBaseUrl}.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${source}: the base URL must use http or https.`);
    if (url.username || url.password) throw new Error(`${source}: the base URL must not contain credentials; put the key in the provider's key variable.`);
    this.#byId.set(adapter.id, {
      adapter,
      id: adapter.id,
      origin: url.origin,
      basePath: url.pathname.replace(/\/+$/, ''),
      serverKey,
      models,
    });
  }

  get(id: string): ResolvedProvider | undefined {
    return this.#byId.get(id);
  }

  all(): ResolvedProvider[] {
    return [...this.#byId.values()];
  }

  withServerKeys(): ResolvedProvider[] {
    return this.all().filter((p) => p.serverKey !== null);
  }

  /** `provider/model`, an alias, or a bare model for the default provider. */
  resolve(requested: string): ModelRoute {
    const target = this.#aliases.get(requested) ?? requested;
    const slash = target.indexOf('/');
    if (slash > 0) {
      // A prefix must name a provider: a typo must not silently reach the default one.
      const provider = this.#byId.get(target.slice(0, slash));
      if (!provider) throw errors.unknownProvider(target.slice(0, slash));
      return { provider, model: target.slice(slash + 1) };
    }
    const provider = this.#byId.get(this.#defaultProvider);
    if (!provider || !target) throw errors.unknownModel(requested);
    return { provider, model: target };
  }

  /** Model ids for GET /v1/models: `provider/model` for every listed model, plus aliases. */
  listModels(): Array<{ id: string; owned_by: string }> {
    const out: Array<{ id: string; owned_by: string }> = [];
    for (const p of this.#byId.values()) for (const m of p.models) out.push({ id: `${p.id}/${m}`, owned_by: p.id });
    for (const [alias, target] of this.#aliases) out.push({ id: alias, owned_by: target.split('/')[0] });
    return out;
  }
}
