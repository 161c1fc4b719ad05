/**
 * Key custody (KEY_MODE): which provider key an upstream call carries.
 * - server: the gateway's key; the client never sends one.
 * - passthrough: the client's own key, forwarded after inspection, never stored or logged.
 * - auto: the gateway's key when it has one for that provider, else the client's.
 */
import type { KeyMode } from '../config/schema.js';
import { GatewayError, errors } from '../core/errors.js';
import { SecretString } from '../crypto/secret-string.js';
import type { ResolvedProvider } from '../providers/registry.js';
import { NoKeyAvailableError, type KeyLease } from '../secrets/key-pool.js';

export type Custody = 'server' | 'client' | 'byok' | 'none';

export interface UpstreamKey {
  key: SecretString | null;
  custody: Custody;
  /** Server custody from the pool: the caller must release it with the call's outcome. */
  lease?: KeyLease;
}

/** The gateway's key pool (src/keys); acquire() is null when it holds no key for the provider. */
export interface ServerKeySource {
  acquire(provider: string): KeyLease | null;
}

export function resolveUpstreamKey(
  mode: KeyMode,
  provider: ResolvedProvider,
  clientKey: string | null,
  splitKey: SecretString | null = null,
  pool: ServerKeySource | null = null,
): UpstreamKey {
  // A split key is the user's own key, brought in two halves: it wins in every mode.
  if (splitKey) return { key: splitKey, custody: 'byok' };
  const keyOptional = provider.adapter.keyOptional === true;
  // Without a pool (callers that cannot release a lease) the start-up env key is used.
  // Passthrough never takes a lease: an unused one would never be released.
  const server = mode === 'passthrough' ? null : pool ? leaseFrom(pool, provider) : provider.serverKey ? { key: provider.serverKey, custody: 'server' as const } : null;
  if (mode === 'server') {
    if (server) return server;
    if (keyOptional) return { key: null, custody: 'none' };
    throw errors.noProviderKey(provider.adapter.displayName);
  }
  if (mode === 'auto' && server) return server;
  if (clientKey) return { key: SecretString.from(clientKey), custody: 'client' };
  if (keyOptional) return { key: null, custody: 'none' };
  throw mode === 'passthrough' ? errors.missingPassthroughKey() : errors.noProviderKey(provider.adapter.displayName);
}

function leaseFrom(pool: ServerKeySource, provider: ResolvedProvider): UpstreamKey | null {
  try {
    const lease = pool.acquire(provider.id);
    return lease ? { key: lease.key, custody: 'server', lease } : null;
  } catch (err) {
    if (!(err instanceof NoKeyAvailableError)) throw err;
    // Every key of the pool is resting after a refusal or a rate limit.
    const secs = String(err.retryAfterSeconds ?? 1);
    throw new GatewayError(503, 'server_error', 'provider_keys_cooling', `Every ${provider.adapter.displayName} key of the gateway is resting after a refusal or rate limit; retry in ${secs} s.`, { headers: { 'retry-after': secs } });
  }
}
