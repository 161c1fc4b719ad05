/**
 * Remote secret backends as an operator configures them: createSecretBackend from the config
 * for vault, aws, azure (a service principal from config against a local Entra token endpoint)
 * and keyring, each against its local stand-in; Vault's TLS options against an HTTPS mock; a
 * gateway serving from Vault that keeps the last good key through an outage and says so in
 * /readyz and the log; start-up validation naming the backend and the fix; and SIGHUP re-reading
 * the backend of a spawned `keygate serve`. Every credential and key is recorded for the leak scan.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { MasterKey } from '../../src/crypto/index.js';
import { createSecretBackend, MasterKeyRing, secretsSchema } from '../../src/keys/index.js';
import { SecretString } from '../../src/crypto/secret-string.js';
import { SecretBackendError } from '../../src/secrets/errors.js';
import { CachedBackend } from '../../src/secrets/cached-backend.js';
import { AwsSecretsManagerBackend } from '../../src/secrets/backends/aws.js';
import { AzureKeyVaultBackend } from '../../src/secrets/backends/azure.js';
import { KeyringBackend } from '../../src/secrets/backends/keyring.js';
import { VaultBackend } from '../../src/secrets/backends/vault.js';
import type { SecretBackend } from '../../src/secrets/backend.js';
import { startGateway } from '../../src/server/gateway.js';
import { openStore, type Store } from '../../src/store/connect.js';
import { logSink, recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { startMockAws, type MockAws } from '../mock-secrets/aws-server.js';
import { startMockAzure, startMockEntra, type MockAzure, type MockEntra } from '../mock-secrets/azure-server.js';
import { keyringUnavailableReason, startKeyringSession } from '../mock-secrets/keyring-session.js';
import { removeCert, selfSignedCert, type TestCert } from '../mock-secrets/tls.js';
import { startMockVault, type MockVault } from '../mock-secrets/vault-server.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

/** Polling for a state the gateway reaches by itself (a poll, a reload), without a clock in the assertion. */
const WAIT = { timeout: 30_000, interval: 50 };
const secret = (prefix: string) => recordSecret(`${prefix}${randomBytes(18).toString('base64url')}`);
const VAULT_TOKEN = secret('hvs.');
const AWS_ACCESS_KEY_ID = 'AKIAMOCKCONFIGKEY001';
const AWS_SECRET = secret('awsSecret/');
const AZURE_CLIENT_SECRET = secret('azcs~');
const AZURE_TOKEN = secret('eyJ0eXAi.');
const TENANT = '72f988bf-0000-0000-0000-0000000000aa';
const CLIENT_ID = '0b1c2d3e-0000-0000-0000-0000000000bb';

