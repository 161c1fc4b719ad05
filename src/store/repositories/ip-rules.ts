/** Global IP allow and deny rules managed through the admin API and CLI (config adds its own). */
import { randomUUID } from 'node:crypto';
import type { Store } from '../connect.js';
import type { IpRulesTable } from '../schema.js';

export class IpRuleRepository {
  constructor(private readonly store: Store) {}

  async add(list: 'allow' | 'deny', cidr: string, note: string | null = null, now = Date.now()): Promise<IpRulesTable> {
    const row: IpRulesTable = { id: `ipr_${randomUUID().replace(/-/g, '').slice(0, 16)}`, list, cidr, note, created_at: now };
    await this.store.db.insertInto('ip_rules').values(row).execute();
    await this.store.notifyChange();
    return row;
  }

  async list(): Promise<IpRulesTable[]> {
    return this.store.db.selectFrom('ip_rules').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.store.db.deleteFrom('ip_rules').where('id', '=', id).executeTakeFirst();
    await this.store.notifyChange();
    return Number(res.numDeletedRows) > 0;
  }
}
