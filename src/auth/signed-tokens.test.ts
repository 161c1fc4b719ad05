import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { SignedTokenService, TokenError, type TokenErrorReason, type TokenServiceOptions } from './signed-tokens.js';
import { SigningKeyring } from './signing-keys.js';

const SECRET = 'k1-secret-0123456789abcdef0123456789abcdef';
const SECRET2 = 'k2-secret-0123456789abcdef0123456789abcdef';
const NOW = 1_800_000_000_000; // fixed clock, epoch ms
const NOW_S = NOW / 1000;

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hmac = (alg: 'sha256' | 'sha384' | 'sha512', secret: string | Buffer, input: string): string =>
  createHmac(alg, secret).update(input).digest('base64url');

/** A hand-made HS256 token: header and payload exactly as given. */
function craft(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${hmac('sha256', secret, input)}`;
}

// One RSA pair for the cross-algorithm attacks (generation is slow).
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const goodHeader = (): Record<string, unknown> => ({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
const goodClaims = (): Record<string, unknown> => ({
  sub: 'user-1',
  client_id: 'my-app',
  scope: 'read write',
  iat: NOW_S - 10,
  exp: NOW_S + 600,
  jti: 'jti-1',
});

function service(extra: Partial<TokenServiceOptions> = {}, now = NOW): SignedTokenService {
  const keyring = new SigningKeyring(
    { current: 'k1', keys: [{ kid: 'k1', secret: SECRET }, { kid: 'k2', secret: SECRET2 }] },
    now,
  );
  return new SignedTokenService({ keyring, now: () => now, ...extra });
}

async function reasonOf(p: Promise<unknown>): Promise<TokenErrorReason> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenError);
    return (err as TokenError).reason;
  }
  throw new Error('expected the token to be refused');
}

describe('signed tokens: issue and verify', () => {
  it('a hand-crafted valid token verifies (the baseline the attacks below mutate)', async () => {
    const claims = await service().verify(craft(goodHeader(), goodClaims()));
    expect(claims).toMatchObject({ sub: 'user-1', clientId: 'my-app', scopes: ['read', 'write'], jti: 'jti-1', kid: 'k1' });
  });

  it('issues HS256 tokens with kid, claims and a 15 minute default lifetime', async () => {
    const svc = service();
    const issued = await svc.sign({ clientId: 'my-app', scopes: ['write', 'read'] });
    const [h, p] = issued.token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'my-app', client_id: 'my-app', scope: 'read write', iat: NOW_S, exp: NOW_S + 900 });
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(issued.expiresAt - issued.issuedAt).toBe(900);
    const claims = await svc.verify(issued.token);
    expect(claims.jti).toBe(payload.jti);
  });

  it('round-trips aud, iss and nbf on issued tokens', async () => {
    const svc = service({ audience: ['keygate', 'other'], issuer: 'https://gw.example' });
    const issued = await svc.sign({ clientId: 'a', scopes: 'read', notBefore: NOW_S + 60 });
    expect(await reasonOf(svc.verify(issued.token))).toBe('not_yet_valid');
    const later = service({ audience: 'keygate', issuer: 'https://gw.example' }, NOW + 61_000);
    await expect(later.verify(issued.token)).resolves.toMatchObject({ aud: 'keygate', iss: 'https://gw.example', nbf: NOW_S + 60 });
    expect(await reasonOf(service({ audience: 'someone-else', issuer: 'https://gw.example' }, NOW + 61_000).verify(issued.token))).toBe('invalid_claims');
  });

  it('gives every token a different random jti', async () => {
    const svc = service();
    const a = await svc.sign({ clientId: 'a', scopes: 'read' });
    const b = await svc.sign({ clientId: 'a', scopes: 'read' });
    expect(a.jti).not.toBe(b.jti);
  });

  it('refuses to issue with unknown scopes, no scopes, or a lifetime above the maximum', async () => {
    const svc = service({ maxTtlSeconds: 3600 });
    await expect(svc.sign({ clientId: 'a', scopes: ['read', 'root'] })).rejects.toThrow(/Unknown scope 'root'/);
    await expect(svc.sign({ clientId: 'a', scopes: [] })).rejects.toThrow(/at least one scope/);
    await expect(svc.sign({ clientId: 'a', scopes: 'read', ttlSeconds: 3601 })).rejects.toThrow(/at most 3600/);
    await expect(svc.sign({ clientId: 'has space', scopes: 'read' })).rejects.toThrow(/clientId/);
  });
});

describe('signed tokens: the JWT attack list', () => {
  it('refuses alg "none" with an empty signature', async () => {
    const t = `${b64({ alg: 'none', typ: 'JWT', kid: 'k1' })}.${b64(goodClaims())}.`;
    expect(await reasonOf(service().verify(t))).toBe('bad_alg');
  });

  it('refuses alg "None" / "NONE" spellings', async () => {
    for (const alg of ['None', 'NONE', 'nOnE']) {
      const t = `${b64({ alg, kid: 'k1' })}.${b64(goodClaims())}.`;
      expect(await reasonOf(service().verify(t))).toBe('bad_alg');
    }
  });

  it('refuses alg none even when a signature is attached', async () => {
    const input = `${b64({ alg: 'none', kid: 'k1' })}.${b64(goodClaims())}`;
    expect(await reasonOf(service().verify(`${input}.${hmac('sha256', SECRET, input)}`))).toBe('bad_alg');
  });

  it('refuses HS512 correctly signed with the real secret', async () => {
    const input = `${b64({ alg: 'HS512', kid: 'k1' })}.${b64(goodClaims())}`;
    expect(await reasonOf(service().verify(`${input}.${hmac('sha512', SECRET, input)}`))).toBe('bad_alg');
  });

  it('refuses HS384 correctly signed with the real secret', async () => {
    const input = `${b64({ alg: 'HS384', kid: 'k1' })}.${b64(goodClaims())}`;
    expect(await reasonOf(service().verify(`${input}.${hmac('sha384', SECRET, input)}`))).toBe('bad_alg');
  });

  it('refuses RS256 with a valid RSA signature', async () => {
    const { privateKey } = rsa;
    const input = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64(goodClaims())}`;
    const sig = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
    expect(await reasonOf(service().verify(`${input}.${sig}`))).toBe('bad_alg');
  });

  it('refuses the RS->HS key confusion: RS256 header, HMAC signature made with a public key', async () => {
    const { publicKey } = rsa;
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const input = `${b64({ alg: 'RS256', kid: 'k1' })}.${b64(goodClaims())}`;
    expect(await reasonOf(service().verify(`${input}.${hmac('sha256', pem, input)}`))).toBe('bad_alg');
  });

  it('refuses the RS->HS key confusion: HS256 header, HMAC keyed with a public key', async () => {
    const { publicKey } = rsa;
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await reasonOf(service().verify(craft(goodHeader(), goodClaims(), pem)))).toBe('invalid_signature');
  });

  it('refuses ES256 and PS256 headers', async () => {
    for (const alg of ['ES256', 'PS256', 'EdDSA', 'hs256']) {
      const input = `${b64({ alg, kid: 'k1' })}.${b64(goodClaims())}`;
      expect(await reasonOf(service().verify(`${input}.${hmac('sha256', SECRET, input)}`))).toBe('bad_alg');
    }
  });

  it('refuses a missing kid', async () => {
    expect(await reasonOf(service().verify(craft({ alg: 'HS256', typ: 'JWT' }, goodClaims())))).toBe('unknown_kid');
  });

  it('refuses an unknown kid even when signed with a real secret', async () => {
    expect(await reasonOf(service().verify(craft({ alg: 'HS256', kid: 'k9' }, goodClaims())))).toBe('unknown_kid');
  });

  it('refuses a kid that is not a string', async () => {
    expect(await reasonOf(service().verify(craft({ alg: 'HS256', kid: ['k1'] }, goodClaims())))).toBe('malformed');
  });

  it('refuses a kid that names another real key than the one that signed', async () => {
    // Signed with k1's secret, header claims k2.
    expect(await reasonOf(service().verify(craft({ alg: 'HS256', kid: 'k2' }, goodClaims(), SECRET)))).toBe('invalid_signature');
  });

  it('refuses a token signed with a wrong secret', async () => {
    const wrong = 'attacker-secret-0123456789abcdef0123456789';
    expect(await reasonOf(service().verify(craft(goodHeader(), goodClaims(), wrong)))).toBe('invalid_signature');
  });

  it('refuses a tampered payload (scope raised to admin, original signature kept)', async () => {
    const t = craft(goodHeader(), goodClaims());
    const [h, , s] = t.split('.');
    const forged = `${h}.${b64({ ...goodClaims(), scope: 'read write admin' })}.${s}`;
    expect(await reasonOf(service().verify(forged))).toBe('invalid_signature');
  });

  it('refuses a tampered payload (exp extended)', async () => {
    const t = craft(goodHeader(), goodClaims());
    const [h, , s] = t.split('.');
    const forged = `${h}.${b64({ ...goodClaims(), exp: NOW_S + 999_999 })}.${s}`;
    expect(await reasonOf(service().verify(forged))).toBe('invalid_signature');
  });

  it('refuses a tampered header (typ changed, original signature kept)', async () => {
    const t = craft(goodHeader(), goodClaims());
    const [, p, s] = t.split('.');
    const forged = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${p}.${s}`;
    expect(await reasonOf(service().verify(forged))).toBe('invalid_signature');
  });

  it('refuses a tampered signature', async () => {
    const t = craft(goodHeader(), goodClaims());
    const [h, p, s] = t.split('.');
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(await reasonOf(service().verify(`${h}.${p}.${flipped}`))).toBe('invalid_signature');
  });

  it('refuses a truncated signature', async () => {
    const t = craft(goodHeader(), goodClaims());
    expect(await reasonOf(service().verify(t.slice(0, -5)))).toBe('invalid_signature');
  });

  it('refuses an HS256 header with the signature stripped', async () => {
    const t = craft(goodHeader(), goodClaims());
    expect(await reasonOf(service().verify(t.slice(0, t.lastIndexOf('.') + 1)))).toBe('invalid_signature');
  });

  it('ignores an attacker key embedded in the header (jwk)', async () => {
    const attacker = 'attacker-secret-0123456789abcdef0123456789';
    const jwk = { kty: 'oct', k: Buffer.from(attacker).toString('base64url') };
    expect(await reasonOf(service().verify(craft({ ...goodHeader(), jwk }, goodClaims(), attacker)))).toBe('invalid_signature');
  });

  it('refuses unknown critical header parameters', async () => {
    expect(await reasonOf(service().verify(craft({ ...goodHeader(), crit: ['x-evil'], 'x-evil': 1 }, goodClaims())))).toBe('malformed');
  });

  it('refuses an expired token', async () => {
    const t = craft(goodHeader(), { ...goodClaims(), iat: NOW_S - 1000, exp: NOW_S - 60 });
    expect(await reasonOf(service().verify(t))).toBe('expired');
  });

  it('accepts a token expired within the clock tolerance, refuses it just outside', async () => {
    const t = craft(goodHeader(), { ...goodClaims(), iat: NOW_S - 1000, exp: NOW_S - 3 });
    await expect(service({ clockToleranceSeconds: 5 }).verify(t)).resolves.toMatchObject({ jti: 'jti-1' });
    expect(await reasonOf(service({ clockToleranceSeconds: 2 }).verify(t))).toBe('expired');
  });

  it('refuses a token whose nbf is in the future', async () => {
    const t = craft(goodHeader(), { ...goodClaims(), nbf: NOW_S + 120 });
    expect(await reasonOf(service().verify(t))).toBe('not_yet_valid');
  });

  it('accepts nbf within the clock tolerance', async () => {
    const t = craft(goodHeader(), { ...goodClaims(), nbf: NOW_S + 3 });
    await expect(service({ clockToleranceSeconds: 5 }).verify(t)).resolves.toMatchObject({ nbf: NOW_S + 3 });
  });

  it('refuses a token issued in the future (iat beyond tolerance)', async () => {
    const t = craft(goodHeader(), { ...goodClaims(), iat: NOW_S + 3600 });
    expect(await reasonOf(service().verify(t))).toBe('not_yet_valid');
  });

  for (const claim of ['sub', 'client_id', 'scope', 'exp', 'iat', 'jti']) {
    it(`refuses a correctly signed token without ${claim}`, async () => {
      const claims = goodClaims();
      delete claims[claim];
      expect(await reasonOf(service().verify(craft(goodHeader(), claims)))).toBe('invalid_claims');
    });
  }

  it('refuses claims of the wrong type (exp as a string, sub as a number)', async () => {
    expect(await reasonOf(service().verify(craft(goodHeader(), { ...goodClaims(), exp: String(NOW_S + 600) })))).toBe('invalid_claims');
    expect(await reasonOf(service().verify(craft(goodHeader(), { ...goodClaims(), sub: 42 })))).toBe('invalid_claims');
  });

  it('refuses an unknown scope in a correctly signed token', async () => {
    expect(await reasonOf(service().verify(craft(goodHeader(), { ...goodClaims(), scope: 'read superuser' })))).toBe('invalid_claims');
  });

  it('checks aud and iss when configured', async () => {
    const svc = service({ audience: 'keygate', issuer: 'https://gw.example' });
    const ok = { ...goodClaims(), aud: 'keygate', iss: 'https://gw.example' };
    await expect(svc.verify(craft(goodHeader(), ok))).resolves.toMatchObject({ aud: 'keygate', iss: 'https://gw.example' });
    expect(await reasonOf(svc.verify(craft(goodHeader(), { ...ok, aud: 'other' })))).toBe('invalid_claims');
    expect(await reasonOf(svc.verify(craft(goodHeader(), { ...ok, iss: 'https://evil.example' })))).toBe('invalid_claims');
    const { aud: _aud, ...noAud } = ok;
    expect(await reasonOf(svc.verify(craft(goodHeader(), noAud)))).toBe('invalid_claims');
  });

  it('refuses malformed input as malformed (the 400 case)', async () => {
    const svc = service();
    const bad = ['', 'abc', 'a.b', 'a.b.c.d', 'Bearer x.y.z', `${b64('not json')}.${b64(goodClaims())}.sig`, `${b64([1, 2])}.${b64(goodClaims())}.sig`, `${'a'.repeat(5000)}.b.c`, 'a b.c.d'];
    for (const t of bad) expect(await reasonOf(svc.verify(t))).toBe('malformed');
    expect(await reasonOf(svc.verify(42 as unknown as string))).toBe('malformed');
  });

  it('refuses a signed payload that is not a JSON object as malformed', async () => {
    const input = `${b64(goodHeader())}.${b64('[1,2,3]')}`;
    expect(await reasonOf(service().verify(`${input}.${hmac('sha256', SECRET, input)}`))).toBe('malformed');
  });

  it('refuses a revoked jti, and never asks the deny list about forged tokens', async () => {
    const isRevoked = vi.fn((jti: string) => jti === 'jti-1');
    const svc = service({ isRevoked });
    expect(await reasonOf(svc.verify(craft(goodHeader(), goodClaims())))).toBe('revoked');
    expect(isRevoked).toHaveBeenCalledWith('jti-1');
    isRevoked.mockClear();
    await reasonOf(svc.verify(craft(goodHeader(), { ...goodClaims(), jti: 'jti-2' }, 'attacker-secret-0123456789abcdef0123456789')));
    expect(isRevoked).not.toHaveBeenCalled();
  });

  it('supports an async deny list', async () => {
    const svc = service({ isRevoked: async (jti) => jti === 'jti-1' });
    expect(await reasonOf(svc.verify(craft(goodHeader(), goodClaims())))).toBe('revoked');
  });
});

describe('signed tokens: errors', () => {
  it('malformed is a 400, the rest 401, with WWW-Authenticate; messages never echo the token', async () => {
    const svc = service();
    const forged = craft(goodHeader(), goodClaims(), 'attacker-secret-0123456789abcdef0123456789');
    for (const t of ['not-a-token-SECRETISH', forged]) {
      try {
        await svc.verify(t);
        throw new Error('expected refusal');
      } catch (err) {
        const e = err as TokenError;
        expect(e.status).toBe(t === forged ? 401 : 400);
        expect(e.headers['www-authenticate']).toMatch(/^Bearer realm="keygate", error="invalid_(token|request)"/);
        const text = `${e.message} ${JSON.stringify(e.toJSON())} ${JSON.stringify(e.headers)}`;
        for (const part of t.split('.')) expect(text).not.toContain(part);
      }
    }
  });
});

describe('signed tokens: rotation with an overlap window', () => {
  const rotated = (now: number): SignedTokenService =>
    new SignedTokenService({
      keyring: new SigningKeyring(
        { current: 'k2', keys: [{ kid: 'k1', secret: SECRET, notAfter: NOW + 60_000 }, { kid: 'k2', secret: SECRET2 }] },
        NOW,
      ),
      now: () => now,
    });

  it('signs new tokens with the current kid', async () => {
    const issued = await rotated(NOW).sign({ clientId: 'a', scopes: 'read' });
    expect(issued.kid).toBe('k2');
  });

  it('still verifies tokens of the previous kid inside the overlap window', async () => {
    await expect(rotated(NOW + 30_000).verify(craft(goodHeader(), { ...goodClaims(), exp: NOW_S + 600 }))).resolves.toMatchObject({ kid: 'k1' });
  });

  it('refuses tokens of the previous kid after its notAfter', async () => {
    const t = craft(goodHeader(), { ...goodClaims(), exp: NOW_S + 600 });
    expect(await reasonOf(rotated(NOW + 61_000).verify(t))).toBe('unknown_kid');
  });
});

describe('signed tokens: verified-token cache', () => {
  it('still expires, retires keys and revokes cached tokens', async () => {
    let now = NOW;
    const revoked = new Set<string>();
    const keyring = new SigningKeyring({ current: 'k1', keys: [{ kid: 'k1', secret: SECRET }] }, NOW);
    const svc = new SignedTokenService({ keyring, now: () => now, clockToleranceSeconds: 0, isRevoked: (j) => revoked.has(j) });
    const t = craft(goodHeader(), { ...goodClaims(), exp: NOW_S + 100 });
    await svc.verify(t);
    await svc.verify(t); // from the cache
    revoked.add('jti-1');
    expect(await reasonOf(svc.verify(t))).toBe('revoked');
    revoked.clear();
    now = NOW + 100_000;
    expect(await reasonOf(svc.verify(t))).toBe('expired');
  });

  it('a cached token does not make a tampered copy valid', async () => {
    const svc = service();
    const t = craft(goodHeader(), goodClaims());
    await svc.verify(t);
    const [h, , s] = t.split('.');
    expect(await reasonOf(svc.verify(`${h}.${b64({ ...goodClaims(), scope: 'admin' })}.${s}`))).toBe('invalid_signature');
  });

  it('cached claims are frozen', async () => {
    const svc = service();
    const t = craft(goodHeader(), goodClaims());
    const claims = await svc.verify(t);
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.scopes)).toBe(true);
  });
});
