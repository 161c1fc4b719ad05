/**
 * Anthropic's own API through `/anthropic/*`: what may pass, and how its usage and errors
 * look. Batches and files are account-wide (they reach other callers' work): off unless
 * enabled with `providers.anthropic.nativeEndpoints`.
 */
import type { Usage } from '../../core/openai-types.js';
import type { NativeEndpoint, NativeProviderSpec, UsageTap } from '../_shared/endpoint-whitelist.js';
import type { AccountWideRef } from '../_shared/account-wide.js';
import { isRecord } from '../_shared/translate.js';
import { mapUsage } from './usage.js';

// Paging of list endpoints: numbers and ids only.
const LIST_QUERY = { limit: /^\d{1,4}$/, after_id: /^[A-Za-z0-9_-]{1,128}$/, before_id: /^[A-Za-z0-9_-]{1,128}$/ };

export const anthropicNativeEndpoints: readonly NativeEndpoint[] = [
  { name: 'messages', method: 'POST', path: '/v1/messages', model: 'body', stream: 'body-flag' },
  { name: 'count_tokens', method: 'POST', path: '/v1/messages/count_tokens', model: 'body' },
  { name: 'models', method: 'GET', path: '/v1/models', query: LIST_QUERY },
  { name: 'models', method: 'GET', path: '/v1/models/{model}' },
  { name: 'batches', method: 'POST', path: '/v1/messages/batches', group: 'batches' },
  { name: 'batches', method: 'GET', path: '/v1/messages/batches', group: 'batches', query: LIST_QUERY },
  { name: 'batches', method: 'GET', path: '/v1/messages/batches/{id}', group: 'batches' },
  { name: 'batches', method: 'GET', path: '/v1/messages/batches/{id}/results', group: 'batches' },
  { name: 'batches', method: 'POST', path: '/v1/messages/batches/{id}/cancel', group: 'batches' },
  { name: 'files', method: 'GET', path: '/v1/files', group: 'files', query: LIST_QUERY },
  { name: 'files', method: 'GET', path: '/v1/files/{id}', group: 'files' },
];

// Anthropic's error types by status (https://docs.anthropic.com/en/api/errors).
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

function usageTap(): UsageTap {
  let input: Record<string, unknown> = {};
  let output: Record<string, unknown> = {};
  let seen = false;
  return {
    event(ev) {
      if (ev.event !== 'message_start' && ev.event !== 'message_delta') return;
      const data = safeJson(ev.data);
      if (!isRecord(data)) return;
      if (ev.event === 'message_start' && isRecord(data.message) && isRecord(data.message.usage)) input = data.message.usage;
      if (ev.event === 'message_delta' && isRecord(data.usage)) output = data.usage;
      seen = true;
    },
    // message_delta carries the final output count (and, lately, the input counts too).
    usage: () => (seen ? mapUsage({ ...input, ...output }) : null),
  };
}

// A file uploaded to the account (a `file` source), the files beta, a reused code-execution container.
const accountWide: readonly AccountWideRef[] = [
  { group: 'files', bodyKey: 'file_id' },
  { group: 'files', bodyKey: 'container', topLevel: true },
  { group: 'files', header: 'anthropic-beta', value: /files-api/i },
];

export const anthropicNativeSpec: NativeProviderSpec = {
  id: 'anthropic',
  accountWide,
  keyHeaders: ['x-api-key', 'authorization'],
  bridgePrefix: '/v1',
  streamFormat: 'sse',
  endpoints: anthropicNativeEndpoints,
  forwardHeaders: { 'anthropic-version': /^\d{4}-\d{2}-\d{2}$/, 'anthropic-beta': /^[A-Za-z0-9._-]+(,\s*[A-Za-z0-9._-]+)*$/ },
  usageFromJson: (body): Usage | null => (isRecord(body) && isRecord(body.usage) ? mapUsage(body.usage) : null),
  usageTap,
  errorBody: (e) => ({ type: 'error', error: { type: errorType(e.status), message: e.message } }),
  streamErrorEvent: (e) => `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: errorType(e.status), message: e.message } })}\n\n`,
};

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
