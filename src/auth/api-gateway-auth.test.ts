import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { APIGatewayAuth, MemoryRevocationStore, type RevocationStore } from './api-gateway-auth.js';
import { TokenError } from './signed-tokens.js';
import { KeyringError, SigningKeyring, generateSigningSecret, rotateKeyring } from './signing-keys.js';
import { SecretString } from '../crypto/secret-string.js';

const SECRET = 'api-gateway-auth-test-secret-0123456789';
const NOW = 1_800_000_000_000;

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenError);
    return (err as TokenError).reason;
  }
  throw new Error('expected refusal');
}

describe('APIGatewayAuth', () => {
  it('creates and verifies a token the way the proposal shows', async () => {
    const auth = new APIGatewayAuth({ secret: SECRET });
    const t = await auth.createToken({ clientId: 'my-app', scopes: ['read', 'write'] });
    const claims = await auth.verifyToken(t);
    expect(claims).toMatchObject({ clientId: 'my-app', sub: 'my-app', scopes: ['read', 'write'], kid: 'default' });
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('honours subject, ttlSeconds and defaultTtlSeconds', async () => {
    const auth = new APIGatewayAuth({ secret: SECRET, defaultTtlSeconds: 60, now: () => NOW });
    const a = await auth.verifyToken(await auth.createToken({ clientId: 'c', scopes: 'read' }));
    expect(a.exp - a.iat).toBe(60);
    const b = await auth.issueToken({ clientId: 'c', scopes: 'read', subject: 'user-7', ttlSeconds: 30 });
    expect(b.expiresAt - b.issuedAt).toBe(30);
    expect((await auth.verifyToken(b.token)).sub).toBe('user-7');
  });

  it('revoke(jti) refuses the token on the very next verification (also when cached)', async () => {
    const auth = new APIGatewayAuth({ secret: SECRET });
    const issued = await auth.issueToken({ clientId: 'c', scopes: 'read' });
    await auth.verifyToken(issued.token);
    await auth.revoke(issued.jti);
    expect(await reasonOf(auth.verifyToken(issued.token))).toBe('revoked');
    expect(await auth.isRevoked(issued.jti)).toBe(true);
  });

  it('revokeToken revokes a presented token, even an expired one, but not a forged one', async () => {
    let now = NOW;
    const auth = new APIGatewayAuth({ secret: SECRET, now: () => now });
    const t = await auth.createToken({ clientId: 'c', scopes: 'read', ttlSeconds: 60 });
    now += 120_000;
    const claims = await auth.revokeToken(t);
    expect(await auth.isRevoked(claims.jti)).toBe(true);
    const other = new APIGatewayAuth({ secret: 'a-different-secret-0123456789abcdef0123' });
    expect(await reasonOf(other.revokeToken(t))).toBe('invalid_signature');
  });

  it('uses a pluggable revocation store and an extra isRevoked check', async () => {
    const entries = new Map<string, number>();
    const store: RevocationStore = { add: async (j, e) => void entries.set(j, e), has: async (j) => entries.has(j) };
    const extra = vi.fn(async (jti: string) => jti === 'never-issued');
    const auth = new APIGatewayAuth({ secret: SECRET, revocationStore: store, isRevoked: extra, now: () => NOW });
    const issued = await auth.issueToken({ clientId: 'c', scopes: 'read' });
    await auth.verifyToken(issued.token);
    expect(extra).toHaveBeenCalledWith(issued.jti);
    await auth.revoke(issued.jti, issued.expiresAt);
    expect(entries.get(issued.jti)).toBe(issued.expiresAt);
    expect(await reasonOf(auth.verifyToken(issued.token))).toBe('revoked');
  });

  it('revoke without expiresAt keeps the entry for the longest token lifetime', async () => {
    const store = { add: vi.fn(), has: () => false };
    const auth = new APIGatewayAuth({ secret: SECRET, revocationStore: store, maxTtlSeconds: 3600, now: () => NOW });
    await auth.revoke('some-jti');
    expect(store.add).toHaveBeenCalledWith('some-jti', NOW / 1000 + 3600);
  });

  it('rotates with an overlap window via `secrets`', async () => {
    let now = NOW;
    const v1 = { current: 'v1', keys: [{ kid: 'v1', secret: SECRET }] };
    const old = await new APIGatewayAuth({ secrets: v1, now: () => now }).createToken({ clientId: 'c', scopes: 'read' });
    const v2 = rotateKeyring(v1, { kid: 'v2' }, 900, now);
    const auth = new APIGatewayAuth({ secrets: v2, now: () => now });
    expect((await auth.issueToken({ clientId: 'c', scopes: 'read' })).kid).toBe('v2');
    expect((await auth.verifyToken(old)).kid).toBe('v1');
    now += 901_000;
    expect(await reasonOf(new APIGatewayAuth({ secrets: v2, now: () => now }).verifyToken(old))).toBe('unknown_kid');
  });

  it('needs exactly one of secret / secrets and a long enough secret', () => {
    expect(() => new APIGatewayAuth({})).toThrow(/exactly one/);
    expect(() => new APIGatewayAuth({ secret: SECRET, secrets: { current: 'a', keys: [] } })).toThrow(/exactly one/);
    expect(() => new APIGatewayAuth({ secret: 'short' })).toThrow(/at least 32/);
  });

  it('accepts a SecretString secret', async () => {
    const auth = new APIGatewayAuth({ secret: SecretString.from(SECRET) });
    await expect(auth.verifyToken(await auth.createToken({ clientId: 'c', scopes: 'read' }))).resolves.toBeTruthy();
  });
});

describe('MemoryRevocationStore', () => {
  it('forgets entries long after their token expired', () => {
    let now = NOW;
    const store = new MemoryRevocationStore(() => now);
    store.add('old', NOW / 1000 + 10);
    expect(store.has('old')).toBe(true);
    now += 3_600_000;
    store.add('new', now / 1000 + 10);
    expect(store.has('old')).toBe(false);
    expect(store.has('new')).toBe(true);
  });
});

describe('SigningKeyring', () => {
  it('validates its config with messages naming the key', () => {
    const s = 'x'.repeat(32);
    expect(() => new SigningKeyring({ current: 'a', keys: [] })).toThrow(KeyringError);
    expect(() => new SigningKeyring({ current: 'a', keys: [{ kid: 'a', secret: 'short' }] })).toThrow(/'a': the secret has 5 bytes/);
    expect(() => new SigningKeyring({ current: 'a', keys: [{ kid: 'a', secret: s }, { kid: 'a', secret: s }] })).toThrow(/'a' appears twice/);
    expect(() => new SigningKeyring({ current: 'b', keys: [{ kid: 'a', secret: s }] })).toThrow(/current signing key 'b' is not in the keyring/);
    expect(() => new SigningKeyring({ current: 'a', keys: [{ kid: 'bad kid', secret: s }] })).toThrow(/Signing key id 'bad kid' is not valid/);
    expect(() => new SigningKeyring({ current: 'a', keys: [{ kid: 'a', secret: s, notAfter: 'soon' }] })).toThrow(/notAfter is not a valid date/);
    expect(() => new SigningKeyring({ current: 'a', keys: [{ kid: 'a', secret: s, notAfter: NOW - 1 }] }, NOW)).toThrow(/past its notAfter/);
  });

  it('does not print secrets', () => {
    const kr = new SigningKeyring({ current: 'a', keys: [{ kid: 'a', secret: 'very-secret-value-0123456789abcdef' }] });
    const text = `${JSON.stringify(kr.current)} ${String(kr.current.key)} ${inspect(kr, { depth: 5 })} ${inspect(kr.current, { depth: 5 })}`;
    expect(text).not.toContain('very-secret-value');
  });

  it('generateSigningSecret gives 32 random bytes', () => {
    const a = generateSigningSecret();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(generateSigningSecret());
  });

  it('rotateKeyring bounds the old key, drops expired ones and refuses duplicate ids', () => {
    const s = 'x'.repeat(32);
    const cfg = { current: 'a', keys: [{ kid: 'old', secret: s, notAfter: NOW - 1 }, { kid: 'a', secret: s }] };
    const next = rotateKeyring(cfg, { kid: 'b', secret: s }, 600, NOW);
    expect(next.current).toBe('b');
    expect(next.keys.map((k) => k.kid)).toEqual(['a', 'b']);
    expect(next.keys[0].notAfter).toBe(NOW + 600_000);
    expect(() => rotateKeyring(cfg, { kid: 'a' }, 600, NOW)).toThrow(/already in the keyring/);
  });
});
