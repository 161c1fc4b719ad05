/** Builds the configured secret backend (`secrets.backend`); remote ones behind a TTL cache. */
import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/identity';
import { ConfigError } from '../config/load.js';
import type { SecretBackend } from '../secrets/backend.js';
import { AwsSecretsManagerBackend } from '../secrets/backends/aws.js';
import { AzureKeyVaultBackend } from '../secrets/backends/azure.js';
import { EnvBackend, type EnvDecryptor } from '../secrets/backends/env.js';
import { KeyringBackend } from '../secrets/backends/keyring.js';
import { StoreBackend } from '../secrets/backends/store.js';
import { VaultBackend } from '../secrets/backends/vault.js';
import { CachedBackend } from '../secrets/cached-backend.js';
import { isEncValue } from '../crypto/enc-values.js';
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

/**
 * What to check when a backend fails validation at start-up: named settings and variables, so
 * the operator is not left with "no provider key configured".
 */
export function backendFixHint(cfg: SecretsConfig): string {
  switch (cfg.backend) {
    case 'vault': {
      const v = cfg.vault;
      const auth = v?.roleId ? `the AppRole role id (secrets.vault.roleId) with the secret id in ${v.secretIdEnv}` : `the token in ${v?.tokenEnv ?? 'VAULT_TOKEN'}`;
      return `Check secrets.vault.url (${v?.url ?? 'unset'}), ${auth}, secrets.vault.namespace and mount, and for HTTPS with a private CA secrets.vault.caFile.`;
    }
    case 'aws':
      return 'Check secrets.aws.region (or AWS_REGION), secrets.aws.endpoint if set, the AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance/task role) and the secretsmanager:ListSecrets permission.';
    case 'azure':
      return cfg.azure?.clientId
        ? `Check secrets.azure.vaultUrl, tenantId, clientId, the client secret in ${cfg.azure.clientSecretEnv}${cfg.azure.authorityHost ? ` and authorityHost (${cfg.azure.authorityHost})` : ''}, and that the identity may list secrets.`
        : 'Check secrets.azure.vaultUrl and the Azure credential (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, a managed identity or `az login`; or set secrets.azure.tenantId and clientId), and that it may list secrets.';
    case 'keyring':
      return 'The OS keyring is not reachable: on Linux a Secret Service (gnome-keyring) must run, unlocked, on this session bus (DBUS_SESSION_BUS_ADDRESS). The keyring is for local development; use store, vault, aws or azure on servers.';
    case 'store':
      return 'A stored provider key does not open with the master key: start with the master key this database was set up with (a master-key rotation in progress needs master.key.previous or master.key.new in the data directory).';
    case 'env':
      return 'Check the enc: values in the environment.';
  }
}

/** A credential for a backend from the environment variable named in the config; `enc:` values are opened. */
function credentialFrom(deps: BackendDeps, varName: string): SecretString | undefined {
  const v = deps.env[varName];
  if (!v) return undefined;
  return isEncValue(v) ? deps.decryptEnc(v, varName) : SecretString.from(v);
}

/** A service principal from the config (tenantId, clientId, the secret from its variable); else undefined (DefaultAzureCredential). */
function azureCredential(a: NonNullable<SecretsConfig['azure']>, deps: BackendDeps, ca: Buffer | undefined): TokenCredential | undefined {
  if (!a.clientId) return undefined;
  const secret = credentialFrom(deps, a.clientSecretEnv);
  if (!secret) throw new ConfigError(`secrets.azure.clientId is set but ${a.clientSecretEnv} is not: put the service principal's client secret in it (a plain value or an enc: value).`);
  if (a.authorityHost && !a.authorityHost.startsWith('https://')) throw new ConfigError('secrets.azure.authorityHost must be an https:// URL (MSAL sends the client secret there).');
  // Made on the first token request, so a gateway that never reaches Azure never loads its
  // identity library; the secret is revealed once, into the credential the SDK keeps.
  const tenantId = a.tenantId!;
  const clientId = a.clientId;
  let made: Promise<TokenCredential> | null = null;
  const credential = () =>
    (made ??= import('@azure/identity').then(
      ({ ClientSecretCredential }) =>
        new ClientSecretCredential(tenantId, clientId, secret.reveal(), {
          authorityHost: a.authorityHost,
          disableInstanceDiscovery: a.disableInstanceDiscovery,
          ...(ca ? { tlsOptions: { ca } } : {}),
        }),
    ));
  return { getToken: async (scopes, options) => (await credential()).getToken(scopes, options) };
}

function readCa(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Give the path of a PEM CA bundle.`);
  }
}

export function createSecretBackend(cfg: SecretsConfig, deps: BackendDeps): SecretBackend {
  const cached = (b: SecretBackend) => (cfg.cacheTtlMs > 0 ? new CachedBackend(b, { ttlMs: cfg.cacheTtlMs }) : b);
  const need = <T>(v: T | undefined, section: string): T => {
    if (v === undefined) throw new ConfigError(`secrets.backend is '${cfg.backend}' but secrets.${section} is not configured.`);
    return v;
  };
  switch (cfg.backend) {
    case 'store':
      return new StoreBackend({ store: deps.store, key: deps.ring.current.envelopeKey(), previousKeys: () => deps.ring.openingKeys() });
    case 'env':
      return new EnvBackend({ env: deps.env, decryptEnc: deps.decryptEnc });
    case 'vault': {
      const v = need(cfg.vault, 'vault');
      const token = credentialFrom(deps, v.tokenEnv);
      const secretId = v.roleId ? credentialFrom(deps, v.secretIdEnv) : undefined;
      if (!token && !(v.roleId && secretId)) {
        throw new ConfigError(
          v.roleId
            ? `secrets.backend is 'vault' with AppRole (secrets.vault.roleId), but ${v.secretIdEnv} is not set: put the AppRole secret id in it (a plain value or an enc: value).`
            : `secrets.backend is 'vault' but ${v.tokenEnv} is not set: put a Vault token in it (a plain value or an enc: value), or set secrets.vault.roleId and ${v.secretIdEnv} for AppRole.`,
        );
      }
      return cached(
        new VaultBackend({
          url: v.url,
          token,
          appRole: v.roleId && secretId ? { roleId: v.roleId, secretId, mount: v.appRoleMount } : undefined,
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
      const ca = a.caFile ? readCa(a.caFile, 'secrets.azure.caFile') : undefined;
      return cached(
        new AzureKeyVaultBackend({
          vaultUrl: a.vaultUrl,
          prefix: a.prefix,
          purgeOnDelete: a.purgeOnDelete,
          credential: azureCredential(a, deps, ca),
          tlsCa: ca,
          maxRetries: a.maxRetries,
          disableChallengeResourceVerification: a.disableChallengeResourceVerification,
          allowInsecureHttp: a.allowInsecureHttp,
        }),
      );
    }
    case 'keyring':
      return new KeyringBackend({ ...cfg.keyring });
  }
}
