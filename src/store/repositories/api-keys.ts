/** keygate keys in the store. Only hashes are stored; the plaintext is returned once, at creation. */
import { displayPrefix, generateKeygateKey, hashKey, newKeyId } from '../../auth/keygate-keys.js';
import type { Store } from '../connect.js';
import type { ApiKeysTable } from '../schema.js';

export type ApiKeyRecord = ApiKeysTable;

export interface CreateKeyInput {
  name: string;
  scopes?: string[];
  expiresAt?: number | null;
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
      scopes: (input.scopes ?? ['read', 'write']).join(','),
      created_at: now,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
    };
    await this.store.db.insertInto('api_keys').values(record).execute();
    await this.store.notifyChange();
    return { record, key };
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.store.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.store.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
  }

  async count(): Promise<number> {
    const row = await this.store.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Revokes by id or by name. Returns the number of keys revoked (0 when none matched). */
  async revoke(idOrName: string, now = Date.now()): Promise<number> {
    const res = await this.store.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    await this.store.notifyChange();
    return Number(res.numUpdatedRows);
  }
}
