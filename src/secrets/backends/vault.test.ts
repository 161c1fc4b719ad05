import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretString } from '../../crypto/secret-string.js';
import { startMockVault, type MockVault } from '../../../test/mock-secrets/vault-server.js';
import { SecretBackendError, SecretNotFoundError } from '../errors.js';
import { VaultBackend } from './vault.js';
import { recordSecret, kept, keptRejection } from '../../../test/mock-secrets/scan.js';

const ROOT = recordSecret('hvs.root-token-for-tests-0001');
const KEY = recordSecret('sk-proj-vaultTestKey0123456789abcdef');

describe('VaultBackend against a local KV v2 server', () => {
  let vault: MockVault;
  beforeAll(async () => {
    vault = await startMockVault({ rootToken: ROOT, namespace: 'team-a', appRole: { roleId: 'role-1', secretId: recordSecret('secret-id-0123456789'), ttlSeconds: 60 } });
  });
  afterAll(() => vault.close());

  it('put, get, list, delete with token auth, namespace header and prefix', async () => {
    const b = new VaultBackend({ url: vault.url, token: ROOT, namespace: 'team-a' });
    await b.validate();
    await b.put('openai', SecretString.from(KEY));
    expect(vault.kv.get('keygate/openai')).toEqual({ value: KEY });
    const got = await b.get('openai');
    expect(got.equals(KEY)).toBe(true);
    expect(await b.list()).toEqual(['openai']);
    const last = vault.requests.at(-1)!;
    expect(last.method).toBe('GET');
    expect(last.url).toBe('/v1/secret/metadata/keygate/?list=true');
    expect(last.headers['x-vault-token']).toBe(ROOT);
    expect(last.headers['x-vault-namespace']).toBe('team-a');
    await b.delete('openai');
    await expect(keptRejection(b.get('openai'))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(keptRejection(b.delete('openai'))).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(await b.list()).toEqual([]);
  });

  it('reports a missing namespace as a backend error, not as "not found"', async () => {
    const b = new VaultBackend({ url: vault.url, token: ROOT });
    const err = await b.get('openai').catch(kept);
    expect(err).toBeInstanceOf(SecretBackendError);
  });

  it('a bad token is a 403 SecretBackendError whose message holds no token', async () => {
    const bad = recordSecret('hvs.wrong-token-abcdefghijkl');
    const b = new VaultBackend({ url: vault.url, token: bad, namespace: 'team-a' });
    const err = (await b.validate().catch(kept)) as SecretBackendError;
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.code).toBe('403');
    expect(err.message).toMatch(/HTTP 403/);
    expect(err.message).not.toContain(bad);
  });

  it('AppRole: logs in, renews before the lease ends, logs in again after a 403', async () => {
    let now = 1_000_000;
    const b = new VaultBackend({ url: vault.url, namespace: 'team-a', appRole: { roleId: 'role-1', secretId: 'secret-id-0123456789' }, now: () => now });
    const loginsBefore = vault.logins;
    await b.put('anthropic', SecretString.from(KEY));
    expect(vault.logins).toBe(loginsBefore + 1);
    const login = vault.requests.find((r) => r.url === '/v1/auth/approle/login')!;
    expect(JSON.parse(login.body)).toEqual({ role_id: 'role-1', secret_id: 'secret-id-0123456789' });

    now += 50_000; // past 2/3 of the 60 s lease
    const renewalsBefore = vault.renewals;
    expect((await b.get('anthropic')).equals(KEY)).toBe(true);
    expect(vault.renewals).toBe(renewalsBefore + 1);

    vault.expireTokens();
    expect((await b.get('anthropic')).equals(KEY)).toBe(true);
    expect(vault.logins).toBe(loginsBefore + 2);
  });

  it('a wrong AppRole secret id fails with an auth error that does not echo it', async () => {
    const b = new VaultBackend({ url: vault.url, namespace: 'team-a', appRole: { roleId: 'role-1', secretId: recordSecret('wrong-secret-id-987654321') } });
    const err = (await b.get('openai').catch(kept)) as SecretBackendError;
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.operation).toBe('auth');
    expect(err.message).not.toContain('wrong-secret-id-987654321');
  });

  it('a server that is down is a SecretBackendError, and so is an unreachable one', async () => {
    const b = new VaultBackend({ url: vault.url, token: ROOT, namespace: 'team-a' });
    vault.down = true;
    try {
      await expect(keptRejection(b.get('openai'))).rejects.toMatchObject({ name: 'SecretBackendError', code: '503' });
    } finally {
      vault.down = false;
    }
    const gone = new VaultBackend({ url: 'http://127.0.0.1:1', token: ROOT });
    const err = (await gone.get('openai').catch(kept)) as SecretBackendError;
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.code).toBe('unreachable');
    expect(err.message).not.toContain(ROOT);
  });

  it('a missing CA file is a clear configuration error', async () => {
    const b = new VaultBackend({ url: 'https://127.0.0.1:1', token: ROOT, tls: { caFile: '/nonexistent/ca.pem' } });
    await expect(keptRejection(b.validate())).rejects.toThrow(/CA file \/nonexistent\/ca.pem/);
  });
});
