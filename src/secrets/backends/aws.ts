/**
 * AWS Secrets Manager through the official SDK. Logical name `openai` is the secret
 * `keygate/openai` (prefix configurable) holding the key as a plain SecretString.
 * Credentials come from the SDK's default chain (env, profile, SSO, IMDS/ECS role) unless given.
 * The SDK is loaded on first use: a gateway or CLI that does not use AWS does not pay for it.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretString } from '../../crypto/secret-string.js';
import { assertSecretName, type SecretBackend, type SecretBackendCapabilities } from '../backend.js';
import { SecretBackendError, SecretNotFoundError, describeCause, type SecretOperation } from '../errors.js';

export interface AwsBackendOptions {
  region?: string;
  /** e.g. http://127.0.0.1:4566 for LocalStack or a test server. */
  endpoint?: string;
  /** Static credentials; omit to use the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string | SecretString; sessionToken?: string | SecretString };
  /** Secret name prefix, default `keygate/`. */
  prefix?: string;
  /** KMS key for new secrets; default is the account's aws/secretsmanager key. */
  kmsKeyId?: string;
  /** Days before a deleted secret is purged (7-30); 0 deletes at once without recovery. Default 7. */
  recoveryWindowDays?: number;
  /** SDK attempts per call, default 3. */
  maxAttempts?: number;
  /** An already configured client (tests, custom middleware). */
  client?: SecretsManagerClient;
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager');
let sdkLoad: Promise<Sdk> | null = null;
const loadSdk = (): Promise<Sdk> => (sdkLoad ??= import('@aws-sdk/client-secrets-manager'));

export class AwsSecretsManagerBackend implements SecretBackend {
  readonly name = 'aws';
  readonly capabilities: SecretBackendCapabilities = { read: true, write: true, delete: true, list: true };
  #ready: Promise<{ client: SecretsManagerClient; sdk: Sdk }> | null = null;
  #made: SecretsManagerClient | null = null;
  readonly #prefix: string;
  readonly #opts: AwsBackendOptions;

  constructor(opts: AwsBackendOptions = {}) {
    this.#opts = opts;
    this.#prefix = opts.prefix ?? 'keygate/';
  }

  /** The SDK and the client, made on the first call. */
  #client(): Promise<{ client: SecretsManagerClient; sdk: Sdk }> {
    return (this.#ready ??= loadSdk().then((sdk) => {
      const opts = this.#opts;
      const c = opts.credentials;
      const client =
        opts.client ??
        new sdk.SecretsManagerClient({
          region: opts.region,
          endpoint: opts.endpoint,
          maxAttempts: opts.maxAttempts ?? 3,
          credentials: c
            ? {
                accessKeyId: c.accessKeyId,
                secretAccessKey: reveal(c.secretAccessKey),
                sessionToken: c.sessionToken === undefined ? undefined : reveal(c.sessionToken),
              }
            : undefined,
        });
      this.#made = client;
      return { client, sdk };
    }));
  }

  async get(name: string): Promise<SecretString> {
    assertSecretName(name);
    const { client, sdk } = await this.#client();
    try {
      const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: this.#prefix + name }));
      if (typeof out.SecretString !== 'string') {
        throw new SecretBackendError(this.name, 'get', 'the secret holds binary data, not a string', { secretName: name, code: 'bad_shape' });
      }
      return SecretString.from(out.SecretString);
    } catch (err) {
      throw this.#wrap(err, 'get', name);
    }
  }

  async put(name: string, value: SecretString): Promise<void> {
    assertSecretName(name);
    const { client, sdk } = await this.#client();
    const id = this.#prefix + name;
    try {
      await this.#putValue(id, value);
    } catch (err) {
      const code = errName(err);
      try {
        if (code === 'ResourceNotFoundException') {
          await value.use((plain) =>
            client.send(new sdk.CreateSecretCommand({ Name: id, SecretString: plain, KmsKeyId: this.#opts.kmsKeyId, Description: 'keygate provider key' })),
          );
          return;
        }
        // A secret scheduled for deletion refuses writes until it is restored.
        if (code === 'InvalidRequestException' && /deletion/i.test(errMessage(err))) {
          await client.send(new sdk.RestoreSecretCommand({ SecretId: id }));
          await this.#putValue(id, value);
          return;
        }
      } catch (second) {
        throw this.#wrap(second, 'put', name, value);
      }
      throw this.#wrap(err, 'put', name, value);
    }
  }

  async #putValue(id: string, value: SecretString): Promise<unknown> {
    const { client, sdk } = await this.#client();
    return value.use((plain) => client.send(new sdk.PutSecretValueCommand({ SecretId: id, SecretString: plain })));
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    const { client, sdk } = await this.#client();
    const days = this.#opts.recoveryWindowDays ?? 7;
    try {
      await client.send(
        new sdk.DeleteSecretCommand(days === 0 ? { SecretId: this.#prefix + name, ForceDeleteWithoutRecovery: true } : { SecretId: this.#prefix + name, RecoveryWindowInDays: days }),
      );
    } catch (err) {
      throw this.#wrap(err, 'delete', name);
    }
  }

  async list(): Promise<string[]> {
    const { client, sdk } = await this.#client();
    const names: string[] = [];
    let next: string | undefined;
    try {
      do {
        const out = await client.send(
          new sdk.ListSecretsCommand({ NextToken: next, MaxResults: 100, Filters: this.#prefix ? [{ Key: 'name', Values: [this.#prefix] }] : undefined }),
        );
        for (const s of out.SecretList ?? []) {
          // The name filter matches prefixes of words too; keep exact prefix matches only.
          if (s.Name?.startsWith(this.#prefix)) names.push(s.Name.slice(this.#prefix.length));
        }
        next = out.NextToken;
      } while (next);
    } catch (err) {
      throw this.#wrap(err, 'list');
    }
    return names.sort();
  }

  async validate(): Promise<void> {
    const { client, sdk } = await this.#client();
    try {
      await client.send(new sdk.ListSecretsCommand({ MaxResults: 1 }));
    } catch (err) {
      throw this.#wrap(err, 'validate');
    }
  }

  #wrap(err: unknown, op: SecretOperation, name?: string, value?: SecretString): Error {
    if (err instanceof SecretBackendError || err instanceof SecretNotFoundError) return err;
    const code = errName(err);
    if (name && code === 'ResourceNotFoundException') return new SecretNotFoundError(this.name, name);
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const secrets = value ? [value.reveal()] : [];
    const hint = code === 'CredentialsProviderError' ? ' (no AWS credentials found: set them in the config or the default chain)' : '';
    return new SecretBackendError(this.name, op, `${describeCause(err, secrets)}${status ? ` (HTTP ${status})` : ''}${hint}`, {
      secretName: name,
      code: code ?? status,
      secrets,
    });
  }

  destroy(): void {
    if (!this.#opts.client) this.#made?.destroy();
  }
}

function reveal(v: string | SecretString): string {
  return typeof v === 'string' ? v : v.reveal();
}

function errName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : '';
}
