/**
 * Ollama's native API through `/ollama/*` (`/api/chat`, NDJSON streams), sent to the
 * `ollama-native` upstream (its base URL has no `/v1`). Model management (pull, create,
 * copy, push) changes the server for everyone: off unless enabled with
 * `providers.ollama.nativeEndpoints: [manage]`; `info` lists show/ps/version.
 */
import type { Usage } from '../../core/openai-types.js';
import type { NativeEndpoint, NativeProviderSpec, UsageTap } from '../_shared/endpoint-whitelist.js';
import { isRecord, num } from '../_shared/translate.js';

export const ollamaNativeEndpoints: readonly NativeEndpoint[] = [
  // Ollama streams unless the body says `stream: false`.
  { name: 'chat', method: 'POST', path: '/api/chat', model: 'body', stream: 'body-flag-default-on' },
  { name: 'generate', method: 'POST', path: '/api/generate', model: 'body', stream: 'body-flag-default-on' },
  { name: 'embeddings', method: 'POST', path: '/api/embed', model: 'body' },
  { name: 'models', method: 'GET', path: '/api/tags' },
  { name: 'info', method: 'POST', path: '/api/show', model: 'body', group: 'info' },
  { name: 'info', method: 'GET', path: '/api/ps', group: 'info' },
  { name: 'info', method: 'GET', path: '/api/version', group: 'info' },
  { name: 'manage', method: 'POST', path: '/api/pull', model: 'body', group: 'manage' },
  { name: 'manage', method: 'POST', path: '/api/create', model: 'body', group: 'manage' },
  { name: 'manage', method: 'POST', path: '/api/copy', group: 'manage' },
  { name: 'manage', method: 'POST', path: '/api/push', model: 'body', group: 'manage' },
];

/** The final object (`done: true`) carries the counts. */
function readUsage(body: unknown): Usage | null {
  if (!isRecord(body) || (body.prompt_eval_count === undefined && body.eval_count === undefined)) return null;
  const prompt = num(body.prompt_eval_count);
  const completion = num(body.eval_count);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function usageTap(): UsageTap {
  let usage: Usage | null = null;
  return {
    event(ev) {
      if (!ev.data.includes('"done":true') && !ev.data.includes('"done": true')) return;
      try {
        usage = readUsage(JSON.parse(ev.data)) ?? usage;
      } catch {
        // not JSON: nothing to count
      }
    },
    usage: () => usage,
  };
}

export const ollamaNativeSpec: NativeProviderSpec = {
  id: 'ollama',
  upstreamId: 'ollama-native',
  keyHeaders: ['authorization'],
  bridgePrefix: '/api',
  streamFormat: 'ndjson',
  endpoints: ollamaNativeEndpoints,
  usageFromJson: readUsage,
  usageTap,
  errorBody: (e) => ({ error: e.message }),
  streamErrorEvent: (e) => `${JSON.stringify({ error: e.message })}\n`,
};
