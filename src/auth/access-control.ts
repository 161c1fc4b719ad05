/**
 * Who is calling and what they may do, answered from memory on the request path.
 *
 * Keys (by hash and by id), users, apps (for keys and for app tokens), global IP rules and
 * revoked token ids are cached;
 * the whole cache is dropped as soon as the store reports a change made by another
 * connection or process (a key revoked by the CLI, a rule added on another replica), and
 * reloaded lazily. A revoked key or token is therefore refused on the next request (on
 * PostgreSQL: as soon as the change notification arrives, within milliseconds).
 */
import { errors } from '../core/errors.js';
import type { Limits, SubjectLimits } from '../limits/index.js';
import type { Store } from '../store/connect.js';
import type { ApiKeyRecord, ApiKeyRepository } from '../store/repositories/api-keys.js';
import { fromJson } from '../store/repositories/json-column.js';
import type { IdentityRepository } from '../store/repositories/identities.js';
import type { IpRuleRepository } from '../store/repositories/ip-rules.js';
import type { RevokedTokenRepository } from '../store/repositories/revoked-tokens.js';
import { compileIpRules, type IpRules, type IpRulesConfig } from './ip-rules.js';
import { hashKey, hashesEqual, isKeygateKeyShape } from './keygate-keys.js';
import { compileNameMatcher, parseScopes, type NameMatcher, type Scope } from './scopes.js';
import { TokenError, type SignedTokenService, type VerifiedToken } from './signed-tokens.js';

export interface Principal {
  /** How the caller proved itself. */
  kind: 'key' | 'token';
  /** The key behind the call (for a token issued to a key, that key); null for app tokens. */
  keyId: string | null;
  userId: string | null;
  /** The key's app, else the app its user belongs to (usage records and app policies follow it). */
  appId: string | null;
  name: string;
  /** Reported in audit records. */
  clientId: string;
  scopes: readonly Scope[];
  /** Allow-list of models/providers; null = any. */
  models: NameMatcher | null;
  /** Allow-list of provider ids (globs as for models: `open*`); null = any. */
  providers: NameMatcher | null;
  /** Allow-list of routes (`/v1/chat/completions`, `/anthropic/*`), matched against route patterns; null = any. */
  routes: NameMatcher | null;
  /** The key's own IP allow-list; null = none. */
  ipAllow: IpRules | null;
  /** Limits to count this call against: key, user, app (the tightest applies). */
  subjects: readonly SubjectLimits[];
  /** For token callers: the token id and expiry (epoch seconds). */
  jti?: string;
  tokenExp?: number;
}

interface CachedKey {
  record: ApiKeyRecord;
  principal: Principal;
  /** The first disabled owner (the key's user, the key's app or the user's app), refused on use. */
  disabledOwner: 'user' | 'app' | null;
}

/** A user or app as the request path needs it; cached by id. */
interface IdentityEntry {
  id: string;
  name: string;
  limits: Limits | null;
  disabled: boolean;
  /** For a user: the app (team) it belongs to. */
  appId: string | null;
}

export interface AccessRepos {
  keys: ApiKeyRepository;
  users: IdentityRepository<'users'>;
  apps: IdentityRepository<'apps'>;
  ipRules: IpRuleRepository;
  revokedTokens: RevokedTokenRepository;
}

const MAX_CACHED = 50_000;

/** Whose credential was refused (ids only, never the secret), for the audit record of its use. */
export interface RefusedCredential {
  keyId: string | null;
  /** For an app token. */
  appId?: string;
  jti?: string;
  clientId?: string;
}

const refused = new WeakMap<object, RefusedCredential>();

/** The credential a 401 from AccessControl was about, when it was a known key or a verified token. */
export function refusedCredential(err: unknown): RefusedCredential | undefined {
  return typeof err === 'object' && err !== null ? refused.get(err) : undefined;
}

function tagged<E extends object>(err: E, who: RefusedCredential): E {
  refused.set(err, who);
  return err;
}

export class AccessControl {
  readonly #byHash = new Map<string, CachedKey>();
  readonly #byId = new Map<string, CachedKey>();
  readonly #identities = new Map<string, IdentityEntry | null>();
  #revoked = new Set<string>();
  #ipRules: IpRules;
  #loaded: Promise<void> | null = null;
  #reloadFailed = false;

  constructor(
    private readonly store: Store,
    private readonly repos: AccessRepos,
    private readonly configIpRules: IpRulesConfig,
    private readonly defaultKeyLimits: Limits | null,
    private tokens: SignedTokenService | null = null,
  ) {
    this.#ipRules = compileIpRules(configIpRules, 'ipRules');
  }

  setTokenService(tokens: SignedTokenService): void {
    this.tokens = tokens;
  }

