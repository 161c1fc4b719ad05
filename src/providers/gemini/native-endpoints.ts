/**
 * Gemini's own API through `/gemini/*`. The model is a typed path segment
 * (`/v1beta/models/{model}:generateContent`); the key never rides in the URL (a `key=` query
 * is refused before matching). Files, cached contents and batches are account-wide: off
 * unless enabled with `providers.gemini.nativeEndpoints`.
 */
import type { Usage } from '../../core/openai-types.js';
import type { NativeEndpoint, NativeProviderSpec, UsageTap } from '../_shared/endpoint-whitelist.js';
import type { AccountWideRef } from '../_shared/account-wide.js';
import { isRecord } from '../_shared/translate.js';
import { mapUsage } from './usage.js';

const LIST_QUERY = { pageSize: /^\d{1,4}$/, pageToken: /^[A-Za-z0-9_=-]{1,512}$/ };
const model = (verb: string, name: string): NativeEndpoint => ({ name, method: 'POST', path: `/v1beta/models/{model}:${verb}`, model: 'path' });

export const geminiNativeEndpoints: readonly NativeEndpoint[] = [
  { ...model('generateContent', 'generateContent'), stream: 'never' },
  { ...model('streamGenerateContent', 'generateContent'), query: { alt: ['sse'] }, stream: 'always' },
  model('countTokens', 'countTokens'),
  model('embedContent', 'embeddings'),
  model('batchEmbedContents', 'embeddings'),
  { name: 'models', method: 'GET', path: '/v1beta/models', query: LIST_QUERY },
  { name: 'models', method: 'GET', path: '/v1beta/models/{model}' },
  { name: 'files', method: 'GET', path: '/v1beta/files', group: 'files', query: LIST_QUERY },
  { name: 'files', method: 'GET', path: '/v1beta/files/{id}', group: 'files' },
  { name: 'cachedContents', method: 'POST', path: '/v1beta/cachedContents', group: 'cachedContents' },
  { name: 'cachedContents', method: 'GET', path: '/v1beta/cachedContents', group: 'cachedContents', query: LIST_QUERY },
  { name: 'cachedContents', method: 'GET', path: '/v1beta/cachedContents/{id}', group: 'cachedContents' },
  { ...model('batchGenerateContent', 'batches'), group: 'batches' },
  { name: 'batches', method: 'GET', path: '/v1beta/batches/{id}', group: 'batches' },
];

// Google's canonical status names (https://ai.google.dev/gemini-api/docs/troubleshooting).
function statusName(status: number): string {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 503) return 'UNAVAILABLE';
  if (status === 504) return 'DEADLINE_EXCEEDED';
  if (status >= 500) return 'INTERNAL';
  return 'INVALID_ARGUMENT';
}

const errorBody = (status: number, message: string) => ({ error: { code: status, message, status: statusName(status) } });

function usageTap(): UsageTap {
  let last: unknown = null;
  return {
    // Every slice carries the running usageMetadata; the last one is the total.
    event(ev) {
      if (!ev.data.includes('usageMetadata')) return;
      try {
        const data: unknown = JSON.parse(ev.data);
        if (isRecord(data) && isRecord(data.usageMetadata)) last = data.usageMetadata;
      } catch {
        // not JSON: nothing to count
      }
    },
    usage: () => (last ? mapUsage(last) : null),
  };
}

// Cached contents and uploaded files, named from a generate body (the API takes both spellings).
const accountWide: readonly AccountWideRef[] = [
  { group: 'cachedContents', bodyKey: 'cachedContent' },
  { group: 'cachedContents', bodyKey: 'cached_content' },
  { group: 'files', bodyKey: 'fileUri' },
  { group: 'files', bodyKey: 'file_uri' },
];

export const geminiNativeSpec: NativeProviderSpec = {
  id: 'gemini',
  accountWide,
  keyHeaders: ['x-goog-api-key'],
  bridgePrefix: '/v1beta',
  streamFormat: 'sse',
  endpoints: geminiNativeEndpoints,
  usageFromJson: (body): Usage | null => (isRecord(body) && isRecord(body.usageMetadata) ? mapUsage(body.usageMetadata) : null),
  usageTap,
  errorBody: (e) => errorBody(e.status, e.message),
  streamErrorEvent: (e) => `data: ${JSON.stringify(errorBody(e.status, e.message))}\n\n`,
};
