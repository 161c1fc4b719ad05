/**
 * Signed bearer tokens: HMAC-SHA256 JWTs (JWS compact, `alg: HS256`, `kid` required).
 *
 * Verification order, cheapest and most telling first: shape and size, then the header
 * (only HS256; a known, unexpired kid), then the signature and time claims (jose, with an
 * algorithm allow-list so `none`, RS256 and the RS->HS key-confusion trick cannot pass even
 * if the header check were bypassed), then our required claims, and only then the revocation
 * lookup, so forged tokens never reach the deny-list store.
 *
 * Errors are one `TokenError` with a reason; messages are fixed text and never contain the
 * token or any part of it.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { GatewayError } from '../core/errors.js';
import { formatScopes, parseScopes, type Scope } from './scopes.js';
import type { SigningKeyring } from './signing-keys.js';

export const TOKEN_ALGORITHM = 'HS256';
export const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 24 * 60 * 60;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** Longer inputs are refused before any parsing (our tokens are ~400 bytes). */
export const MAX_TOKEN_LENGTH = 4096;

export type TokenErrorReason =
  | 'malformed'
  | 'invalid_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'unknown_kid'
  | 'bad_alg'
  | 'invalid_claims';

const REASONS: Readonly<Record<TokenErrorReason, { code: string; message: string }>> = {
  malformed: { code: 'malformed_token', message: 'The bearer token is malformed.' },
  invalid_signature: { code: 'invalid_token', message: 'The bearer token signature is not valid.' },
  expired: { code: 'expired_token', message: 'The bearer token has expired.' },
  not_yet_valid: { code: 'token_not_yet_valid', message: 'The bearer token is not valid yet.' },
  revoked: { code: 'revoked_token', message: 'The bearer token has been revoked.' },
  unknown_kid: { code: 'invalid_token', message: 'The bearer token was not signed with a current signing key.' },
  bad_alg: { code: 'invalid_token', message: 'The bearer token uses an algorithm this gateway does not accept.' },
  invalid_claims: { code: 'invalid_token', message: 'The bearer token is missing required claims or has claims this gateway does not accept.' },
};

/** `malformed` is a 400 (the client sent something that is not a token); every other reason a 401. */
export class TokenError extends GatewayError {
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, detail?: string) {
    const { code, message } = REASONS[reason];
    const malformed = reason === 'malformed';
    // `detail` is always our own text (a claim name), never client input.
    super(malformed ? 400 : 401, malformed ? 'invalid_request_error' : 'authentication_error', code, detail ? `${message} (${detail})` : message, {
      headers: {
        'www-authenticate': `Bearer realm="keygate", error="${malformed ? 'invalid_request' : 'invalid_token'}", error_description="${reason}"`,
      },
    });
    this.name = 'TokenError';
    this.reason = reason;
  }
}

export type RevocationCheck = (jti: string) => Promise<boolean> | boolean;

export interface TokenServiceOptions {
  keyring: SigningKeyring;
  /** Lifetime when the caller gives none. Default 900 (15 minutes). */
  defaultTtlSeconds?: number;
  /** Upper bound for a requested lifetime. Default 86400. */
  maxTtlSeconds?: number;
  /** Allowed clock skew for exp / nbf / iat. Default 5 seconds. */
  clockToleranceSeconds?: number;
  /** Set on new tokens and required on verification when given. */
  issuer?: string;
  /** Set on new tokens (the first one) and required on verification when given. */
  audience?: string | readonly string[];
  isRevoked?: RevocationCheck;
  /** Clock in epoch milliseconds; tests pass a fixed one instead of sleeping. */
  now?: () => number;
  /**
   * How many verified tokens to remember, so a client's repeated requests skip the HMAC and
   * JSON work (~70 us -> ~1 us); expiry, key window and revocation are still checked on every
   * call. Only tokens whose signature verified are stored. Default 10000; 0 turns it off.
   */
  verifiedCacheSize?: number;
}

export interface TokenRequest {
  clientId: string;
  scopes: string | readonly string[];
  /** Defaults to the client id. */
  subject?: string;
  ttlSeconds?: number;
  /** A start time later than now (epoch seconds), written as `nbf`. */
  notBefore?: number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  kid: string;
  /** Epoch seconds. */
  issuedAt: number;
  /** Epoch seconds. */
  expiresAt: number;
  scopes: Scope[];
}

export interface VerifiedToken {
  sub: string;
  clientId: string;
  scopes: Scope[];
  jti: string;
  kid: string;
  /** Epoch seconds. */
  iat: number;
  /** Epoch seconds. */
  exp: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
}

