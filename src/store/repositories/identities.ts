/**
 * Apps (or teams) and users. A user may belong to an app; keys may belong to a user and/or
 * an app; limits can sit at each level and the tightest applies.
 */
import { randomUUID } from 'node:crypto';
import type { Limits } from '../../limits/index.js';
import type { Store } from '../connect.js';
import type { AppsTable, UsersTable } from '../schema.js';
import { fromJson, toJson } from './json-column.js';

export type IdentityKind = 'apps' | 'users';
type Row<K extends IdentityKind> = K extends 'apps' ? AppsTable : UsersTable;

export interface IdentityView {
  id: string;
  name: string;
  appId?: string | null;
  limits: Limits | null;
  hasSecret?: boolean;
  createdAt: string;
  disabled: boolean;
}

export function identityView(kind: IdentityKind, r: AppsTable | UsersTable): IdentityView {
  const v: IdentityView = { id: r.id, name: r.name, limits: fromJson<Limits>(r.limits), createdAt: new Date(r.created_at).toISOString(), disabled: r.disabled_at !== null };
  if (kind === 'users') v.appId = (r as UsersTable).app_id;
  else v.hasSecret = (r as AppsTable).secret_hash !== null;
  return v;
}

export class IdentityRepository<K extends IdentityKind> {
  constructor(
    private readonly store: Store,
    private readonly kind: K,
  ) {}

  #newId(): string {
    return `${this.kind === 'apps' ? 'app' : 'usr'}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  }

  async create(input: { name: string; limits?: Limits | null; appId?: string | null; secretHash?: string | null }, now = Date.now()): Promise<Row<K>> {
    const base = { id: this.#newId(), name: input.name, limits: toJson(input.limits ?? null), created_at: now, disabled_at: null };
    let row: AppsTable | UsersTable;
    if (this.kind === 'apps') {
      const app: AppsTable = { ...base, secret_hash: input.secretHash ?? null };
      await this.store.db.insertInto('apps').values(app).execute();
      row = app;
    } else {
      const user: UsersTable = { ...base, app_id: input.appId ?? null };
      await this.store.db.insertInto('users').values(user).execute();
      row = user;
    }
    await this.store.notifyChange();
    return row as Row<K>;
  }

  async get(idOrName: string): Promise<Row<K> | undefined> {
    return (await this.store.db
      .selectFrom(this.kind as 'apps')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst()) as Row<K> | undefined;
  }

  async list(): Promise<Array<Row<K>>> {
    return (await this.store.db.selectFrom(this.kind as 'apps').selectAll().orderBy('created_at').orderBy('id').execute()) as Array<Row<K>>;
  }

  async update(id: string, set: { name?: string; limits?: Limits | null; disabled?: boolean; appId?: string | null; secretHash?: string | null }): Promise<Row<K> | undefined> {
    const cols: Record<string, unknown> = {};
    if (set.name !== undefined) cols.name = set.name;
    if (set.limits !== undefined) cols.limits = toJson(set.limits);
    if (set.disabled !== undefined) cols.disabled_at = set.disabled ? Date.now() : null;
    if (set.appId !== undefined && this.kind === 'users') cols.app_id = set.appId;
    if (set.secretHash !== undefined && this.kind === 'apps') cols.secret_hash = set.secretHash;
    if (Object.keys(cols).length > 0) await this.store.db.updateTable(this.kind as 'apps').set(cols).where('id', '=', id).execute();
    await this.store.notifyChange();
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.store.db.deleteFrom(this.kind as 'apps').where('id', '=', id).executeTakeFirst();
    await this.store.notifyChange();
    return Number(res.numDeletedRows) > 0;
  }
}
