/**
 * Signed tokens over HTTP: issued only to a caller that proves itself (a keygate key or an app
 * secret; never on a name alone), scopes never above the key's, revocation effective on the
 * very next request, and a representative part of the JWT attack list.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignedTokenService } from '../../src/auth/signed-tokens.js';
import { SigningKeyring, generateSigningSecret } from '../../src/auth/signing-keys.js';
import { loadTokenKeyring, rotateTokenKeyring, tokenKeyringFile } from '../../src/auth/token-keyring-source.js';
import type { GatewayEvent } from '../../src/server/events.js';
import { openStore } from '../../src/store/connect.js';
import { IdentityRepository } from '../../src/store/repositories/identities.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

let mock: MockOpenAI;
let gw: TestGateway;
const events: GatewayEvent[] = [];
const SERVER_KEY = recordSecret('sk-proj-TOKENSserverkey0123456789abcdefghijklmn');

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({ label: 'tokens', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
  gw.ctx.events.on((e) => events.push(e));
});
afterAll(async () => {
  await gw?.stop();
  await mock?.close();
});

type Body = Record<string, unknown> & { error?: { code: string; message: string; param?: string } };
interface Res {
  status: number;
  body: Body;
  headers: Headers;
}

async function call(method: string, path: string, opts: { body?: unknown; bearer?: string; secret?: boolean } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  if (!opts.secret) recordOutput('tokens', text);
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body, headers: res.headers };
}

async function createKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const r = await call('POST', '/admin/keys', { body, bearer: gw.adminKey, secret: true });
  expect(r.status).toBe(201);
  return { id: r.body.id as string, key: recordSecret(r.body.key as string) };
}

/** POST /auth/token; a token in the answer is recorded as a secret. */
async function getToken(opts: { bearer?: string; body?: unknown }): Promise<Res & { token?: string }> {
  const r = await call('POST', '/auth/token', { ...opts, body: opts.body ?? {}, secret: true });
  if (typeof r.body.access_token === 'string') return { ...r, token: recordSecret(r.body.access_token) };
  recordOutput('tokens', JSON.stringify(r.body));
  return r;
}

const claimsOfToken = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

const chat = (bearer: string) =>
  call('POST', '/v1/chat/completions', { bearer, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });

