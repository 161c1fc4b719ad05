/**
 * Who is calling and what they may do, answered from memory on the request path.
 *
 * Keys (by hash and by id), users, apps, global IP rules and revoked token ids are cached;
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
import type { SignedTokenService, VerifiedToken } from './signed-tokens.js';

export interface Principal {
  /** How the caller proved itself. */
  kind: 'key' | 'token';
  /** The key behind the call (for a token issued to a key, that key); null for app tokens. */
  keyId: string | null;
  userId: string | null;
  appId: string | null;
  name: string;
  /** Reported in audit records. */
  clientId: string;
  scopes: readonly Scope[];
  /** Allow-list of models/providers; null = any. */
  models: NameMatcher | null;
  /** Allow-list of provider ids; null = any. */
  providers: ReadonlySet<string> | null;
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
}

export interface AccessRepos {
  keys: ApiKeyRepository;
  users: IdentityRepository<'users'>;
  apps: IdentityRepository<'apps'>;
  ipRules: IpRuleRepository;
  revokedTokens: RevokedTokenRepository;
}

const MAX_CACHED = 50_000;

export class AccessControl {
  readonly #byHash = new Map<string, CachedKey>();
  readonly #byId = new Map<string, CachedKey>();
  readonly #limitsOf = new Map<string, Limits | null | 'disabled'>();
  #revoked = new Set<string>();
  #ipRules: IpRules;
  #loaded: Promise<void> | null = null;

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

  /** Drops the cache when another process changed something; cheap when nothing did. */
  async refresh(): Promise<void> {
    if (this.store.changedElsewhere()) {
      this.invalidate();
      this.#loaded = this.load();
    }
    if (this.#loaded) {
      const p = this.#loaded;
      await p;
      if (this.#loaded === p) this.#loaded = null;
    }
  }

  /** After a change made in this process (admin API). */
  invalidate(): void {
    this.#byHash.clear();
    this.#byId.clear();
    this.#limitsOf.clear();
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
    if (!isKeygateKeyShape(key)) throw errors.invalidCredential();
    const hash = hashKey(key);
    let entry = this.#byHash.get(hash);
    if (!entry) {
      const record = await this.repos.keys.findByHash(hash);
      if (!record) throw errors.invalidCredential();
      entry = await this.#cache(record);
    }
    // The map lookup found the entry by hash; the compare that decides is constant-time.
    if (!hashesEqual(entry.record.key_hash, hash)) throw errors.invalidCredential();
    this.#checkUsable(entry.record, now);
    if (entry.principal.subjects.some((s) => s.limits === DISABLED)) throw errors.forbidden('The user or app this key belongs to is disabled.', 'identity_disabled');
    return entry.principal;
  }

  async authenticateToken(token: string, now = Date.now()): Promise<Principal> {
    if (!this.tokens) throw errors.invalidCredential();
    const claims = await this.tokens.verify(token);
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
      this.#checkUsable(entry.record, now);
      // A token never carries more than the key that obtained it.
      const scopes = claims.scopes.filter((s) => entry.principal.scopes.includes(s));
      return { ...entry.principal, kind: 'token', clientId: claims.clientId, scopes, jti: claims.jti, tokenExp: claims.exp };
    }
    if (kind === 'app') {
      const app = await this.repos.apps.get(id);
      if (!app || app.id !== id) throw errors.invalidCredential();
      if (app.disabled_at !== null) throw errors.forbidden('This app is disabled.', 'identity_disabled');
      const limits = fromJson<Limits>(app.limits);
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
        ipAllow: null,
        subjects: limits ? [{ subject: `app:${app.id}`, limits }] : [],
        jti: claims.jti,
        tokenExp: claims.exp,
      };
    }
    throw errors.invalidCredential();
  }

  #checkUsable(record: ApiKeyRecord, now: number): void {
    if (record.revoked_at !== null) throw errors.revokedCredential();
    if (record.expires_at !== null && record.expires_at <= now) throw errors.expiredCredential();
  }

  async #cache(record: ApiKeyRecord): Promise<CachedKey> {
    const subjects: SubjectLimits[] = [];
    const keyLimits = fromJson<Limits>(record.limits) ?? this.defaultKeyLimits;
    if (keyLimits) subjects.push({ subject: `key:${record.id}`, limits: keyLimits });
    if (record.user_id) subjects.push({ subject: `user:${record.user_id}`, limits: await this.#identityLimits('users', record.user_id) });
    if (record.app_id) subjects.push({ subject: `app:${record.app_id}`, limits: await this.#identityLimits('apps', record.app_id) });
    const models = fromJson<string[]>(record.models);
    const providers = fromJson<string[]>(record.providers);
    const ipAllow = fromJson<string[]>(record.ip_allow);
    const principal: Principal = {
      kind: 'key',
      keyId: record.id,
      userId: record.user_id,
      appId: record.app_id,
      name: record.name,
      clientId: record.client_id ?? record.name,
      scopes: parseScopes(record.scopes.split(',').filter(Boolean)),
      models: models ? compileNameMatcher(models, 'models') : null,
      providers: providers ? new Set(providers) : null,
      ipAllow: ipAllow && ipAllow.length > 0 ? compileIpRules({ allow: ipAllow }, `key ${record.id} ipAllow`) : null,
      // A disabled owner is kept as a marker, refused in authenticateKey.
      subjects: subjects.filter((s) => Object.keys(s.limits).length > 0 || s.limits === DISABLED),
    };
    const entry = { record, principal };
    if (this.#byHash.size >= MAX_CACHED) this.invalidate();
    this.#byHash.set(record.key_hash, entry);
    this.#byId.set(record.id, entry);
    return entry;
  }

  async #identityLimits(kind: 'users' | 'apps', id: string): Promise<Limits> {
    const key = `${kind}:${id}`;
    let v = this.#limitsOf.get(key);
    if (v === undefined) {
      const row = kind === 'users' ? await this.repos.users.get(id) : await this.repos.apps.get(id);
      v = !row ? null : row.disabled_at !== null ? 'disabled' : fromJson<Limits>(row.limits);
      this.#limitsOf.set(key, v);
    }
    return v === 'disabled' ? DISABLED : (v ?? {});
  }
}

/** Marker limits object for a disabled owner (compared by identity). */
const DISABLED: Limits = Object.freeze({}) as Limits;

function splitSubject(sub: string): [string, string] {
  const i = sub.indexOf(':');
  return i > 0 ? [sub.slice(0, i), sub.slice(i + 1)] : ['', sub];
}
