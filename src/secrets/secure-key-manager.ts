/**
 * The library API: `new SecureKeyManager({ provider: KeyProvider.VAULT, vaultUrl, vaultToken })`,
 * then setApiKey / getApiKey / deleteApiKey / listProviders. Secret names per backend:
 *   env      OPENAI_API_KEY (openai.2 -> OPENAI_API_KEY_2)
 *   store    openai (rows in keygate's database; the backend instance is injected)
 *   vault    {mount}/data/keygate/openai, field `value`
 *   aws      keygate/openai
 *   azure    keygate-openai (tag keygate-name=openai)
 *   keyring  service `keygate`, account `openai`
 * Remote backends (vault, aws, azure) are wrapped in a CachedBackend.
 */
import type { TokenCredential } from '@azure/identity';
import { SecretString } from '../crypto/secret-string.js';
import { assertSecretName, type SecretBackend } from './backend.js';
import { AwsSecretsManagerBackend, type AwsBackendOptions } from './backends/aws.js';
import { AzureKeyVaultBackend, type AzureBackendOptions } from './backends/azure.js';
import { EnvBackend, type EnvBackendOptions } from './backends/env.js';
import { KeyringBackend, type KeyringBackendOptions } from './backends/keyring.js';
import { VaultBackend, type VaultBackendOptions } from './backends/vault.js';
import { CachedBackend, type BackendStatus } from './cached-backend.js';
import { SecretNotFoundError } from './errors.js';

export enum KeyProvider {
  ENV = 'env',
  STORE = 'store',
  VAULT = 'vault',
  AWS = 'aws',
  AZURE = 'azure',
  KEYRING = 'keyring',
}

export interface SecureKeyManagerOptions {
  provider: KeyProvider;
  /** Required for STORE; for any other provider, replaces the backend built from the options below. */
  backend?: SecretBackend;
  /** TTL of the cache in front of vault/aws/azure, default 5 minutes; 0 disables the cache. */
  cacheTtlMs?: number;

  // env
  env?: EnvBackendOptions['env'];
  decryptEnc?: EnvBackendOptions['decryptEnc'];

  // vault (flat names as users know them; `vault` takes every option)
  vaultUrl?: string;
  vaultToken?: string | SecretString;
  vaultNamespace?: string;
  vaultMount?: string;
  vaultRoleId?: string;
  vaultSecretId?: string | SecretString;
  vault?: Partial<VaultBackendOptions>;

  // aws
  awsRegion?: string;
  awsEndpoint?: string;
  aws?: AwsBackendOptions;

  // azure
  azureVaultUrl?: string;
  azureCredential?: TokenCredential;
  azure?: Partial<AzureBackendOptions>;

  // keyring
  keyringService?: string;
  keyring?: KeyringBackendOptions;
}

export class SecureKeyManager {
  readonly provider: KeyProvider;
  readonly backend: SecretBackend;

  constructor(opts: SecureKeyManagerOptions) {
    this.provider = opts.provider;
    const raw = opts.backend ?? buildBackend(opts);
    const remote = opts.provider === KeyProvider.VAULT || opts.provider === KeyProvider.AWS || opts.provider === KeyProvider.AZURE;
    const ttl = opts.cacheTtlMs ?? 5 * 60_000;
    this.backend = remote && ttl > 0 && !(raw instanceof CachedBackend) ? new CachedBackend(raw, { ttlMs: ttl }) : raw;
  }

  async setApiKey(provider: string, key: string | SecretString): Promise<void> {
    assertSecretName(provider);
    const value = typeof key === 'string' ? SecretString.from(key) : key;
    if (value.length === 0) throw new TypeError('setApiKey: the key is empty');
    await this.backend.put(provider, value);
  }

  /** Rejects with SecretNotFoundError when no key is stored for the provider. */
  getApiKey(provider: string): Promise<SecretString> {
    assertSecretName(provider);
    return this.backend.get(provider);
  }