let mock: MockOpenAI;
let vault: MockVault;
let dir: string;
let store: Store;
beforeAll(async () => {
  mock = await startMockOpenAI();
  vault = await startMockVault({ rootToken: VAULT_TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'keygate-backends-'));
  store = await openStore(`sqlite:${join(dir, 'k.db')}`);
});
afterAll(async () => {
  await store.close();
  await vault.close();
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

function build(secrets: Record<string, unknown>, env: Record<string, string | undefined> = {}): SecretBackend {
  const ring = new MasterKeyRing(MasterKey.fromBytes(randomBytes(32)), null);
  return createSecretBackend(secretsSchema.parse(secrets), { store, ring, env, decryptEnc: (v, name) => ring.decryptValue(v, name) });
}

/** Writes, reads back and lists one key through a backend; any error's message is kept for the scan. */
async function roundTrip(b: SecretBackend, key: string): Promise<void> {
  try {
    await b.put('openai', SecretString.from(key));
    expect((await b.get('openai')).equals(key)).toBe(true);
    expect(await b.list()).toContain('openai');
  } catch (err) {
    recordOutput('secret-backends-errors', String((err as Error).message));
    throw err;
  }
}

describe('createSecretBackend from the config', { timeout: 60_000 }, () => {
  it('vault: token from VAULT_TOKEN (an enc: value works too), behind the TTL cache', async () => {
    const ring = new MasterKeyRing(MasterKey.fromBytes(randomBytes(32)), null);
    const env = { VAULT_TOKEN: ring.current.encryptValue(VAULT_TOKEN) };
    const b = createSecretBackend(secretsSchema.parse({ backend: 'vault', vault: { url: vault.url } }), { store, ring, env, decryptEnc: (v, name) => ring.decryptValue(v, name) });
    expect(b).toBeInstanceOf(CachedBackend);
    expect((b as CachedBackend).inner).toBeInstanceOf(VaultBackend);
    const key = secret('sk-proj-vaultcfg');
    await roundTrip(b, key);
    expect(vault.kv.get('keygate/openai')).toEqual({ value: key });
    expect(vault.requests.at(-1)?.headers['x-vault-token']).toBe(VAULT_TOKEN);
  });

  it('vault: a missing token names the variable to set', () => {
    expect(() => build({ backend: 'vault', vault: { url: vault.url } })).toThrow(/VAULT_TOKEN is not set/);
    expect(() => build({ backend: 'vault', vault: { url: vault.url } })).toThrow(ConfigError); // `keygate serve` exits 2
    expect(() => build({ backend: 'vault', vault: { url: vault.url, roleId: 'r1', secretIdEnv: 'MY_SECRET_ID' } })).toThrow(/MY_SECRET_ID is not set/);
  });

  it('aws: the SDK signs with the default credential chain (AWS_ACCESS_KEY_ID ...) against secrets.aws.endpoint', async () => {
    const aws: MockAws = await startMockAws({ secretAccessKey: AWS_SECRET, region: 'eu-west-1' });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = AWS_SECRET;
    try {
      const b = build({ backend: 'aws', aws: { region: 'eu-west-1', endpoint: aws.url } });
      expect((b as CachedBackend).inner).toBeInstanceOf(AwsSecretsManagerBackend);
      await roundTrip(b, secret('sk-proj-awscfg'));
      // The read-back is served by the cache the put filled; list goes to the service.
      expect(aws.operations).toEqual(expect.arrayContaining(['CreateSecret', 'ListSecrets']));
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.key;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      await aws.close();
    }
  });

  describe('azure: a service principal from config (ClientSecretCredential) against a local Entra endpoint', () => {
    let cert: TestCert;
    let entra: MockEntra;
    let kv: MockAzure;
    const azure = () => ({
      vaultUrl: kv.url,
      tenantId: TENANT,
      clientId: CLIENT_ID,
      authorityHost: entra.url,
      disableInstanceDiscovery: true,
      caFile: cert.certFile,
      disableChallengeResourceVerification: true,
      allowInsecureHttp: true,
      maxRetries: 0,
    });
    beforeAll(async () => {
      cert = selfSignedCert();
      entra = await startMockEntra({ tenantId: TENANT, clientId: CLIENT_ID, clientSecret: AZURE_CLIENT_SECRET, accessToken: AZURE_TOKEN, tls: cert });
      kv = await startMockAzure({ tenantId: TENANT, accessToken: AZURE_TOKEN });
    });
    afterAll(async () => {
      await kv.close();
      await entra.close();
      removeCert(cert);
    });

    it('gets a token with the client secret from AZURE_CLIENT_SECRET and uses the vault', async () => {
      const b = build({ backend: 'azure', azure: azure() }, { AZURE_CLIENT_SECRET });
      expect((b as CachedBackend).inner).toBeInstanceOf(AzureKeyVaultBackend);
      await roundTrip(b, secret('sk-proj-azurecfg'));
      expect(entra.issued).toBeGreaterThan(0);
      const form = new URLSearchParams(entra.requests.find((r) => r.method === 'POST')!.body);
      expect(form.get('scope')).toBe('https://vault.azure.net/.default');
      expect(kv.requests.at(-1)?.headers.authorization).toBe(`Bearer ${AZURE_TOKEN}`);
    });

    it('a wrong client secret fails validate() with a message that holds no secret; a missing one names the variable', async () => {
      const wrong = secret('azcs~wrong');
      const b = build({ backend: 'azure', azure: azure() }, { AZURE_CLIENT_SECRET: wrong });
      const err = (await b.validate().catch((e: unknown) => e)) as Error;
      recordOutput('secret-backends-errors', String(err?.message));
      expect(err).toBeInstanceOf(SecretBackendError);
      expect(entra.refused).toBeGreaterThan(0);
      expect(err.message).not.toContain(wrong);
      expect(() => build({ backend: 'azure', azure: { ...azure(), clientSecretEnv: 'KV_SP_SECRET' } })).toThrow(/KV_SP_SECRET is not/);
      expect(() => secretsSchema.parse({ backend: 'azure', azure: { vaultUrl: kv.url, clientId: CLIENT_ID } })).toThrow(/tenantId/);
    });
  });

  const keyringReason = keyringUnavailableReason();
  if (keyringReason && process.env.KEYGATE_REQUIRE_SERVICES === '1') throw new Error(`keyring from config is required but cannot run: ${keyringReason}`);
  it.skipIf(keyringReason !== undefined)('keyring: the OS keyring (a private gnome-keyring), not cached', async () => {
    const session = await startKeyringSession();
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(session.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      const b = build({ backend: 'keyring', keyring: { service: 'keygate-config-test', linuxStore: 'secret-service' } });
      expect(b).toBeInstanceOf(KeyringBackend);
      await roundTrip(b, secret('sk-proj-keyringcfg'));
      await b.delete('openai');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await session.stop();
    }
  });
});

describe('Vault TLS options against an HTTPS Vault (self-signed certificate)', { timeout: 60_000 }, () => {
  let cert: TestCert;
  let tlsVault: MockVault;
  beforeAll(async () => {
    cert = selfSignedCert();
    tlsVault = await startMockVault({ rootToken: VAULT_TOKEN, tls: cert });
  });
  afterAll(async () => {
    await tlsVault.close();
    removeCert(cert);
  });
  const env = () => ({ VAULT_TOKEN });

  it('trusts the server with secrets.vault.caFile', async () => {
    const b = build({ backend: 'vault', vault: { url: tlsVault.url, caFile: cert.certFile } }, env());
    expect(tlsVault.url.startsWith('https://')).toBe(true);
    await b.validate();
    await roundTrip(b, secret('sk-proj-vaulttls'));
  });

  it('accepts it with insecureSkipVerify', async () => {
    await build({ backend: 'vault', vault: { url: tlsVault.url, insecureSkipVerify: true } }, env()).validate();
  });

  it('refuses it without either, naming the certificate problem and no token', async () => {
    const before = tlsVault.requests.length;
    const err = (await build({ backend: 'vault', vault: { url: tlsVault.url } }, env()).validate().catch((e: unknown) => e)) as Error;
    recordOutput('secret-backends-errors', String(err?.message));
    expect(err).toBeInstanceOf(SecretBackendError);
    expect(err.message).toMatch(/certificate/i);
    expect(err.message).not.toContain(VAULT_TOKEN);
    expect(tlsVault.requests.length).toBe(before); // the token never reached an untrusted server
  });

  it('an unreadable caFile names the field', async () => {
    const err = (await build({ backend: 'vault', vault: { url: tlsVault.url, caFile: join(dir, 'nope.pem') } }, env()).validate().catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/CA file/);
  });
});

const chat = (url: string, key: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
  });

describe('a gateway serving provider keys from Vault', { timeout: 60_000 }, () => {
  let gw: TestGateway;
  const key = secret('sk-proj-fromvault');
  beforeAll(async () => {
    vault.kv.set('gw/openai', { value: key });
    gw = await startTestGateway({
      label: 'backends-vault-gw',
      env: { KEY_MODE: 'server', VAULT_TOKEN, OPENAI_BASE_URL: mock.url },
      config: { secrets: { backend: 'vault', vault: { url: vault.url, prefix: 'gw/' }, reloadIntervalMs: 50, cacheTtlMs: 60_000 } },
    });
  });
  afterAll(async () => {
    vault.down = false;
    await gw.stop();
  });

  const ready = async () => {
    const res = await fetch(`${gw.url}/readyz`);
    const text = await res.text();
    recordOutput('secret-backends', text);
    return { status: res.status, body: JSON.parse(text) as { checks: { secrets: { ok: boolean; detail: string } } } };
  };

  it('serves the key read from Vault', async () => {
    expect((await chat(gw.url, gw.adminKey)).status).toBe(200);
    expect(mock.last().headers.authorization).toBe(`Bearer ${key}`);
    expect((await ready()).body.checks.secrets.detail).toBe('vault backend');
  });

  it('Vault down: /readyz says degraded, the log says so, and the last good key still serves', async () => {
    vault.down = true;
    await vi.waitFor(async () => expect((await ready()).body.checks.secrets.detail, 'the gateway notices the outage').toMatch(/^degraded/), WAIT);
    const r = await ready();
    expect(r.status).toBe(200); // degraded, not unready: the cached keys still serve
    expect(r.body.checks.secrets.detail).toMatch(/^degraded: the vault backend is failing since .+; the last good keys are still served/);
    expect(r.body.checks.secrets.detail).toContain('503');
    const line = gw.logLines().find((l) => l.includes('serving the last good keys'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ backend: 'vault', level: 40 });
    const res = await chat(gw.url, gw.adminKey);
    expect(res.status).toBe(200);
    expect(mock.last().headers.authorization).toBe(`Bearer ${key}`);

    vault.down = false;
    await vi.waitFor(async () => expect((await ready()).body.checks.secrets.detail, 'the gateway sees Vault back').toBe('vault backend'), WAIT);
  });
});

describe('start-up validation of the secret backend', { timeout: 60_000 }, () => {
  const wrong = secret('hvs.wrong');

  it('KEY_MODE=server with a Vault that refuses the token: the error names the backend, the cause and the variable', async () => {
    const data = mkdtempSync(join(tmpdir(), 'keygate-validate-'));
    const file = join(data, 'keygate.yaml');
    writeFileSync(file, stringify({ secrets: { backend: 'vault', vault: { url: vault.url } } }));
    const err = (await startGateway({ env: { KEYGATE_DATA_DIR: data, KEYGATE_PORT: '0', KEY_MODE: 'server', VAULT_TOKEN: wrong }, file, logDestination: logSink('backends-validate') }).then(
      () => null,
      (e: unknown) => e,
    )) as Error;
    recordOutput('secret-backends-errors', String(err?.message));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('the vault secret backend failed validation');
    expect(err.message).toContain('HTTP 403');
    expect(err.message).toContain('VAULT_TOKEN');
    expect(err.message).not.toContain('no provider key is configured');
    expect(err.message).not.toContain(wrong);
    rmSync(data, { recursive: true, force: true });
  });

  it('with an environment key as well: starts, warns naming the backend and the fix, /readyz degraded', async () => {
    const envKey = secret('sk-proj-envfallback');
    const gw = await startTestGateway({ label: 'backends-validate-warn', env: { KEY_MODE: 'server', VAULT_TOKEN: wrong, OPENAI_API_KEY: envKey, OPENAI_BASE_URL: mock.url }, config: { secrets: { backend: 'vault', vault: { url: vault.url }, reloadIntervalMs: 0 } } });
    try {
      const warn = gw.logLines().find((l) => l.includes('start-up: the vault secret backend failed validation'));
      expect(warn).toBeDefined();
      expect(warn).toContain('VAULT_TOKEN');
      expect(warn).not.toContain(wrong);
      const body = (await (await fetch(`${gw.url}/readyz`)).json()) as { checks: { secrets: { detail: string } } };
      expect(body.checks.secrets.detail).toMatch(/^degraded: the vault backend/);
      expect((await chat(gw.url, gw.adminKey)).status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${envKey}`);
    } finally {
      await gw.stop();
    }
  });
});

describe('SIGHUP re-reads the backend of a running `keygate serve`', { timeout: 120_000 }, () => {
  let serve: ServeProcess | undefined;
  const data = mkdtempSync(join(tmpdir(), 'keygate-sighup-'));
  afterAll(async () => {
    await serve?.stop();
    rmSync(data, { recursive: true, force: true });
  });

  it('a key changed in Vault is used after kill -HUP (no polling, long cache)', async () => {
    const before = secret('sk-proj-beforehup');
    const after = secret('sk-proj-afterhup');
    vault.kv.set('hup/openai', { value: before });
    const file = join(data, 'keygate.yaml');
    writeFileSync(file, stringify({ secrets: { backend: 'vault', vault: { url: vault.url, prefix: 'hup/' }, reloadIntervalMs: 0, cacheTtlMs: 3_600_000 } }));
    serve = await startServeProcess('backends-sighup', { KEYGATE_DATA_DIR: data, KEY_MODE: 'server', VAULT_TOKEN, OPENAI_BASE_URL: mock.url }, { before: ['--config', file] });
    const { url, adminKey } = serve;
    expect(adminKey).not.toBe('');
    expect((await chat(url, adminKey)).status).toBe(200);
    expect(mock.last().headers.authorization).toBe(`Bearer ${before}`);

    vault.kv.set('hup/openai', { value: after });
    expect((await chat(url, adminKey)).status).toBe(200);
    expect(mock.last().headers.authorization).toBe(`Bearer ${before}`); // cached, not polled

    serve.child.kill('SIGHUP');
    await serve.waitForLog(/SIGHUP: provider keys reloaded/);
    expect((await chat(url, adminKey)).status).toBe(200);
    expect(mock.last().headers.authorization).toBe(`Bearer ${after}`);
  });
});
