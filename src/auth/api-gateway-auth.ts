/**
 * The library API users of the proxy proposal know:
 *
 *   const auth = new APIGatewayAuth({ secret: process.env.KEYGATE_TOKEN_SECRET });
 *   const t = await auth.createToken({ clientId: 'my-app', scopes: ['read', 'write'] });
 *   const claims = await auth.verifyToken(t);
 *   await auth.revoke(claims.jti, claims.exp);
 *
 * A thin layer over SignedTokenService with a pluggable deny list (in memory by default; the
 * server plugs in a persisted one so a revocation survives restarts and reaches every replica).
 */
import {
  SignedTokenService,
  type IssuedToken,
  type RevocationCheck,
  type TokenRequest,
  type VerifiedToken,
} from './signed-tokens.js';
import { SigningKeyring, type KeyringConfig, type SecretInput } from './signing-keys.js';

/** Where revoked token ids live. `expiresAt` (epoch seconds) lets a store forget an entry once the token could no longer verify anyway. */
export interface RevocationStore {
  add(jti: string, expiresAt: number): Promise<void> | void;
  has(jti: string): Promise<boolean> | boolean;
}

/** The default deny list: a Map, pruned of entries whose token has expired. */
export class MemoryRevocationStore implements RevocationStore {
  readonly #entries = new Map<string, number>();
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  add(jti: string, expiresAt: number): void {
    this.#entries.set(jti, expiresAt);
    this.#sweep();
  }

  has(jti: string): boolean {
    return this.#entries.has(jti);
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#now() / 1000;
    if (now < this.#nextSweep) return;
    // At most one sweep a minute; an entry kept a little too long only costs memory.
    this.#nextSweep = now + 60;
    for (const [jti, exp] of this.#entries) if (exp < now - 300) this.#entries.delete(jti);
  }
}

export interface APIGatewayAuthOptions {
  /** One signing secret (kid `default`). Use `secrets` to rotate. */
  secret?: SecretInput;
  /** A keyring with key ids, for rotation with an overlap window. */
  secrets?: KeyringConfig;
  defaultTtlSeconds?: number;
  maxTtlSeconds?: number;
  clockToleranceSeconds?: number;
  issuer?: string;
  audience?: string | readonly string[];
  /** Extra revocation check, e.g. a database lookup; consulted after the store. */
  isRevoked?: RevocationCheck;
  revocationStore?: RevocationStore;
  now?: () => number;
  verifiedCacheSize?: number;
}

export type CreateTokenOptions = TokenRequest;

export class APIGatewayAuth {
  readonly #tokens: SignedTokenService;
  readonly #store: RevocationStore;
  readonly #now: () => number;

  constructor(opts: APIGatewayAuthOptions) {
    if ((opts.secret === undefined) === (opts.secrets === undefined)) {
      throw new TypeError('APIGatewayAuth needs exactly one of `secret` or `secrets`.');
    }
    this.#now = opts.now ?? Date.now;
    const config: KeyringConfig = opts.secrets ?? { current: 'default', keys: [{ kid: 'default', secret: opts.secret as SecretInput }] };
    const keyring = new SigningKeyring(config, this.#now());
    this.#store = opts.revocationStore ?? new MemoryRevocationStore(this.#now);
    const store = this.#store;
    const extra = opts.isRevoked;
    this.#tokens = new SignedTokenService({
      keyring,
      defaultTtlSeconds: opts.defaultTtlSeconds,
      maxTtlSeconds: opts.maxTtlSeconds,
      clockToleranceSeconds: opts.clockToleranceSeconds,
      issuer: opts.issuer,
      audience: opts.audience,
      now: this.#now,
      verifiedCacheSize: opts.verifiedCacheSize,
      isRevoked: async (jti) => (await store.has(jti)) || (extra !== undefined && (await extra(jti))),
    });
  }

  /** A signed token string. */
  async createToken(opts: CreateTokenOptions): Promise<string> {
    return (await this.#tokens.sign(opts)).token;
  }

  /** The token with its jti and times, for an issuing endpoint's response and audit record. */
  issueToken(opts: CreateTokenOptions): Promise<IssuedToken> {
    return this.#tokens.sign(opts);
  }

  /** The verified claims, or a TokenError (reason: malformed -> 400, anything else -> 401). */
  verifyToken(token: string): Promise<VerifiedToken> {
    return this.#tokens.verify(token);
  }

  /**
   * Puts a token id on the deny list. Without `expiresAt` (epoch seconds) the entry is kept for
   * the longest lifetime a token can have, which is always long enough.
   */
  async revoke(jti: string, expiresAt?: number): Promise<void> {
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw new TypeError('revoke needs a token id (jti).');
    const until = expiresAt ?? Math.floor(this.#now() / 1000) + this.#tokens.maxTtlSeconds;
    await this.#store.add(jti, until);
  }

  /**
   * Revokes the token itself (a client logging out): it must carry a valid signature from this
   * keyring; expired or already revoked tokens are accepted and revoked again. Returns its claims.
   */
  async revokeToken(token: string): Promise<VerifiedToken> {
    const claims = await this.#tokens.verify(token, { checkRevoked: false, allowExpired: true });
    await this.revoke(claims.jti, claims.exp);
    return claims;
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.#store.has(jti);
  }
}
