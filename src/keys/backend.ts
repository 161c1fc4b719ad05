/** Builds the configured secret backend (`secrets.backend`); remote ones behind a TTL cache. */
import type { SecretBackend } from '../secrets/backend.js';
import { AwsSecretsManagerBackend } from '../secrets/backends/aws.js';
import { AzureKeyVaultBackend } from '../secrets/backends/azure.js';
import { EnvBackend, type EnvDecryptor } from '../secrets/backends/env.js';
import { KeyringBackend } from '../secrets/backends/keyring.js';
import { StoreBackend } from '../secrets/backends/store.js';
import { VaultBackend } from '../secrets/backends/vault.js';
import { CachedBackend } from '../secrets/cached-backend.js';
import { SecretString } from '../crypto/secret-string.js';
import type { Store } from '../store/connect.js';
import type { SecretsConfig } from './config.js';
import type { MasterKeyRing } from './master-keys.js';

export interface BackendDeps {
  store: Store;
  ring: MasterKeyRing;
  env: Readonly<Record<string, string | undefined>>;
  decryptEnc: EnvDecryptor;
}

export function createSecretBackend(cfg: SecretsConfig, deps: BackendDeps): SecretBackend {
  const cached = (b: SecretBackend) => (cfg.cacheTtlMs > 0 ? new CachedBackend(b, { ttlMs: cfg.cacheTtlMs }) : b);
  const need = <T>(v: T | undefined, section: string): T => {
    if (v === undefined) throw new Error(`secrets.backend is '${cfg.backend}' but secrets.${section} is not configured.`);
    return v;
  };
  switch (cfg.backend) {
    case 'store':
      return new StoreBackend({ store: deps.store, key: deps.ring.current.envelopeKey(), previousKeys: () => deps.ring.openingKeys() });
    case 'env':
      return new EnvBackend({ env: deps.env, decryptEnc: deps.decryptEnc });
    case 'vault': {
      const v = need(cfg.vault, 'vault');
      const token = deps.env[v.tokenEnv];
      const secretId = deps.env[v.secretIdEnv];
      return cached(
        new VaultBackend({
          url: v.url,
          token: token ? SecretString.from(token) : undefined,
          appRole: v.roleId && secretId ? { roleId: v.roleId, secretId: SecretString.from(secretId), mount: v.appRoleMount } : undefined,
          namespace: v.namespace,
          mount: v.mount,
          prefix: v.prefix,
          field: v.field,
          tls: v.caFile || v.insecureSkipVerify ? { caFile: v.caFile, insecureSkipVerify: v.insecureSkipVerify } : undefined,
          timeoutMs: v.timeoutMs,
        }),
      );
    }
    case 'aws':
      return cached(new AwsSecretsManagerBackend({ ...cfg.aws }));
    case 'azure': {
      const a = need(cfg.azure, 'azure');
      return cached(new AzureKeyVaultBackend({ vaultUrl: a.vaultUrl, prefix: a.prefix, purgeOnDelete: a.purgeOnDelete }));
    }
    case 'keyring':
      return new KeyringBackend({ ...cfg.keyring });
  }
}
