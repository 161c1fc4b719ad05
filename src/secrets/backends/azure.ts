/**
 * Azure Key Vault through the official `@azure/keyvault-secrets` client. Key Vault names allow
 * only [0-9a-zA-Z-] and are case-insensitive, so logical `openai.2` is stored as
 * `keygate-openai-2` with a `keygate-name` tag holding the logical name, which list() reads back.
 * Credentials: a TokenCredential (DefaultAzureCredential by default: env, workload identity,
 * managed identity, Azure CLI; src/keys/backend.ts builds a ClientSecretCredential from config).
 * The Azure SDK is loaded on first use: a gateway or CLI that does not use Azure does not pay for it.
 */
import type { TokenCredential } from '@azure/identity';
import type { SecretClient } from '@azure/keyvault-secrets';
import { SecretString } from '../../crypto/secret-string.js';
import { assertSecretName, type SecretBackend, type SecretBackendCapabilities } from '../backend.js';
import { SecretBackendError, SecretNotFoundError, describeCause, type SecretOperation } from '../errors.js';

export interface AzureBackendOptions {
  /** e.g. https://my-vault.vault.azure.net */
  vaultUrl: string;
  credential?: TokenCredential;
  /** Physical name prefix, default `keygate-`. */
  prefix?: string;
  /** After a delete, also purge it (needs the purge permission) so the name can be reused at once. */
  purgeOnDelete?: boolean;
  /** Retries of the Azure pipeline, default 3. */
  maxRetries?: number;
  /**
   * Skip the check that the 401 challenge's resource matches the vault's domain. Needed for
   * vaults outside *.vault.azure.net (sovereign clouds with unusual hosts, local test servers).
   */
  disableChallengeResourceVerification?: boolean;
  /** Allow an http:// vault URL (local test servers only: the bearer token would travel in clear). */
  allowInsecureHttp?: boolean;
  /** CA certificates trusted for the vault (a private CA); replaces the public ones. */
  tlsCa?: string | Buffer;
  /** An already configured client (tests). */
  client?: SecretClient;
}

const NAME_TAG = 'keygate-name';

/** `openai.2` -> `keygate-openai-2`: every character outside [0-9a-zA-Z-] becomes '-'. */
export function azureSecretName(name: string, prefix = 'keygate-'): string {
  return (prefix + name).replace(/[^0-9a-zA-Z-]/g, '-');
}

/** The Azure client library and identity, loaded once, on first use. */
let azureLoad: Promise<{ SecretClient: typeof SecretClient; DefaultAzureCredential: typeof import('@azure/identity').DefaultAzureCredential }> | null = null;
const loadAzure = () =>
  (azureLoad ??= Promise.all([import('@azure/keyvault-secrets'), import('@azure/identity')]).then(([kv, id]) => ({ SecretClient: kv.SecretClient, DefaultAzureCredential: id.DefaultAzureCredential })));

export class AzureKeyVaultBackend implements SecretBackend {
  readonly name = 'azure';
  readonly capabilities: SecretBackendCapabilities = { read: true, write: true, delete: true, list: true };
  readonly #opts: AzureBackendOptions;
  #ready: Promise<SecretClient> | null = null;
  readonly #prefix: string;
  readonly #purge: boolean;

  constructor(opts: AzureBackendOptions) {
    if (!opts.client) {
      if (!opts.vaultUrl) throw new TypeError('azure backend: vaultUrl is required');
      const url = new URL(opts.vaultUrl);
      if (url.protocol !== 'https:' && !opts.allowInsecureHttp) {
        throw new TypeError('azure backend: vaultUrl must be https:// (the bearer token must not travel in clear)');
      }
    }
    this.#prefix = opts.prefix ?? 'keygate-';
    this.#purge = opts.purgeOnDelete === true;
    this.#opts = opts;
  }

  /** The client, made on the first call. */
  #client(): Promise<SecretClient> {
    const opts = this.#opts;
    if (opts.client) return Promise.resolve(opts.client);
    return (this.#ready ??= loadAzure().then(
      (az) =>
        new az.SecretClient(opts.vaultUrl, opts.credential ?? new az.DefaultAzureCredential(), {
          retryOptions: { maxRetries: opts.maxRetries ?? 3 },
          disableChallengeResourceVerification: opts.disableChallengeResourceVerification,
          // The pipeline's HTTP client refuses http:// unless told; Key Vault's own auth policy does not check.
          allowInsecureConnection: opts.allowInsecureHttp === true,
          ...(opts.tlsCa ? { tlsOptions: { ca: opts.tlsCa } } : {}),
        }),
    ));
  }

  async get(name: string): Promise<SecretString> {
    assertSecretName(name);
    try {
      const client = await this.#client();
      const s = await client.getSecret(azureSecretName(name, this.#prefix));
      if (typeof s.value !== 'string') throw new SecretBackendError(this.name, 'get', 'the secret has no value', { secretName: name, code: 'bad_shape' });
      return SecretString.from(s.value);
    } catch (err) {
      throw this.#wrap(err, 'get', name);
    }
  }

  async put(name: string, value: SecretString): Promise<void> {
    assertSecretName(name);
    try {
      const client = await this.#client();
      await value.use((plain) =>
        client.setSecret(azureSecretName(name, this.#prefix), plain, { tags: { [NAME_TAG]: name }, contentType: 'text/plain' }),
      );
    } catch (err) {
      throw this.#wrap(err, 'put', name, value);
    }
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    const physical = azureSecretName(name, this.#prefix);
    try {
      const client = await this.#client();
      const poller = await client.beginDeleteSecret(physical, { intervalInMs: this.#purge ? 1000 : 0 });
      if (this.#purge) {
        await poller.pollUntilDone();
        await client.purgeDeletedSecret(physical);
      }
    } catch (err) {
      throw this.#wrap(err, 'delete', name);
    }
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    const physicalPrefix = azureSecretName('', this.#prefix).toLowerCase();
    try {
      const client = await this.#client();
      for await (const p of client.listPropertiesOfSecrets()) {
        if (!p.name.toLowerCase().startsWith(physicalPrefix) || p.enabled === false) continue;
        names.push(p.tags?.[NAME_TAG] ?? p.name.slice(physicalPrefix.length).toLowerCase());
      }
    } catch (err) {
      throw this.#wrap(err, 'list');
    }
    return names.sort();
  }

  async validate(): Promise<void> {
    try {
      const client = await this.#client();
      // One page of the listing proves the URL, the credential and the list permission.
      await client.listPropertiesOfSecrets().byPage({ maxPageSize: 1 }).next();
    } catch (err) {
      throw this.#wrap(err, 'validate');
    }
  }

  #wrap(err: unknown, op: SecretOperation, name?: string, value?: SecretString): Error {
    if (err instanceof SecretBackendError || err instanceof SecretNotFoundError) return err;
    const status = (err as { statusCode?: number }).statusCode;
    const code = (err as { code?: string }).code;
    if (name && op !== 'put' && (status === 404 || code === 'SecretNotFound')) return new SecretNotFoundError(this.name, name);
    const secrets = value ? [value.reveal()] : [];
    const hint =
      status === 409 && op === 'put'
        ? ' (the secret is deleted but recoverable: recover or purge it, or set purgeOnDelete)'
        : status === 403
          ? ' (the identity lacks a Key Vault access policy / RBAC role for secrets)'
          : '';
    return new SecretBackendError(this.name, op, `${describeCause(err, secrets)}${status ? ` (HTTP ${status})` : ''}${hint}`, {
      secretName: name,
      code: code ?? status,
      secrets,
    });
  }
}
