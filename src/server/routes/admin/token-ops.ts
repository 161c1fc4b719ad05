/**
 * Issuing and revoking signed tokens, shared by POST /auth/token, the admin API and the CLI,
 * so the rules are written once: a token never carries a scope its key lacks, an app token
 * never carries `admin`, and a revocation outlives the token it revokes.
 */
import { parseScopes, type Scope } from '../../../auth/scopes.js';
import type { IssuedToken, SignedTokenService } from '../../../auth/signed-tokens.js';
import { errors } from '../../../core/errors.js';
import type { ApiKeyRecord } from '../../../store/repositories/api-keys.js';
import type { AppsTable } from '../../../store/schema.js';

export type TokenHolder = { kind: 'key'; record: ApiKeyRecord } | { kind: 'app'; row: AppsTable };

export interface TokenAsk {
  scopes?: string | readonly string[];
  ttlSeconds?: number;
  clientId?: string;
}

const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;
const APP_SCOPES: readonly Scope[] = ['read', 'write'];

export function holderSubject(h: TokenHolder): string {
  return h.kind === 'key' ? `key:${h.record.id}` : `app:${h.row.id}`;
}

/** The client id a holder's tokens carry by default: the key's client id (or name), the app's name. */
export function holderClientId(h: TokenHolder): string {
  const own = h.kind === 'key' ? (h.record.client_id ?? h.record.name) : h.row.name;
  return CLIENT_ID.test(own) ? own : holderSubject(h);
}

/** Signs a token for a holder that has already proved itself (or that an admin named). */
export async function issueFor(tokens: SignedTokenService, defaultTtlSeconds: number, holder: TokenHolder, ask: TokenAsk, now = Date.now()): Promise<IssuedToken> {
  const allowed = holder.kind === 'key' ? parseScopes(holder.record.scopes) : APP_SCOPES;
  const scopes = ask.scopes === undefined ? [...allowed] : parseScopes(ask.scopes);
  if (scopes.length === 0) throw errors.invalidBody("Invalid request: 'scopes' must name at least one scope.", 'scopes');
  const extra = scopes.filter((s) => !allowed.includes(s));
  if (extra.length > 0) {
    throw errors.forbidden(`This ${holder.kind === 'key' ? 'key' : 'app'} may not obtain the scope${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; it may ask for ${allowed.join(', ') || 'none'}.`, 'insufficient_scope');
  }
  let ttl = ask.ttlSeconds ?? defaultTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > tokens.maxTtlSeconds) {
    throw errors.invalidBody(`Invalid request: 'ttl_seconds' must be a whole number from 1 to ${tokens.maxTtlSeconds}.`, 'ttl_seconds');
  }
  // A token never outlives the key that obtained it.
  if (holder.kind === 'key' && holder.record.expires_at !== null) {
    const left = Math.floor((holder.record.expires_at - now) / 1000);
    if (left < 1) throw errors.expiredCredential();
    ttl = Math.min(ttl, left);
  }
  const clientId = ask.clientId ?? holderClientId(holder);
  if (!CLIENT_ID.test(clientId)) throw errors.invalidBody("Invalid request: 'client_id' must be 1-128 printable characters without spaces.", 'client_id');
  return tokens.sign({ clientId, scopes, subject: holderSubject(holder), ttlSeconds: ttl });
}

export interface RevocationTarget {
  jti: string;
  /** When the deny-list entry may be forgotten (the token's own expiry), epoch ms. */
  expiresAtMs: number;
  /** The token's subject, when the token itself was given. */
  sub: string | null;
}

const JTI = /^[\x21-\x7e]{1,256}$/;

/**
 * What to put on the deny list: from a token (verified, even if expired or already revoked,
 * so nobody can fill the list with made-up ids through it), or from a bare jti, remembered
 * for the longest lifetime a token can have unless told otherwise.
 */
export async function revocationTarget(tokens: SignedTokenService, input: { token?: string; jti?: string; expiresAt?: number | string }, now = Date.now()): Promise<RevocationTarget> {
  if (input.token !== undefined) {
    const claims = await tokens.verify(input.token, { allowExpired: true, checkRevoked: false });
    return { jti: claims.jti, expiresAtMs: claims.exp * 1000, sub: claims.sub };
  }
  const jti = input.jti ?? '';
  if (!JTI.test(jti)) throw errors.invalidBody("Invalid request: give 'token', or 'jti' (1-256 printable characters).", input.jti === undefined ? 'token' : 'jti');
  const fallback = now + tokens.maxTtlSeconds * 1000;
  let expiresAtMs = fallback;
  if (input.expiresAt !== undefined) {
    expiresAtMs = typeof input.expiresAt === 'number' ? input.expiresAt : Date.parse(input.expiresAt);
    if (!Number.isFinite(expiresAtMs)) throw errors.invalidBody("Invalid request: 'expiresAt' must be epoch milliseconds or an ISO date.", 'expiresAt');
    // Never shorter than needed: a jti forgotten too early would work again.
    expiresAtMs = Math.max(expiresAtMs, fallback);
  }
  return { jti, expiresAtMs, sub: null };
}
