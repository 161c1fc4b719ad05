/**
 * OpenAI's own API through `/openai/*` (the `openai` SDK with `baseURL: .../openai/v1`).
 * Files, batches, fine-tuning, assistants and stored responses are account-wide: off unless
 * enabled with `providers.openai.nativeEndpoints`.
 */
import type { Usage } from '../../core/openai-types.js';
import type { NativeEndpoint, NativeError, NativeProviderSpec, UsageTap } from '../_shared/endpoint-whitelist.js';
import type { AccountWideRef } from '../_shared/account-wide.js';
import { isRecord, num } from '../_shared/translate.js';

const LIST_QUERY = { limit: /^\d{1,4}$/, after: /^[A-Za-z0-9_-]{1,128}$/, order: ['asc', 'desc'] };

export const openaiNativeEndpoints: readonly NativeEndpoint[] = [
  { name: 'chat', method: 'POST', path: '/v1/chat/completions', model: 'body', stream: 'body-flag' },
  { name: 'embeddings', method: 'POST', path: '/v1/embeddings', model: 'body' },
  { name: 'responses', method: 'POST', path: '/v1/responses', model: 'body', stream: 'body-flag' },
  { name: 'moderations', method: 'POST', path: '/v1/moderations' },
  { name: 'models', method: 'GET', path: '/v1/models' },
  { name: 'models', method: 'GET', path: '/v1/models/{model}' },
  { name: 'files', method: 'GET', path: '/v1/files', group: 'files', query: { ...LIST_QUERY, purpose: /^[a-z_-]{1,32}$/ } },
  { name: 'files', method: 'GET', path: '/v1/files/{id}', group: 'files' },
  { name: 'files', method: 'GET', path: '/v1/files/{id}/content', group: 'files' },
  { name: 'batches', method: 'POST', path: '/v1/batches', group: 'batches' },
  { name: 'batches', method: 'GET', path: '/v1/batches', group: 'batches', query: LIST_QUERY },
  { name: 'batches', method: 'GET', path: '/v1/batches/{id}', group: 'batches' },
  { name: 'batches', method: 'POST', path: '/v1/batches/{id}/cancel', group: 'batches' },
  { name: 'fine_tuning', method: 'POST', path: '/v1/fine_tuning/jobs', group: 'fine_tuning' },
  { name: 'fine_tuning', method: 'GET', path: '/v1/fine_tuning/jobs', group: 'fine_tuning', query: LIST_QUERY },
  { name: 'fine_tuning', method: 'GET', path: '/v1/fine_tuning/jobs/{id}', group: 'fine_tuning' },
  { name: 'fine_tuning', method: 'POST', path: '/v1/fine_tuning/jobs/{id}/cancel', group: 'fine_tuning' },
  { name: 'assistants', method: 'POST', path: '/v1/assistants', group: 'assistants' },
  { name: 'assistants', method: 'GET', path: '/v1/assistants', group: 'assistants', query: LIST_QUERY },
  { name: 'assistants', method: 'GET', path: '/v1/assistants/{id}', group: 'assistants' },
  { name: 'responses', method: 'GET', path: '/v1/responses/{id}', group: 'stored_responses' },
];

/** Chat and embeddings say prompt/completion tokens; the Responses API says input/output. */
function readUsage(u: unknown): Usage | null {
  if (!isRecord(u)) return null;
  const prompt = num(u.prompt_tokens) || num(u.input_tokens);
  const completion = num(u.completion_tokens) || num(u.output_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: num(u.total_tokens) || prompt + completion };
}

function usageTap(): UsageTap {
  let usage: Usage | null = null;
  return {
    event(ev) {
      // Only events that carry a usage object are parsed; the rest pass untouched.
      if (!ev.data.includes('"usage"')) return;
      try {
        const data: unknown = JSON.parse(ev.data);
        if (!isRecord(data)) return;
        usage = readUsage(data.usage) ?? (isRecord(data.response) ? readUsage(data.response.usage) : null) ?? usage;
      } catch {
        // not JSON: nothing to count
      }
    },
    usage: () => usage,
  };
}

function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function errorBody(e: NativeError): unknown {
  return { error: { message: e.message, type: e.type || errorType(e.status), param: null, code: e.code } };
}

// Stored responses and conversations, uploaded files and vector stores, named from a body.
const accountWide: readonly AccountWideRef[] = [
  { group: 'stored_responses', bodyKey: 'previous_response_id', topLevel: true },
  { group: 'stored_responses', bodyKey: 'conversation', topLevel: true },
  { group: 'stored_responses', bodyKey: 'type', equals: 'item_reference' },
  { group: 'files', bodyKey: 'file_id' },
  { group: 'files', bodyKey: 'vector_store_ids' },
];

export const openaiNativeSpec: NativeProviderSpec = {
  id: 'openai',
  accountWide,
  versionInBaseUrl: '/v1',
  keyHeaders: ['authorization', 'api-key'],
  bridgePrefix: '/v1',
  streamFormat: 'sse',
  endpoints: openaiNativeEndpoints,
  usageFromJson: (body) => (isRecord(body) ? readUsage(body.usage) : null),
  usageTap,
  errorBody,
  streamErrorEvent: (e) => `data: ${JSON.stringify(errorBody(e))}\n\n`,
};