  /** Loads what is global (IP rules, deny list); call at start-up. */
  async load(): Promise<void> {
    const [rules, revoked] = await Promise.all([this.repos.ipRules.list(), this.repos.revokedTokens.active()]);
    this.#ipRules = compileIpRules(
      {
        allow: [...(this.configIpRules.allow ?? []), ...rules.filter((r) => r.list === 'allow').map((r) => r.cidr)],
        deny: [...(this.configIpRules.deny ?? []), ...rules.filter((r) => r.list === 'deny').map((r) => r.cidr)],
      },
      'ipRules',
    );
    this.#revoked = new Set(revoked);
  }

  /**
   * Drops the cache when another process changed something. Null when there is nothing to
   * wait for (the usual case: no promise on the request path), else the reload to await.
   */
  refresh(): Promise<void> | null {
    if (this.#reloadFailed || this.store.changedElsewhere()) {
      this.invalidate();
      this.#reloadFailed = false;
      this.#loaded = this.load();
    }
    return this.#loaded ? this.#settleLoad(this.#loaded) : null;
  }

  async #settleLoad(p: Promise<void>): Promise<void> {
    try {
      await p;
    } catch {
      // The store is unreachable: the last good IP rules and deny list stay (keys are not
      // cached meanwhile, so each is checked against the store, and refused if it cannot be),
      // /readyz can say so, and the next request tries again.
      this.#reloadFailed = true;
    } finally {
      if (this.#loaded === p) this.#loaded = null;
    }
  }

  /** After a change made in this process (admin API). */
  invalidate(): void {
    this.#byHash.clear();
    this.#byId.clear();
    this.#identities.clear();
  }

  async reloadGlobal(): Promise<void> {
    this.invalidate();
    await this.load();
  }

  get ipRules(): IpRules {
    return this.#ipRules;
  }

  markRevoked(jti: string): void {
    this.#revoked.add(jti);
  }

  isRevoked(jti: string): boolean {
    return this.#revoked.has(jti);
  }

  async authenticateKey(key: string, now = Date.now()): Promise<Principal> {
    const cached = this.cachedKey(key, now);
    if (cached) return cached;
    const hash = hashKey(key);
    const record = await this.repos.keys.findByHash(hash);
    if (!record) throw errors.invalidCredential();
    return this.#admit(await this.#cache(record), hash, now);
  }

  /**
   * authenticateKey without a promise for a key already in the cache (the request path's
   * usual case): its principal, null when the store must be asked; throws as authenticateKey rejects.
   */
  cachedKey(key: string, now = Date.now()): Principal | null {
    if (!isKeygateKeyShape(key)) throw errors.invalidCredential();
    const hash = hashKey(key);
    const entry = this.#byHash.get(hash);
    return entry ? this.#admit(entry, hash, now) : null;
  }

  #admit(entry: CachedKey, hash: string, now: number): Principal {
    // The map lookup found the entry by hash; the compare that decides is constant-time.
    if (!hashesEqual(entry.record.key_hash, hash)) throw errors.invalidCredential();
    this.#checkUsable(entry, now, {});
    return entry.principal;
  }

  async authenticateToken(token: string, now = Date.now()): Promise<Principal> {
    if (!this.tokens) throw errors.invalidCredential();
    let claims: VerifiedToken;
    try {
      claims = await this.tokens.verify(token);
    } catch (err) {
      // A revoked token's signature did verify: say whose it was (verified again, without the deny list).
      if (err instanceof TokenError && err.reason === 'revoked') {
        const c = await this.tokens.verify(token, { checkRevoked: false, allowExpired: true }).catch(() => null);
        if (c) {
          const [kind, id] = splitSubject(c.sub);
          throw tagged(err, { keyId: kind === 'key' ? id : null, ...(kind === 'app' ? { appId: id } : {}), jti: c.jti, clientId: c.clientId });
        }
      }
      throw err;
    }
    return this.principalForToken(claims, now);
  }

  async principalForToken(claims: VerifiedToken, now = Date.now()): Promise<Principal> {
    const [kind, id] = splitSubject(claims.sub);
    if (kind === 'key') {
      let entry = this.#byId.get(id);
      if (!entry) {
        const record = await this.repos.keys.findById(id);
        if (!record) throw errors.invalidCredential();
        entry = await this.#cache(record);
      }
      // The same checks as the key itself: revoked, expired, or its user or app disabled.
      this.#checkUsable(entry, now, { jti: claims.jti, clientId: claims.clientId });
      // A token never carries more than the key that obtained it.
      const scopes = claims.scopes.filter((s) => entry.principal.scopes.includes(s));
      return { ...entry.principal, kind: 'token', clientId: claims.clientId, scopes, jti: claims.jti, tokenExp: claims.exp };
    }
    if (kind === 'app') {
      const app = await this.#identity('apps', id);
      if (!app || app.id !== id) throw errors.invalidCredential();
      if (app.disabled) throw errors.forbidden('This app is disabled.', 'identity_disabled');
      const limits = app.limits;
      return {
        kind: 'token',
        keyId: null,
        userId: null,
        appId: app.id,
        name: app.name,
        clientId: claims.clientId,
        scopes: claims.scopes.filter((s) => s !== 'admin'),
        models: null,
        providers: null,
        routes: null,
        ipAllow: null,
        subjects: limits ? [{ subject: `app:${app.id}`, limits }] : [],
        jti: claims.jti,
        tokenExp: claims.exp,
      };
    }
    throw errors.invalidCredential();
  }

  #checkUsable(entry: CachedKey, now: number, token: { jti?: string; clientId?: string }): void {
    const { record } = entry;
    const who = { keyId: record.id, clientId: entry.principal.clientId, ...token };
    if (record.revoked_at !== null) throw tagged(errors.revokedCredential(), who);
    if (record.expires_at !== null && record.expires_at <= now) throw tagged(errors.expiredCredential(), who);
    if (entry.disabledOwner) throw errors.forbidden(`The ${entry.disabledOwner} this key belongs to is disabled.`, 'identity_disabled');
  }

  /**
   * The limits a key's calls count against: its own (or the default), its user's, its app's
   * and its user's app's (a user belongs to an app or team); all are reserved at once, so the
   * tightest applies. Also says which owner, if any, is disabled.
   */
  async limitSubjects(record: ApiKeyRecord): Promise<{ subjects: SubjectLimits[]; disabledOwner: 'user' | 'app' | null; appId: string | null }> {
    const subjects: SubjectLimits[] = [];
    let disabledOwner: 'user' | 'app' | null = null;
    const keyLimits = fromJson<Limits>(record.limits) ?? this.defaultKeyLimits;
    if (keyLimits) subjects.push({ subject: `key:${record.id}`, limits: keyLimits });
    const user = record.user_id ? await this.#identity('users', record.user_id) : null;
    if (user) {
      if (user.disabled) disabledOwner = 'user';
      if (user.limits) subjects.push({ subject: `user:${user.id}`, limits: user.limits });
    }
    for (const appId of new Set([record.app_id, user?.appId ?? null])) {
      if (!appId) continue;
      const app = await this.#identity('apps', appId);
      if (!app) continue;
      if (app.disabled) disabledOwner ??= 'app';
      if (app.limits) subjects.push({ subject: `app:${app.id}`, limits: app.limits });
    }
    // The key's own app, else its user's: usage records and app policies follow the team.
    return { subjects: subjects.filter((s) => Object.keys(s.limits).length > 0), disabledOwner, appId: record.app_id ?? user?.appId ?? null };
  }

  async #cache(record: ApiKeyRecord): Promise<CachedKey> {
    const { subjects, disabledOwner, appId } = await this.limitSubjects(record);
    const models = fromJson<string[]>(record.models);
    const providers = fromJson<string[]>(record.providers);
    const routes = fromJson<string[]>(record.routes);
    const ipAllow = fromJson<string[]>(record.ip_allow);
    const principal: Principal = {
      kind: 'key',
      keyId: record.id,
      userId: record.user_id,
      appId,
      name: record.name,
      clientId: record.client_id ?? record.name,
      scopes: parseScopes(record.scopes.split(',').filter(Boolean)),
      models: models ? compileNameMatcher(models, 'models') : null,
      providers: providers ? compileNameMatcher(providers, 'providers') : null,
      routes: routes ? compileNameMatcher(routes, 'routes') : null,
      ipAllow: ipAllow && ipAllow.length > 0 ? compileIpRules({ allow: ipAllow }, `key ${record.id} ipAllow`) : null,
      subjects,
    };
    const entry = { record, principal, disabledOwner };
    if (this.#byHash.size >= MAX_CACHED) this.invalidate();
    this.#byHash.set(record.key_hash, entry);
    this.#byId.set(record.id, entry);
    return entry;
  }

  async #identity(kind: 'users' | 'apps', id: string): Promise<IdentityEntry | null> {
    const key = `${kind}:${id}`;
    let v = this.#identities.get(key);
    if (v === undefined) {
      const row = kind === 'users' ? await this.repos.users.get(id) : await this.repos.apps.get(id);
      v = row
        ? { id: row.id, name: row.name, limits: fromJson<Limits>(row.limits), disabled: row.disabled_at !== null, appId: 'app_id' in row ? row.app_id : null }
        : null;
      if (this.#identities.size >= MAX_CACHED) this.#identities.clear();
      this.#identities.set(key, v);
    }
    return v;
  }
}

function splitSubject(sub: string): [string, string] {
  const i = sub.indexOf(':');
  return i > 0 ? [sub.slice(0, i), sub.slice(i + 1)] : ['', sub];
}
