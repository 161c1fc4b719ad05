/**
 * The whitelist step of the native routes: the raw path is matched against the provider's
 * endpoint list before anything else (authentication included), and account-wide endpoints
 * pass only when the operator enabled their group.
 */
import { GatewayError, errors } from '../../../core/errors.js';
import type { KeygateConfig, ProviderSettings } from '../../../config/schema.js';
import { compileEndpoints, endpointGroups, matchEndpoint, type CompiledEndpoint, type NativeProviderSpec } from '../../../providers/_shared/endpoint-whitelist.js';
import { anthropicNativeSpec } from '../../../providers/anthropic/native-endpoints.js';
import { geminiNativeSpec } from '../../../providers/gemini/native-endpoints.js';
import { ollamaNativeSpec } from '../../../providers/ollama/native-endpoints.js';
import { openaiNativeSpec } from '../../../providers/openai/native-endpoints.js';
import type { NativeMatch } from './call.js';

export const NATIVE_SPECS: readonly NativeProviderSpec[] = [anthropicNativeSpec, geminiNativeSpec, openaiNativeSpec, ollamaNativeSpec];

/** A provider's whitelist, compiled once at start-up with the groups config enables. */
export interface NativeWhitelist {
  spec: NativeProviderSpec;
  endpoints: readonly CompiledEndpoint[];
  enabled: ReadonlySet<string>;
}

export function buildWhitelist(spec: NativeProviderSpec, config: KeygateConfig): NativeWhitelist {
  const settings = (config.providers as unknown as Record<string, ProviderSettings | undefined>)[spec.id];
  const groups = endpointGroups(spec.endpoints);
  const enabled = new Set(settings?.nativeEndpoints ?? []);
  for (const g of enabled) {
    if (!groups.has(g)) throw new Error(`providers.${spec.id}.nativeEndpoints: '${g}' is not an endpoint group of ${spec.id}; use one of: ${[...groups].join(', ')}.`);
  }
  return { spec, endpoints: compileEndpoints(spec.endpoints), enabled };
}

/** Matches `raw` (the provider path with its query) or throws the refusal. */
export function resolveMatch(w: NativeWhitelist, method: string, raw: string): NativeMatch {
  const m = matchEndpoint(w.endpoints, method, raw);
  switch (m.kind) {
    case 'refused':
      // The reason names the shape only; the path itself is never echoed.
      throw new GatewayError(400, 'invalid_request_error', 'path_refused', `This path is refused: it contains ${m.reason}.`);
    case 'method_not_allowed':
      throw new GatewayError(405, 'invalid_request_error', 'method_not_allowed', 'This method is not allowed on this endpoint.', { headers: { allow: m.allow.join(', ') } });
    case 'not_found':
      throw new GatewayError(404, 'not_found_error', 'endpoint_not_allowed', `This endpoint is not passed through to ${w.spec.id} by this gateway.`);
  }
  const group = m.endpoint.group;
  if (group && !w.enabled.has(group)) {
    throw errors.forbidden(`This ${w.spec.id} endpoint is account-wide and is not enabled on this gateway (an operator can enable it with providers.${w.spec.id}.nativeEndpoints: [${group}]).`, 'endpoint_not_enabled');
  }
  const q = raw.indexOf('?');
  return { endpoint: m.endpoint, params: m.params, query: m.query, path: q === -1 ? raw : raw.slice(0, q) };
}
