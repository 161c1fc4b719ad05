/**
 * Provider keys in service (see docs/key-management.md, "Provider keys in service"): builds the
 * ProviderKeyService a gateway uses from its config, store, master keys and environment.
 */
import type { KeygateConfig } from '../config/schema.js';
import type { SecretString } from '../crypto/secret-string.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Store } from '../store/connect.js';
import type { EventBus } from '../server/events.js';
import { backendFixHint, createSecretBackend } from './backend.js';
import { poolEventToGateway } from './events.js';
import type { MasterKeyRing } from './master-keys.js';
import { ProviderKeyService, type EnvKeyReader, type KeySourceProvider } from './service.js';

export { ProviderKeyService, NoKeyAvailableError, type RotationResult, type EnvKeyReader } from './service.js';
export { MasterKeyRing, PREVIOUS_MASTER_KEY_FILE, NEW_MASTER_KEY_FILE, type PreviousKeyOutcome } from './master-keys.js';
export { rewrapDatabase, keyIdInUse, SEALED_COLUMNS } from './rewrap.js';
export { createSecretBackend, backendFixHint } from './backend.js';
export { secretsSchema, SECRET_BACKENDS, type SecretsConfig } from './config.js';

export interface ProviderKeysDeps {
  config: KeygateConfig;
  registry: ProviderRegistry;
  store: Store;
  ring: MasterKeyRing;
  env: Readonly<Record<string, string | undefined>>;
  readEnvKey: EnvKeyReader;
  events: EventBus;
  onError: (message: string) => void;
}

/** Each provider's key variable as the gateway reads it: a custom provider's apiKeyEnv, providers.<id>.apiKeyEnv, or the adapter's own. */
export function providerKeySources(config: KeygateConfig, registry: ProviderRegistry): KeySourceProvider[] {
  const settings = config.providers as unknown as Record<string, { apiKeyEnv?: string } | undefined>;
  const custom = new Map(config.providers.custom.map((c) => [c.id, c.apiKeyEnv ?? null]));
  return registry.all().map((p) => ({
    id: p.id,
    envVar: custom.has(p.id) ? (custom.get(p.id) ?? null) : settings[p.id]?.apiKeyEnv ?? (p.adapter.env.apiKey || null),
  }));
}

/** Builds and loads the service (keys read once here, before the first request). */
export async function createProviderKeys(d: ProviderKeysDeps): Promise<ProviderKeyService> {
  const s = d.config.secrets;
  const providers = providerKeySources(d.config, d.registry);
  const decryptEnc = (value: string, varName: string): SecretString => {
    const k = d.readEnvKey(varName);
    if (!k) throw new Error(`${varName} is empty`);
    return k;
  };
  const service = new ProviderKeyService({
    providers,
    env: d.env,
    readEnvKey: d.readEnvKey,
    backend: s.backend === 'env' ? null : createSecretBackend(s, { store: d.store, ring: d.ring, env: d.env, decryptEnc }),
    pool: { strategy: s.strategy, authCooldownMs: s.authCooldownMs, rateLimitCooldownMs: s.rateLimitCooldownMs },
    onEvent: (e) => d.events.emit(poolEventToGateway(e)),
    onError: d.onError,
    beforeReload: () => d.ring.refresh(),
  });
  // validate() first, so a backend that cannot serve is named at start-up with what to check.
  await service.validate(backendFixHint(s));
  await service.reload();
  service.watch(s.reloadIntervalMs);
  return service;
}
