import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretString } from '../crypto/secret-string.js';
import { startMockVault, type MockVault } from '../../test/mock-secrets/vault-server.js';
import { CachedBackend } from './cached-backend.js';
import { SecretNotFoundError } from './errors.js';
import { KeyProvider, SecureKeyManager, poolNames } from './secure-key-manager.js';
import { recordSecret, keptRejection } from '../../test/mock-secrets/scan.js';

const ROOT = recordSecret('hvs.skm-root-token-000000001');
const KEY = recordSecret('sk-proj-skmTestKey0123456789abcdefgh');

describe('SecureKeyManager', () => {
  let vault: MockVault;
  beforeAll(async () => {
    vault = await startMockVault({ rootToken: ROOT });
  });
  afterAll(() => vault.close());

  it('the familiar API over Vault: set, get, list, delete, with keygate/<provider> paths', async () => {
    const km = new SecureKeyManager({ provider: KeyProvider.VAULT, vaultUrl: vault.url, vaultToken: ROOT });
    expect(km.backend).toBeInstanceOf(CachedBackend);
    await km.validate();
    await km.setApiKey('openai', KEY);
    await km.setApiKey('openai.2', SecretString.from(`${KEY}-2`));
    await km.setApiKey('anthropic', KEY);
    expect([...vault.kv.keys()].sort()).toEqual(['keygate/anthropic', 'keygate/openai', 'keygate/openai.2']);
    const got = await km.getApiKey('openai');
    expect(got).toBeInstanceOf(SecretString);
    expect(got.equals(KEY)).toBe(true);
    expect(String(got)).not.toContain(KEY);
    expect(await km.listProviders()).toEqual(['anthropic', 'openai']);
    expect((await km.getApiKeys('openai')).map((e) => e.name)).toEqual(['openai', 'openai.2']);
    await km.deleteApiKey('anthropic');
    await expect(keptRejection(km.getApiKey('anthropic'))).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(km.status()).toEqual({ healthy: true });
  });

  it('ENV reads provider variables; STORE needs an injected backend', async () => {
    const km = new SecureKeyManager({ provider: KeyProvider.ENV, env: { OPENAI_API_KEY: KEY } });
    expect((await km.getApiKey('openai')).equals(KEY)).toBe(true);
    expect(await km.listProviders()).toEqual(['openai']);
    expect(() => new SecureKeyManager({ provider: KeyProvider.STORE })).toThrow(/needs the store backend instance/);
    const injected = new SecureKeyManager({ provider: KeyProvider.STORE, backend: km.backend });
    expect(injected.backend).toBe(km.backend);
  });

  it('rejects names that are not provider ids', async () => {
    const km = new SecureKeyManager({ provider: KeyProvider.ENV, env: {} });
    await expect(async () => km.getApiKey('../etc/passwd')).rejects.toThrow(/Invalid secret name/);
  });

  it('poolNames orders a pool numerically', () => {
    expect(poolNames(['openai.10', 'groq', 'openai', 'openai.2', 'openaix'], 'openai')).toEqual(['openai', 'openai.2', 'openai.10']);
  });
});