  /** Every key of a provider's pool: `openai`, then `openai.2`, `openai.3`, ... */
  async getApiKeys(provider: string): Promise<Array<{ name: string; key: SecretString }>> {
    assertSecretName(provider);
    const names = poolNames(await this.backend.list(), provider);
    const out: Array<{ name: string; key: SecretString }> = [];
    for (const name of names) {
      try {
        out.push({ name, key: await this.backend.get(name) });
      } catch (err) {
        if (!(err instanceof SecretNotFoundError)) throw err; // deleted between list and get
      }
    }
    return out;
  }

  deleteApiKey(provider: string): Promise<void> {
    assertSecretName(provider);
    return this.backend.delete(provider);
  }

  /** Providers that have at least one key (pool suffixes folded: `openai.2` counts as `openai`). */
  async listProviders(): Promise<string[]> {
    const names = await this.backend.list();
    return [...new Set(names.map((n) => n.split('.')[0]))].sort();
  }

  validate(): Promise<void> {
    return this.backend.validate();
  }

  /** Health of the backend; always healthy for uncached (local) backends. */
  status(): BackendStatus {
    return this.backend instanceof CachedBackend ? this.backend.status() : { healthy: true };
  }

  /** Re-reads cached values (SIGHUP). */
  async refresh(): Promise<{ changed: string[]; failed: string[]; removed: string[] }> {
    return this.backend instanceof CachedBackend ? this.backend.refresh() : { changed: [], failed: [], removed: [] };
  }
}

/** Names of a provider's pool in order: `openai`, `openai.2`, `openai.10`, ... */
export function poolNames(names: readonly string[], provider: string): string[] {
  const suffix = (n: string) => (n === provider ? 0 : Number.parseInt(n.slice(provider.length + 1), 10) || Number.MAX_SAFE_INTEGER);
  return names.filter((n) => n === provider || n.startsWith(`${provider}.`)).sort((a, b) => suffix(a) - suffix(b) || a.localeCompare(b));
}

function buildBackend(o: SecureKeyManagerOptions): SecretBackend {
  switch (o.provider) {
    case KeyProvider.ENV:
      return new EnvBackend({ env: o.env, decryptEnc: o.decryptEnc });
    case KeyProvider.STORE:
      throw new TypeError('KeyProvider.STORE needs the store backend instance: new SecureKeyManager({ provider: KeyProvider.STORE, backend })');
    case KeyProvider.VAULT: {
      const url = o.vault?.url ?? o.vaultUrl;
      if (!url) throw new TypeError('KeyProvider.VAULT needs vaultUrl');
      const roleId = o.vault?.appRole?.roleId ?? o.vaultRoleId;
      const secretId = o.vault?.appRole?.secretId ?? o.vaultSecretId;
      return new VaultBackend({
        ...o.vault,
        url,
        token: o.vault?.token ?? o.vaultToken,
        appRole: roleId && secretId ? { ...o.vault?.appRole, roleId, secretId } : undefined,
        namespace: o.vault?.namespace ?? o.vaultNamespace,
        mount: o.vault?.mount ?? o.vaultMount,
      });
    }
    case KeyProvider.AWS:
      return new AwsSecretsManagerBackend({ ...o.aws, region: o.aws?.region ?? o.awsRegion, endpoint: o.aws?.endpoint ?? o.awsEndpoint });
    case KeyProvider.AZURE: {
      const vaultUrl = o.azure?.vaultUrl ?? o.azureVaultUrl;
      if (!vaultUrl) throw new TypeError('KeyProvider.AZURE needs azureVaultUrl');
      return new AzureKeyVaultBackend({ ...o.azure, vaultUrl, credential: o.azure?.credential ?? o.azureCredential });
    }
    case KeyProvider.KEYRING:
      return new KeyringBackend({ ...o.keyring, service: o.keyring?.service ?? o.keyringService });
    default:
      throw new TypeError(`Unknown key provider '${String(o.provider)}'`);
  }
}
