/**
 * Authenticates keygate keys. Records are cached in memory by hash so the request path does
 * no query; the cache is dropped as soon as the store reports a change made elsewhere (a key
 * revoked by the CLI or another replica), so a revoked key fails on the very next request.
 */
import { errors } from '../core/errors.js';
import type { Store } from '../store/connect.js';
import type { ApiKeyRecord, ApiKeyRepository } from '../store/repositories/api-keys.js';
import { hashKey, hashesEqual, isKeygateKeyShape } from './keygate-keys.js';

export interface Principal {
  keyId: string;
  name: string;
  scopes: readonly string[];
}

interface CachedKey {
  record: ApiKeyRecord;
  principal: Principal;
}

const MAX_CACHED = 50_000;

export class KeyAuthenticator {
  readonly #cache = new Map<string, CachedKey>();

  constructor(
    private readonly store: Store,
    private readonly repo: ApiKeyRepository,
  ) {}

  async authenticate(key: string, now = Date.now()): Promise<Principal> {
    if (!isKeygateKeyShape(key)) throw errors.invalidCredential();
    if (this.store.changedElsewhere()) this.#cache.clear();
    const hash = hashKey(key);
    let entry = this.#cache.get(hash);
    if (!entry) {
      const record = await this.repo.findByHash(hash);
      if (!record) throw errors.invalidCredential();
      entry = { record, principal: { keyId: record.id, name: record.name, scopes: record.scopes.split(',').filter(Boolean) } };
      // Only valid keys are cached, so wrong guesses cannot grow the cache.
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      this.#cache.set(hash, entry);
    }
    const { record } = entry;
    if (!hashesEqual(record.key_hash, hash)) throw errors.invalidCredential();
    if (record.revoked_at !== null) throw errors.revokedCredential();
    if (record.expires_at !== null && record.expires_at <= now) throw errors.expiredCredential();
    return entry.principal;
  }

  /** Drops cached records, e.g. after an admin change in this process. */
  invalidate(): void {
    this.#cache.clear();
  }
}