describe('POST /auth/token with a keygate key', () => {
  it('issues a short-lived token that works for a chat call', async () => {
    const { id, key } = await createKey({ name: 'tok-1', scopes: ['read', 'write'] });
    const r = await getToken({ bearer: key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read write' });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(typeof r.body.jti).toBe('string');
    expect((await chat(r.token as string)).status).toBe(200);
    const issued = events.find((e) => e.type === 'token.issued' && e.target === r.body.jti);
    expect(issued).toMatchObject({ actor: id, outcome: 'success', details: { subject: `key:${id}` } });
  });

  it('honours ttl_seconds, client_id and a subset of scopes; refuses more scopes than the key has (403)', async () => {
    const { key } = await createKey({ name: 'tok-2', scopes: ['read', 'write'] });
    const read = await getToken({ bearer: key, body: { scopes: ['read'], ttl_seconds: 60, client_id: 'tok-2/ios-app' } });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ expires_in: 60, scope: 'read' });
    // A read-only token cannot spend.
    const spend = await chat(read.token as string);
    expect(spend.status).toBe(403);
    expect(spend.body.error?.code).toBe('insufficient_scope');
    const more = await getToken({ bearer: key, body: { scopes: ['read', 'admin'] } });
    expect(more.status).toBe(403);
    expect(more.body.access_token).toBeUndefined();
    expect((await getToken({ bearer: key, body: { ttl_seconds: 10_000_000 } })).status).toBe(400);
    expect((await getToken({ bearer: key, body: { scopes: ['root'] } })).status).toBe(400);
  });

  it("names only the key's own client id, or one under it (403 otherwise)", async () => {
    const { key } = await createKey({ name: 'tok-client', clientId: 'ios-app' });
    const own = await getToken({ bearer: key, body: { client_id: 'ios-app' } });
    expect(own.status).toBe(200);
    expect(claimsOfToken(own.token as string).client_id).toBe('ios-app');
    const under = await getToken({ bearer: key, body: { client_id: 'ios-app/device-42' } });
    expect(claimsOfToken(under.token as string).client_id).toBe('ios-app/device-42');
    for (const other of ['billing-service', 'ios-application', 'ios-app-admin']) {
      const r = await getToken({ bearer: key, body: { client_id: other } });
      expect(r.status, other).toBe(403);
      expect(r.body.error?.code).toBe('client_id_not_allowed');
    }
    // Without one, the token carries the key's.
    expect(claimsOfToken((await getToken({ bearer: key })).token as string).client_id).toBe('ios-app');
  });

  it('does not exchange a token for another token', async () => {
    const { key } = await createKey({ name: 'tok-3' });
    const first = await getToken({ bearer: key });
    const second = await getToken({ bearer: first.token });
    expect(second.status).toBe(403);
    expect(second.body.error?.code).toBe('token_exchange_not_allowed');
  });

  it('refuses a revoked key and a wrong key', async () => {
    const { id, key } = await createKey({ name: 'tok-4' });
    await call('POST', `/admin/keys/${id}/revoke`, { bearer: gw.adminKey });
    expect((await getToken({ bearer: key })).status).toBe(401);
    expect((await getToken({ bearer: recordSecret('kg-NotAKeyNotAKeyNotAKeyNotAKeyNotAKeyNotAKey0') })).status).toBe(401);
  });

  it('a token from an admin key reaches the admin API; a token is refused once its key is revoked', async () => {
    const { id, key } = await createKey({ name: 'tok-admin', scopes: ['admin'] });
    const t = await getToken({ bearer: key });
    expect(t.body.scope).toBe('admin');
    expect((await call('GET', '/admin/users', { bearer: t.token })).status).toBe(200);
    await call('POST', `/admin/keys/${id}/revoke`, { bearer: gw.adminKey });
    expect((await call('GET', '/admin/users', { bearer: t.token })).status).toBe(401);
  });
});

