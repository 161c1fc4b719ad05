import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretString } from '../../crypto/secret-string.js';
import { startMockAzure, type MockAzure } from '../../../test/mock-secrets/azure-server.js';
import { SecretBackendError, SecretNotFoundError } from '../errors.js';
import { AzureKeyVaultBackend, azureSecretName } from './azure.js';
import { recordSecret, kept, keptRejection } from '../../../test/mock-secrets/scan.js';

const TENANT = '72f988bf-0000-0000-0000-000000000001';
const ACCESS_TOKEN = recordSecret('eyJtest.accessTokenForTheMockVault.signature0123');
const KEY = recordSecret('sk-proj-azureTestKey0123456789abcdefg');

/** A TokenCredential that records what the SDK asked for (scope and tenant from the challenge). */
class RecordingCredential implements TokenCredential {
  calls: Array<{ scopes: string[]; tenantId?: string }> = [];
  constructor(private readonly token: string) {}
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.calls.push({ scopes: Array.isArray(scopes) ? scopes : [scopes], tenantId: options?.tenantId });
    return { token: this.token, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

describe('AzureKeyVaultBackend against a local Key Vault server (real SDK, challenge auth)', () => {
  let kv: MockAzure;
  let cred: RecordingCredential;
  let backend: AzureKeyVaultBackend;
  beforeAll(async () => {
    kv = await startMockAzure({ tenantId: TENANT, accessToken: ACCESS_TOKEN });
    cred = new RecordingCredential(ACCESS_TOKEN);
    backend = new AzureKeyVaultBackend({ vaultUrl: kv.url, credential: cred, allowInsecureHttp: true, disableChallengeResourceVerification: true, maxRetries: 0 });
  });
  afterAll(() => kv.close());

  it('maps names to Key Vault-safe names', () => {
    expect(azureSecretName('openai')).toBe('keygate-openai');
    expect(azureSecretName('openai.2')).toBe('keygate-openai-2');
    expect(azureSecretName('azure_openai')).toBe('keygate-azure-openai');
  });

  it('answers the 401 challenge with a token for the challenge scope and tenant', async () => {
    await backend.validate();
    expect(kv.challenges).toBe(1);
    expect(cred.calls[0]).toEqual({ scopes: ['https://vault.azure.net/.default'], tenantId: TENANT });
  });

  it('sets, gets, lists (paged, via tags) and deletes', async () => {
    await backend.put('openai', SecretString.from(KEY));
    await backend.put('openai.2', SecretString.from(`${KEY}2`));
    await backend.put('groq', SecretString.from(`${KEY}3`));
    kv.secrets.set('unrelated', { value: 'x', version: '1' });
    expect(kv.secrets.get('keygate-openai-2')?.tags).toEqual({ 'keygate-name': 'openai.2' });
    expect((await backend.get('openai.2')).equals(`${KEY}2`)).toBe(true);
    expect(await backend.list()).toEqual(['groq', 'openai', 'openai.2']);
    await backend.delete('groq');
    await expect(keptRejection(backend.get('groq'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(keptRejection(backend.delete('groq'))).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(await backend.list()).toEqual(['openai', 'openai.2']);
    // Without purge the name stays reserved: a clear error, not a silent failure.
    const err = (await backend.put('groq', SecretString.from(KEY)).catch(kept)) as SecretBackendError;
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.message).toMatch(/deleted but recoverable/);
    expect(err.message).not.toContain(KEY);
  });

  it('purgeOnDelete frees the name for reuse', async () => {
    const purging = new AzureKeyVaultBackend({ vaultUrl: kv.url, credential: cred, allowInsecureHttp: true, disableChallengeResourceVerification: true, maxRetries: 0, purgeOnDelete: true });
    await purging.put('mistral', SecretString.from(KEY));
    await purging.delete('mistral');
    expect(kv.secrets.has('keygate-mistral')).toBe(false);
    await purging.put('mistral', SecretString.from(KEY));
  });

  it('a rejected token is a SecretBackendError with no token in it', async () => {
    const bad = new AzureKeyVaultBackend({ vaultUrl: kv.url, credential: new RecordingCredential(recordSecret('eyJwrong.tokenValue0123.sig0123456')), allowInsecureHttp: true, disableChallengeResourceVerification: true, maxRetries: 0 });
    const err = (await bad.get('openai').catch(kept)) as SecretBackendError;
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.message).toContain('HTTP 401');
    expect(err.message).not.toContain('tokenValue0123');
  });

  it('refuses http:// unless allowed, and the SDK refuses a challenge for another domain unless told', async () => {
    expect(() => new AzureKeyVaultBackend({ vaultUrl: kv.url, credential: cred })).toThrow(/https/);
    const strict = new AzureKeyVaultBackend({ vaultUrl: kv.url, credential: cred, allowInsecureHttp: true, maxRetries: 0 });
    await expect(keptRejection(strict.get('openai'))).rejects.toThrow(/does not match the requested domain/);
  });
});