// Three base64url segments; the signature may be empty only so that `alg: none` tokens are
// reported as bad_alg rather than malformed.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const CLAIM_VALUE = /^[\x21-\x7e]{1,256}$/;

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive whole number of seconds.`);
  return value;
}

function decodeHeader(segment: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TokenError('malformed');
  return parsed as Record<string, unknown>;
}

function mapJoseError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenError('expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' && err.reason === 'check_failed') return new TokenError('not_yet_valid');
    return new TokenError('invalid_claims', err.claim);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('invalid_signature');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new TokenError('bad_alg');
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JOSENotSupported) {
    return new TokenError('malformed');
  }
  // jose throws TypeError for claim values such as 1e400 (after the signature passed).
  if (err instanceof TypeError) return new TokenError('invalid_claims');
  // Anything unexpected fails closed as a bad signature, never as success.
  return new TokenError('invalid_signature');
}

/** Issues and verifies tokens against one keyring (replaced on rotation). Construct once at start-up. */
export class SignedTokenService {
  #keyring: SigningKeyring;
  readonly #defaultTtl: number;
  readonly #maxTtl: number;
  readonly #tolerance: number;
  readonly #issuer: string | undefined;
  readonly #audience: string[] | undefined;
  readonly #isRevoked: RevocationCheck | undefined;
  readonly #now: () => number;
  readonly #cache = new Map<string, VerifiedToken>();
  readonly #cacheSize: number;

  constructor(opts: TokenServiceOptions) {
    this.#keyring = opts.keyring;
    this.#maxTtl = positiveInt(opts.maxTtlSeconds, DEFAULT_MAX_TOKEN_TTL_SECONDS, 'maxTtlSeconds');
    this.#defaultTtl = positiveInt(opts.defaultTtlSeconds, DEFAULT_TOKEN_TTL_SECONDS, 'defaultTtlSeconds');
    if (this.#defaultTtl > this.#maxTtl) throw new RangeError('defaultTtlSeconds exceeds maxTtlSeconds.');
    const tolerance = opts.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
      throw new RangeError('clockToleranceSeconds must be between 0 and 300.');
    }
    this.#tolerance = tolerance;
    this.#issuer = opts.issuer;
    const aud = opts.audience;
    this.#audience = aud === undefined ? undefined : typeof aud === 'string' ? [aud] : [...aud];
    if (this.#audience && this.#audience.length === 0) throw new RangeError('audience, when given, must not be empty.');
    this.#isRevoked = opts.isRevoked;
    this.#now = opts.now ?? Date.now;
    const size = opts.verifiedCacheSize ?? 10_000;
    if (!Number.isInteger(size) || size < 0) throw new RangeError('verifiedCacheSize must be a whole number >= 0.');
    this.#cacheSize = size;
  }

  /**
   * Swaps in a rotated keyring (SIGHUP after `keygate tokens rotate`): new tokens are signed
   * with its current key; a token whose key left the keyring or closed its window is refused
   * from the next request on (verified tokens are forgotten, so none is served from the cache).
   */
  setKeyring(keyring: SigningKeyring): void {
    this.#keyring = keyring;
    this.#cache.clear();
  }

  get maxTtlSeconds(): number {
    return this.#maxTtl;
  }

  async sign(req: TokenRequest): Promise<IssuedToken> {
    const clientId = req.clientId;
    const sub = req.subject ?? clientId;
    if (typeof clientId !== 'string' || !CLAIM_VALUE.test(clientId)) throw new RangeError('clientId must be 1-256 printable characters without spaces.');
    if (typeof sub !== 'string' || !CLAIM_VALUE.test(sub)) throw new RangeError('subject must be 1-256 printable characters without spaces.');
    const scopes = parseScopes(req.scopes);
    if (scopes.length === 0) throw new RangeError('A token needs at least one scope.');
    const ttl = positiveInt(req.ttlSeconds, this.#defaultTtl, 'ttlSeconds');
    if (ttl > this.#maxTtl) throw new RangeError(`ttlSeconds must be at most ${this.#maxTtl}.`);

    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + ttl;
    const jti = randomBytes(16).toString('base64url');
    const key = this.#keyring.current;
    const claims: JWTPayload = { client_id: clientId, scope: formatScopes(scopes) };
    const builder = new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT', kid: key.kid })
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti);
    if (req.notBefore !== undefined) {
      if (!Number.isInteger(req.notBefore) || req.notBefore >= exp) throw new RangeError('notBefore must be whole epoch seconds before the expiry.');
      builder.setNotBefore(req.notBefore);
    }
    if (this.#issuer !== undefined) builder.setIssuer(this.#issuer);
    if (this.#audience !== undefined) builder.setAudience(this.#audience[0]);
    const token = await builder.sign(await key.cryptoKey);
    return { token, jti, kid: key.kid, issuedAt: iat, expiresAt: exp, scopes };
  }

  /**
   * Verifies a token and returns its claims, or throws TokenError. `checkRevoked: false` is for
   * the revoke endpoint only (a revoked token may be revoked again); `allowExpired` likewise.
   */
  async verify(token: string, opts: { checkRevoked?: boolean; allowExpired?: boolean } = {}): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw new TokenError('malformed');
    }
    const nowMs = this.#now();
    const cached = opts.allowExpired ? undefined : this.#cache.get(token);
    if (cached) return this.#recheck(token, cached, nowMs, opts.checkRevoked !== false);

    const dot = token.indexOf('.');
    const header = decodeHeader(token.slice(0, dot));
    if (typeof header.alg !== 'string') throw new TokenError('malformed');
    if (header.alg !== TOKEN_ALGORITHM) throw new TokenError('bad_alg');
    if (header.kid === undefined) throw new TokenError('unknown_kid', 'no kid');
    if (typeof header.kid !== 'string') throw new TokenError('malformed');
    const key = this.#keyring.verificationKey(header.kid, nowMs);
    if (!key) throw new TokenError('unknown_kid');
    if (token.endsWith('.')) throw new TokenError('invalid_signature');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await key.cryptoKey, {
        algorithms: [TOKEN_ALGORITHM],
        clockTolerance: this.#tolerance,
        currentDate: new Date(nowMs),
        issuer: this.#issuer,
        audience: this.#audience,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      }));
    } catch (err) {
      // jose checks exp last and only after the signature, so every other check has passed.
      if (opts.allowExpired && err instanceof joseErrors.JWTExpired) payload = err.payload;
      else throw mapJoseError(err);
    }
    const claims = this.#checkClaims(payload, key.kid, nowMs);
    if (opts.checkRevoked !== false && this.#isRevoked && (await this.#isRevoked(claims.jti))) {
      throw new TokenError('revoked');
    }
    if (this.#cacheSize > 0 && !opts.allowExpired) {
      // Oldest out first (Map keeps insertion order).
      if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(token, claims);
    }
    return claims;
  }

  /** The time- and state-dependent checks again, for a token whose signature verified before. */
  async #recheck(token: string, claims: VerifiedToken, nowMs: number, checkRevoked: boolean): Promise<VerifiedToken> {
    const now = nowMs / 1000;
    let failure: TokenError | null = null;
    if (!this.#keyring.verificationKey(claims.kid, nowMs)) failure = new TokenError('unknown_kid');
    else if (claims.exp <= now - this.#tolerance) failure = new TokenError('expired');
    else if (claims.nbf !== undefined && claims.nbf > now + this.#tolerance) failure = new TokenError('not_yet_valid');
    if (failure) {
      this.#cache.delete(token);
      throw failure;
    }
    if (checkRevoked && this.#isRevoked && (await this.#isRevoked(claims.jti))) throw new TokenError('revoked');
    return claims;
  }

  #checkClaims(p: JWTPayload, kid: string, nowMs: number): VerifiedToken {
    const need = (ok: boolean, claim: string): void => {
      if (!ok) throw new TokenError('invalid_claims', claim);
    };
    need(typeof p.sub === 'string' && CLAIM_VALUE.test(p.sub), 'sub');
    need(typeof p.client_id === 'string' && CLAIM_VALUE.test(p.client_id), 'client_id');
    need(typeof p.jti === 'string' && CLAIM_VALUE.test(p.jti), 'jti');
    need(typeof p.iat === 'number' && Number.isFinite(p.iat), 'iat');
    need(typeof p.exp === 'number' && Number.isFinite(p.exp), 'exp');
    need(typeof p.scope === 'string', 'scope');
    let scopes: Scope[];
    try {
      scopes = parseScopes(p.scope as string);
    } catch {
      throw new TokenError('invalid_claims', 'scope');
    }
    // A token "issued" in the future was not issued by this clock: refuse like an early nbf.
    if ((p.iat as number) > nowMs / 1000 + this.#tolerance) throw new TokenError('not_yet_valid', 'iat');
    const out: VerifiedToken = {
      sub: p.sub as string,
      clientId: p.client_id as string,
      scopes,
      jti: p.jti as string,
      kid,
      iat: p.iat as number,
      exp: p.exp as number,
    };
    if (typeof p.nbf === 'number') out.nbf = p.nbf;
    if (typeof p.iss === 'string') out.iss = p.iss;
    if (p.aud !== undefined) out.aud = p.aud;
    // Frozen: the same object is handed out again from the cache.
    Object.freeze(out.scopes);
    return Object.freeze(out);
  }
}