describe('POST /auth/token never issues on a name alone', () => {
  it('refuses a request that only names a user or a client (SafeAPI-Bridge hole)', async () => {
    await call('POST', '/admin/users', { bearer: gw.adminKey, body: { name: 'alice' } });
    const named = await getToken({ body: { client_id: 'alice', scopes: ['read', 'write', 'admin'] } });
    expect(named.status).toBe(401);
    expect(named.body.access_token).toBeUndefined();
    expect(named.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const asUser = await getToken({ body: { user: 'alice' } });
    expect(asUser.status).toBe(400);
    expect(asUser.body.access_token).toBeUndefined();
    const empty = await getToken({});
    expect(empty.status).toBe(401);
  });

  it('refuses an app named without its secret, or with a wrong one', async () => {
    await call('POST', '/admin/apps', { bearer: gw.adminKey, body: { name: 'named-app' } });
    expect((await getToken({ body: { app: 'named-app' } })).status).toBe(401);
    const wrong = recordSecret('kgs_WrongWrongWrongWrongWrongWrongWrongWrong1234');
    // Without a secret set, no secret matches.
    expect((await getToken({ body: { app: 'named-app', app_secret: wrong } })).status).toBe(401);
    expect((await getToken({ body: { app: 'no-such-app', app_secret: wrong } })).status).toBe(401);
  });
});

describe('POST /auth/token with an app secret', () => {
  it('issues an app token (no admin scope) that works; a rotated secret stops working', async () => {
    const app = await call('POST', '/admin/apps', { bearer: gw.adminKey, body: { name: 'mobile', limits: { dailyRequests: 100 } } });
    const s1 = await call('POST', `/admin/apps/${app.body.id as string}/secret`, { bearer: gw.adminKey, secret: true });
    const secret = recordSecret(s1.body.secret as string);
    const t = await getToken({ body: { app: 'mobile', app_secret: secret } });
    expect(t.status).toBe(200);
    expect(t.body.scope).toBe('read write');
    expect((await chat(t.token as string)).status).toBe(200);
    expect((await getToken({ body: { app: app.body.id, app_secret: secret, scopes: ['admin'] } })).status).toBe(403);

    const s2 = await call('POST', `/admin/apps/mobile/secret`, { bearer: gw.adminKey, secret: true });
    recordSecret(s2.body.secret as string);
    expect((await getToken({ body: { app: 'mobile', app_secret: secret } })).status).toBe(401);

    await call('PATCH', '/admin/apps/mobile', { bearer: gw.adminKey, body: { disabled: true } });
    expect((await getToken({ body: { app: 'mobile', app_secret: s2.body.secret } })).status).toBe(403);
    // Tokens already issued stop with the app.
    expect((await chat(t.token as string)).status).toBe(403);
  });
});

describe('app tokens on the request path', () => {
  it('look the app up once (cached like keys); a change made elsewhere drops the cache', async () => {
    const app = await call('POST', '/admin/apps', { bearer: gw.adminKey, body: { name: 'cached-app' } });
    const s1 = await call('POST', `/admin/apps/${app.body.id as string}/secret`, { bearer: gw.adminKey, secret: true });
    const t = await getToken({ body: { app: 'cached-app', app_secret: recordSecret(s1.body.secret as string), client_id: 'cached-app/web' } });
    expect(t.status).toBe(200);
    expect((await chat(t.token as string)).status).toBe(200);
    const get = vi.spyOn(gw.ctx.repos.apps, 'get');
    try {
      for (let i = 0; i < 3; i++) expect((await chat(t.token as string)).status).toBe(200);
      expect(get).not.toHaveBeenCalled();
      // Disabled over another connection, as the CLI would: the store's change signal drops the cache.
      const other = await openStore(gw.loaded.databaseUrl);
      try {
        await new IdentityRepository(other, 'apps').update(app.body.id as string, { disabled: true });
      } finally {
        await other.close();
      }
      expect((await chat(t.token as string)).status).toBe(403);
      expect(get).toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  });
});

describe('revocation', () => {
  it('a token revokes itself; the very next request with it is 401', async () => {
    const { key } = await createKey({ name: 'rev-1' });
    const t = await getToken({ bearer: key });
    expect((await chat(t.token as string)).status).toBe(200);
    const r = await call('POST', '/auth/revoke', { bearer: t.token, body: {} });
    expect(r.status).toBe(200);
    expect(r.body.jti).toBe(t.body.jti);
    const after = await chat(t.token as string);
    expect(after.status).toBe(401);
    expect(after.body.error?.code).toBe('revoked_token');
    // Persisted: the deny list survives in the store.
    expect(await gw.ctx.repos.revokedTokens.active()).toContain(t.body.jti);
    expect(events.some((e) => e.type === 'token.revoked' && e.target === t.body.jti)).toBe(true);
  });

  it('a key may revoke a token it obtained; nobody else may but an admin', async () => {
    const a = await createKey({ name: 'rev-a' });
    const b = await createKey({ name: 'rev-b' });
    const t = await getToken({ bearer: a.key });
    const other = await getToken({ bearer: b.key });
    expect((await call('POST', '/auth/revoke', { bearer: b.key, body: { token: t.token }, secret: true })).status).toBe(403);
    expect((await call('POST', '/auth/revoke', { bearer: other.token, body: { jti: t.body.jti } })).status).toBe(403);
    expect((await chat(t.token as string)).status).toBe(200);
    expect((await call('POST', '/auth/revoke', { bearer: a.key, body: { token: t.token }, secret: true })).status).toBe(200);
    expect((await chat(t.token as string)).status).toBe(401);
  });

  it('an admin revokes any token by jti (POST /auth/revoke and POST /admin/tokens/revoke)', async () => {
    const { key } = await createKey({ name: 'rev-admin' });
    const t1 = await getToken({ bearer: key });
    const t2 = await getToken({ bearer: key });
    expect((await call('POST', '/auth/revoke', { bearer: gw.adminKey, body: { jti: t1.body.jti } })).status).toBe(200);
    expect((await chat(t1.token as string)).status).toBe(401);
    const r = await call('POST', '/admin/tokens/revoke', { bearer: gw.adminKey, body: { token: t2.token }, secret: true });
    expect(r.status).toBe(200);
    expect((await chat(t2.token as string)).status).toBe(401);
    expect((await call('POST', '/admin/tokens/revoke', { bearer: gw.adminKey, body: {} })).status).toBe(400);
  });

  it('an admin issues a token for a key through the admin API', async () => {
    const { id } = await createKey({ name: 'admin-issued', scopes: ['write'] });
    const r = await call('POST', '/admin/tokens', { bearer: gw.adminKey, body: { keyId: id, ttlSeconds: 120 }, secret: true });
    expect(r.status).toBe(201);
    const token = recordSecret(r.body.access_token as string);
    expect(r.body).toMatchObject({ scope: 'write', expires_in: 120 });
    expect((await chat(token)).status).toBe(200);
  });
});

describe('JWT attacks over HTTP', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  let good = '';
  let keyId = '';

  beforeAll(async () => {
    const k = await createKey({ name: 'jwt-target', scopes: ['read', 'write'] });
    keyId = k.id;
    good = (await getToken({ bearer: k.key })).token as string;
  });

  const expectRefused = async (token: string, status: number, code?: string) => {
    recordSecret(token);
    const r = await chat(token);
    expect(r.status).toBe(status);
    if (code) expect(r.body.error?.code).toBe(code);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
  };

  it('alg none is refused (401)', async () => {
    const [, payload] = good.split('.');
    await expectRefused(`${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${payload}.`, 401, 'invalid_token');
  });

  it('HS512 is refused (401)', async () => {
    const [, payload, sig] = good.split('.');
    await expectRefused(`${b64({ alg: 'HS512', typ: 'JWT', kid: 'k1' })}.${payload}.${sig}`, 401, 'invalid_token');
  });

  it('a tampered payload (scope raised to admin) is refused (401)', async () => {
    const [header, payload, sig] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${b64({ ...claims, scope: 'read write admin' })}.${sig}`;
    await expectRefused(forged, 401, 'invalid_token');
    recordSecret(forged);
    const admin = await call('GET', '/admin/keys', { bearer: forged });
    expect(admin.status).toBe(401);
  });

  it('an expired token is refused (401 expired_token)', async () => {
    const past = new SignedTokenService({ keyring: new SigningKeyring(loadTokenKeyring(gw.dataDir, {})), issuer: 'keygate', now: () => Date.now() - 3_600_000 });
    const t = await past.sign({ clientId: 'old', scopes: ['write'], subject: `key:${keyId}`, ttlSeconds: 60 });
    await expectRefused(t.token, 401, 'expired_token');
  });

  it('a token signed with an unknown kid is refused (401)', async () => {
    const rogue = new SignedTokenService({ keyring: new SigningKeyring({ current: 'evil', keys: [{ kid: 'evil', secret: generateSigningSecret() }] }), issuer: 'keygate' });
    const t = await rogue.sign({ clientId: 'x', scopes: ['write'], subject: `key:${keyId}` });
    await expectRefused(t.token, 401, 'invalid_token');
  });

  it('a token signed with the right kid but another secret is refused (401)', async () => {
    const rogue = new SignedTokenService({ keyring: new SigningKeyring({ current: 'k1', keys: [{ kid: 'k1', secret: generateSigningSecret() }] }), issuer: 'keygate' });
    const t = await rogue.sign({ clientId: 'x', scopes: ['write'], subject: `key:${keyId}` });
    await expectRefused(t.token, 401, 'invalid_token');
  });

  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  const currentSecret = () => {
    const ring = loadTokenKeyring(gw.dataDir, {});
    return new TextEncoder().encode(ring.keys.find((k) => k.kid === ring.current)?.secret as string);
  };

  it('a token without a kid is refused (401), even with the right secret', async () => {
    const t = await new SignJWT(claimsOf(good)).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(currentSecret());
    await expectRefused(t, 401, 'invalid_token');
  });

  it('a token whose nbf is in the future is refused (401 token_not_yet_valid)', async () => {
    const ring = new SigningKeyring(loadTokenKeyring(gw.dataDir, {}));
    const svc = new SignedTokenService({ keyring: ring, issuer: 'keygate' });
    const now = Math.floor(Date.now() / 1000);
    const t = await svc.sign({ clientId: 'early', scopes: ['write'], subject: `key:${keyId}`, ttlSeconds: 3600, notBefore: now + 1800 });
    await expectRefused(t.token, 401, 'token_not_yet_valid');
  });

  it('a tampered signature is refused (401)', async () => {
    const [header, payload, sig] = good.split('.');
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    await expectRefused(`${header}.${payload}.${flipped}`, 401, 'invalid_token');
  });

  it('RS256 (with the right kid) is refused, and so is a public key used as an HMAC secret (key confusion)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = loadTokenKeyring(gw.dataDir, {}).current;
    const rs = await new SignJWT(claimsOf(good)).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'RS256'));
    await expectRefused(rs, 401, 'invalid_token');
    // The classic confusion: HS256 signed with a public key an attacker knows. keygate holds no
    // public keys; only its own secrets verify.
    const pem = new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const confused = await new SignJWT(claimsOf(good)).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(pem);
    await expectRefused(confused, 401, 'invalid_token');
    // The same claims signed with the real secret do verify (the cases above fail on the signing alone).
    const real = await new SignJWT(claimsOf(good)).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(currentSecret());
    recordSecret(real);
    expect((await chat(real)).status).toBe(200);
  });

  it('a malformed token is a 400', async () => {
    await expectRefused('eyJhbGciOiJIUzI1NiJ9.@@@.abc', 400);
  });
});

describe("a token stops with its key's owner", () => {
  it("is refused (403 identity_disabled) once the key's user is disabled, and works again when re-enabled", async () => {
    await call('POST', '/admin/users', { bearer: gw.adminKey, body: { name: 'tok-owner-user' } });
    const { key } = await createKey({ name: 'tok-owned-by-user', userId: 'tok-owner-user' });
    const t = await getToken({ bearer: key });
    expect((await chat(t.token as string)).status).toBe(200);
    expect((await call('PATCH', '/admin/users/tok-owner-user', { bearer: gw.adminKey, body: { disabled: true } })).status).toBe(200);
    const refused = await chat(t.token as string);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('identity_disabled');
    expect(refused.body.error?.message).toMatch(/user/);
    // The key itself too, and no new token for it.
    expect((await chat(key)).status).toBe(403);
    expect((await getToken({ bearer: key })).status).toBe(403);
    await call('PATCH', '/admin/users/tok-owner-user', { bearer: gw.adminKey, body: { disabled: false } });
    expect((await chat(t.token as string)).status).toBe(200);
  });

  it("is refused once the key's app is disabled, or the app its user belongs to", async () => {
    await call('POST', '/admin/apps', { bearer: gw.adminKey, body: { name: 'tok-owner-app' } });
    await call('POST', '/admin/users', { bearer: gw.adminKey, body: { name: 'tok-app-member', appId: 'tok-owner-app' } });
    const direct = await createKey({ name: 'tok-owned-by-app', appId: 'tok-owner-app' });
    const viaUser = await createKey({ name: 'tok-owned-via-user', userId: 'tok-app-member' });
    const t1 = await getToken({ bearer: direct.key });
    const t2 = await getToken({ bearer: viaUser.key });
    expect((await chat(t1.token as string)).status).toBe(200);
    expect((await chat(t2.token as string)).status).toBe(200);
    await call('PATCH', '/admin/apps/tok-owner-app', { bearer: gw.adminKey, body: { disabled: true } });
    for (const t of [t1.token, t2.token, viaUser.key]) {
      const r = await chat(t as string);
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('identity_disabled');
    }
  });
});

describe('audit records for the use of a revoked credential', () => {
  const revokedUses = async () => {
    await gw.ctx.ops.audit.flush();
    return (await gw.ctx.ops.audit.query({ action: 'credential.revoked_used', limit: 100 })).items;
  };

  it('name the revoked key by id (never the key itself)', async () => {
    const { id, key } = await createKey({ name: 'audit-revoked-key', clientId: 'audit-client' });
    await call('POST', `/admin/keys/${id}/revoke`, { bearer: gw.adminKey });
    expect((await chat(key)).status).toBe(401);
    const rec = (await revokedUses()).find((r) => r.actor === id);
    expect(rec).toMatchObject({ actor: id, client_id: 'audit-client', target: id, outcome: 'denied' });
    expect(rec?.details).toMatchObject({ code: 'revoked_api_key', keyId: id });
    expect(JSON.stringify(rec)).not.toContain(key);
  });

  it("name a revoked token by jti and its key's id (never the token)", async () => {
    const { id, key } = await createKey({ name: 'audit-revoked-token' });
    const t = await getToken({ bearer: key, body: { client_id: 'audit-revoked-token/device-1' } });
    await call('POST', '/auth/revoke', { bearer: t.token, body: {} });
    expect((await chat(t.token as string)).status).toBe(401);
    const rec = (await revokedUses()).find((r) => r.target === t.body.jti);
    expect(rec).toMatchObject({ actor: id, client_id: 'audit-revoked-token/device-1', outcome: 'denied' });
    expect(rec?.details).toMatchObject({ code: 'revoked_token', keyId: id, jti: t.body.jti });
    expect(JSON.stringify(rec)).not.toContain(t.token as string);
  });

  it('name a token whose key was revoked by jti and key id', async () => {
    const { id, key } = await createKey({ name: 'audit-revoked-key-token' });
    const t = await getToken({ bearer: key });
    await call('POST', `/admin/keys/${id}/revoke`, { bearer: gw.adminKey });
    expect((await chat(t.token as string)).status).toBe(401);
    const rec = (await revokedUses()).find((r) => r.target === t.body.jti);
    expect(rec).toMatchObject({ actor: id });
    expect(rec?.details).toMatchObject({ code: 'revoked_api_key', keyId: id, jti: t.body.jti });
  });
});

describe('signing secret rotation in a running gateway (keygate serve, SIGHUP)', () => {
  vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });
  let serve: ServeProcess;
  let dataDir = '';
  let mockUrl = '';

  beforeAll(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    dataDir = mkdtempSync(join(tmpdir(), 'keygate-rotate-'));
    mockUrl = mock.url;
    serve = await startServeProcess('tokens-rotation', { KEYGATE_DATA_DIR: dataDir, KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mockUrl });
  });
  afterAll(async () => {
    await serve?.stop();
    if (dataDir) (await import('node:fs')).rmSync(dataDir, { recursive: true, force: true });
  });

  const at = async (path: string, bearer: string, body: unknown): Promise<Res> => {
    const res = await fetch(`${serve.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    const parsed = (text ? JSON.parse(text) : {}) as Body;
    if (typeof parsed.access_token === 'string') recordSecret(parsed.access_token);
    else recordOutput('tokens', text);
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
  const hup = async (n: number) => {
    serve.child.kill('SIGHUP');
    await serve.waitForLog(/SIGHUP: token signing keyring reloaded/, n);
  };

  it('a token signed before the rotation verifies within the overlap and is refused once it has closed', async () => {
    const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
    const old = await at('/auth/token', serve.adminKey, {});
    expect(old.status).toBe(200);
    const oldToken = old.body.access_token as string;
    const oldKid = kidOf(oldToken);
    expect((await at('/v1/chat/completions', oldToken, chatBody)).status).toBe(200);

    const newKid = rotateTokenKeyring(dataDir, {}, 3600);
    await hup(1);
    const fresh = await at('/auth/token', serve.adminKey, {});
    expect(kidOf(fresh.body.access_token as string)).toBe(newKid);
    expect((await at('/v1/chat/completions', fresh.body.access_token as string, chatBody)).status).toBe(200);
    // Within the overlap the old key still verifies.
    expect((await at('/v1/chat/completions', oldToken, chatBody)).status).toBe(200);

    // The overlap ends (as if an hour had passed: the old key's notAfter is now behind us).
    const file = tokenKeyringFile(dataDir);
    const ring = JSON.parse(readFileSync(file, 'utf8')) as { current: string; keys: Array<{ kid: string; notAfter?: number }> };
    writeFileSync(file, JSON.stringify({ ...ring, keys: ring.keys.map((k) => (k.kid === oldKid ? { ...k, notAfter: Date.now() - 1000 } : k)) }), { mode: 0o600 });
    await hup(2);
    const refused = await at('/v1/chat/completions', oldToken, chatBody);
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe('invalid_token');
    expect((await at('/v1/chat/completions', fresh.body.access_token as string, chatBody)).status).toBe(200);
  });
});

