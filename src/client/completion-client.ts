/**
 * The library's client: OpenAI-format chat completions from a Node program, straight to
 * the providers (no gateway in between), with the gateway's adapters and translation and
 * keys from a key manager.
 *
 *   const client = new CompletionClient({ keyManager });
 *   const res = await client.createCompletion({ model: 'anthropic/claude-sonnet-4-5', messages });
 *   for await (const chunk of await client.createCompletion({ model, messages, stream: true })) ...
 */
import { configSchema, type ConfigInput } from '../config/schema.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../core/openai-types.js';
import type { SseEvent, StreamMapper } from '../core/provider.js';
import { NdjsonParser } from '../providers/_shared/ndjson.js';
import { SseParser } from '../providers/_shared/sse.js';
import { ProviderRegistry, type ModelRoute } from '../providers/registry.js';
import type { SecretString } from '../crypto/secret-string.js';
import type { KeyManager } from './key-manager.js';
import { badResponse, postToProvider, type ProviderCall } from './upstream-call.js';

export type { KeyManager } from './key-manager.js';

export interface CompletionClientOptions {
  keyManager: KeyManager;
  /** The gateway's config shape: providers' base URLs, aliases, translation options. */
  config?: ConfigInput;
  /** Read for providers' base URL variables (ANTHROPIC_BASE_URL...). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export class CompletionClient {
  readonly #keys: KeyManager;
  readonly #registry: ProviderRegistry;

  constructor(opts: CompletionClientOptions) {
    this.#keys = opts.keyManager;
    // Keys come from the key manager, never from the environment.
    this.#registry = new ProviderRegistry(configSchema.parse(opts.config ?? {}), opts.env ?? process.env, () => null);
  }

  createCompletion(req: ChatCompletionRequest & { stream: true }, opts?: RequestOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
  createCompletion(req: ChatCompletionRequest & { stream?: false | null }, opts?: RequestOptions): Promise<ChatCompletion>;
  async createCompletion(req: ChatCompletionRequest, opts: RequestOptions = {}): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const route = this.#registry.resolve(req.model);
    const call = await this.#prepare(route, req, opts.signal);
    const res = await postToProvider(call);
    if (req.stream === true) return streamChunks(res, route, call);
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw badResponse(route.provider.adapter);
    }
    const adapter = route.provider.adapter;
    return adapter.openAICompatible ? (body as ChatCompletion) : adapter.chat!.fromUpstream(body, route.model);
  }

  async #prepare(route: ModelRoute, req: ChatCompletionRequest, signal?: AbortSignal): Promise<ProviderCall> {
    const { adapter, origin, basePath } = route.provider;
    const key = await this.#keyFor(route);
    if (adapter.openAICompatible) {
      return { adapter, key, signal, url: `${origin}${basePath}/chat/completions`, headers: accept(req), body: { ...req, model: route.model } };
    }
    if (!adapter.chat) throw new Error(`The provider ${adapter.displayName} does not support chat completions.`);
    const spec = adapter.chat.toUpstream(req, route.model);
    return { adapter, key, signal, url: `${origin}${basePath}${spec.path}`, headers: { ...accept(req), ...spec.headers }, body: spec.body };
  }

  async #keyFor(route: ModelRoute): Promise<SecretString | null> {
    try {
      return await this.#keys.getApiKey(route.provider.id);
    } catch (err) {
      // A local Ollama needs no key: a key manager that has none is not an error there.
      if (route.provider.adapter.keyOptional) return null;
      throw err;
    }
  }
}

function accept(req: ChatCompletionRequest): Record<string, string> {
  return { accept: req.stream === true ? 'text/event-stream' : 'application/json' };
}

/** Provider stream -> OpenAI chunks, mapped event by event as they arrive. */
async function* streamChunks(res: Response, route: ModelRoute, call: ProviderCall): AsyncGenerator<ChatCompletionChunk> {
  const adapter = route.provider.adapter;
  if (!res.body) throw badResponse(adapter);
  const parser = adapter.streamFormat === 'ndjson' ? new NdjsonParser() : new SseParser();
  const mapper: StreamMapper | null = adapter.openAICompatible ? null : adapter.chat!.createStreamMapper(route.model);
  const map = (ev: SseEvent): ChatCompletionChunk[] => {
    if (mapper) return mapper.push(ev);
    if (ev.data === '[DONE]' || ev.data === '') return [];
    try {
      return [JSON.parse(ev.data) as ChatCompletionChunk];
    } catch {
      throw badResponse(adapter);
    }
  };
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const ev of parser.push(value)) yield* map(ev);
    }
    for (const ev of parser.end()) yield* map(ev);
    if (mapper) yield* mapper.finish();
  } finally {
    // A consumer that stops early closes the upstream connection too.
    if (call.signal?.aborted !== true) await reader.cancel().catch(() => undefined);
  }
}
