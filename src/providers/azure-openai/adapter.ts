/**
 * Azure OpenAI: OpenAI's body and SSE, but one URL per deployment, an api-version query
 * and an `api-key` header. The deployment is the model name (`azure-openai/<deployment>`).
 */
import { errors, errorTypeForStatus } from '../../core/errors.js';
import type { ChatCompletion, ChatCompletionRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../core/openai-types.js';
import { PROVIDER_ADAPTER_VERSION, type MappedUpstreamError, type ProviderAdapter } from '../../core/provider.js';
import { isRecord, str } from '../_shared/translate.js';
import { DEFAULT_API_VERSION, checkApiVersion, deploymentPath } from './paths.js';
import { createAzureStreamMapper } from './stream.js';

export interface AzureOpenAIOptions {
  /** The `api-version` query parameter; config default 2024-10-21 (the current GA version). */
  apiVersion?: string;
}

export function createAzureOpenAIAdapter(opts: AzureOpenAIOptions = {}): ProviderAdapter {
  const apiVersion = checkApiVersion(opts.apiVersion ?? DEFAULT_API_VERSION);
  return {
    version: PROVIDER_ADAPTER_VERSION,
    id: 'azure-openai',
    displayName: 'Azure OpenAI',
    // Each resource has its own host: there is no useful default, the operator must set one.
    defaultBaseUrl: 'https://YOUR-RESOURCE.openai.azure.com',
    env: { baseUrl: 'AZURE_OPENAI_BASE_URL', apiKey: 'AZURE_OPENAI_API_KEY' },
    openAICompatible: false,
    streamUsage: true,
    // One deployment failing says nothing about another deployment of the same resource.
    circuitPerModel: true,
    authHeaders: (apiKey) => ({ 'api-key': apiKey }),
    chat: {
      toUpstream(req: ChatCompletionRequest, model: string) {
        const { model: _drop, ...body } = req;
        // Usage is always asked for, for accounting; the mapper folds it into the finish chunk.
        if (req.stream === true) body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
        return { path: deploymentPath(model, 'chat/completions', apiVersion), body };
      },
      fromUpstream(body: unknown, model: string): ChatCompletion {
        if (!isRecord(body) || !Array.isArray(body.choices)) throw errors.upstreamBadResponse('Azure OpenAI');
        const out = body as unknown as ChatCompletion;
        return { ...out, model: str(out.model) ?? model };
      },
      createStreamMapper: () => createAzureStreamMapper(),
    },
    embeddings: {
      toUpstream(req: EmbeddingsRequest, model: string) {
        const { model: _drop, ...body } = req;
        return { path: deploymentPath(model, 'embeddings', apiVersion), body };
      },
      fromUpstream(body: unknown, model: string): EmbeddingsResponse {
        if (!isRecord(body) || !Array.isArray(body.data)) throw errors.upstreamBadResponse('Azure OpenAI');
        const out = body as unknown as EmbeddingsResponse;
        return { ...out, model: str(out.model) ?? model };
      },
    },
    mapError: mapAzureError,
  };
}

/** Azure answers OpenAI-shaped errors `{error:{code, message}}`, sometimes with `type` or `innererror`. */
export function mapAzureError(status: number, body: unknown): MappedUpstreamError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : {};
  const code = str(err.code) ?? str(err.type) ?? 'upstream_error';
  return {
    status: status >= 500 ? 502 : status,
    type: status === 429 && /quota/i.test(code) ? 'insufficient_quota' : errorTypeForStatus(status),
    code: code.slice(0, 100),
    message: str(err.message)?.slice(0, 2000) ?? `The Azure OpenAI upstream answered with status ${status}.`,
  };
}

export const azureOpenAI: ProviderAdapter = createAzureOpenAIAdapter();
