/** keygate keys in the store. Only hashes are stored; the plaintext is returned once, at creation. */
import { displayPrefix, generateKeygateKey, hashKey, newKeyId } from '../../auth/keygate-keys.js';
import type { Limits } from '../../limits/index.js';
import type { Store } from '../connect.js';
import type { ApiKeysTable } from '../schema.js';
import { fromJson, toJson } from './json-column.js';

export type ApiKeyRecord = ApiKeysTable;

export interface KeyAttributes {
  scopes?: string[];
  expiresAt?: number | null;
  userId?: string | null;
  appId?: string | null;
  clientId?: string | null;
  models?: string[] | null;
  providers?: string[] | null;
  routes?: string[] | null;
  ipAllow?: string[] | null;
  limits?: Limits | null;
}

export interface CreateKeyInput extends KeyAttributes {
  name: string;
}

/** A key as the admin API and CLI show it: never the hash, never the key. */
export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  userId: string | null;
  appId: string | null;
  clientId: string;
  models: string[] | null;
  providers: string[] | null;
  routes: string[] | null;
  ipAllow: string[] | null;
  limits: Limits | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'revoked' | 'expired';
}

export function keyView(r: ApiKeyRecord, now = Date.now()): KeyView {
  return {
    id: r.id,
    name: r.name,
    prefix: `${r.key_prefix}...`,
    scopes: r.scopes.split(',').filter(Boolean),
    userId: r.user_id,
    appId: r.app_id,
    clientId: r.client_id ?? r.name,
    models: fromJson<string[]>(r.models),
    providers: fromJson<string[]>(r.providers),
    routes: fromJson<string[]>(r.routes),
    ipAllow: fromJson<string[]>(r.ip_allow),
    limits: fromJson<Limits>(r.limits),
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
    status: r.revoked_at !== null ? 'revoked' : r.expires_at !== null && r.expires_at <= now ? 'expired' : 'active',
  };
}

function attributeColumns(a: KeyAttributes): Partial<ApiKeyRecord> {
  const out: Partial<ApiKeyRecord> = {};
  if (a.scopes !== undefined) out.scopes = a.scopes.join(',');
  if (a.expiresAt !== undefined) out.expires_at = a.expiresAt;
  if (a.userId !== undefined) out.user_id = a.userId;
  if (a.appId !== undefined) out.app_id = a.appId;
  if (a.clientId !== undefined) out.client_id = a.clientId;
  if (a.models !== undefined) out.models = toJson(a.models);
  if (a.providers !== undefined) out.providers = toJson(a.providers);
  if (a.routes !== undefined) out.routes = toJson(a.routes);
  if (a.ipAllow !== undefined) out.ip_allow = toJson(a.ipAllow);
  if (a.limits !== undefined) out.limits = toJson(a.limits);
  return out;
}

export class ApiKeyRepository {
  constructor(private readonly store: Store) {}

  async create(input: CreateKeyInput, now = Date.now()): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = generateKeygateKey();
    const record: ApiKeyRecord = {
      id: newKeyId(),
      name: input.name,
      key_hash: hashKey(key),
      key_prefix: displayPrefix(key),
      scopes: 'read,write',
      created_at: now,
      expires_at: null,
      revoked_at: null,
      user_id: null,
      app_id: null,
      client_id: null,
      models: null,
      providers: null,
      routes: null,
      ip_allow: null,
      limits: null,
      ...attributeColumns(input),
    };
    await this.store.db.insertInto('api_keys').values(record).execute();
    await this.store.notifyChange();
    return { record, key };
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.store.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    return this.store.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(filter: { userId?: string; appId?: string } = {}): Promise<ApiKeyRecord[]> {
    let q = this.store.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id');
    if (filter.userId) q = q.where('user_id', '=', filter.userId);
    if (filter.appId) q = q.where('app_id', '=', filter.appId);
    return q.execute();
  }

  async count(): Promise<number> {
    const row = await this.store.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async update(id: string, attrs: KeyAttributes & { name?: string }): Promise<ApiKeyRecord | undefined> {
    const set = { ...attributeColumns(attrs), ...(attrs.name !== undefined ? { name: attrs.name } : {}) };
    if (Object.keys(set).length > 0) await this.store.db.updateTable('api_keys').set(set).where('id', '=', id).execute();
    await this.store.notifyChange();
    return this.findById(id);
  }

  /** Revokes by id or by name. Returns the number of keys revoked (0 when none matched). */
  /** Revokes the key of that id, or every active key of that name; how many it revoked. */
  async revoke(idOrName: string, now = Date.now()): Promise<number> {
    return (await this.revokeListing(idOrName, now)).length;
  }

  /** As revoke(), answering which keys it revoked (for their audit records). */
  async revokeListing(idOrName: string, now = Date.now()): Promise<Array<{ id: string; name: string | null }>> {
    const rows = await this.store.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .where('revoked_at', 'is', null)
      .returning(['id', 'name'])
      .execute();
    await this.store.notifyChange();
    return rows;
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.store.db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
    await this.store.notifyChange();
    return Number(res.numDeletedRows) > 0;
  }
}
