/**
 * Key custody (KEY_MODE): which provider key an upstream call carries.
 * - server: the gateway's key; the client never sends one.
 * - passthrough: the client's own key, forwarded after inspection, never stored or logged.
 * - auto: the gateway's key when it has one for that provider, else the client's.
 */
import type { KeyMode } from '../config/schema.js';
import { errors } from '../core/errors.js';
import { SecretString } from '../crypto/secret-string.js';
import type { ResolvedProvider } from '../providers/registry.js';

export type Custody = 'server' | 'client' | 'byok' | 'none';

export interface UpstreamKey {
  key: SecretString | null;
  custody: Custody;
}

export function resolveUpstreamKey(mode: KeyMode, provider: ResolvedProvider, clientKey: string | null, splitKey: SecretString | null = null): UpstreamKey {
  // A split key is the user's own key, brought in two halves: it wins in every mode.
  if (splitKey) return { key: splitKey, custody: 'byok' };
  const keyOptional = provider.adapter.keyOptional === true;
  if (mode === 'server') {
    if (provider.serverKey) return { key: provider.serverKey, custody: 'server' };
    if (keyOptional) return { key: null, custody: 'none' };
    throw errors.noProviderKey(provider.adapter.displayName);
  }
  if (mode === 'auto' && provider.serverKey) return { key: provider.serverKey, custody: 'server' };
  if (clientKey) return { key: SecretString.from(clientKey), custody: 'client' };
  if (keyOptional) return { key: null, custody: 'none' };
  throw mode === 'passthrough' ? errors.missingPassthroughKey() : errors.noProviderKey(provider.adapter.displayName);
}
