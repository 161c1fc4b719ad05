/** Resolves the user and app a key (or user) names, by id or name, to ids: a 400 naming the field if absent. */
import { errors } from '../../../core/errors.js';
import type { IdentityRepository } from '../../../store/repositories/identities.js';

export interface OwnerRepos {
  users: IdentityRepository<'users'>;
  apps: IdentityRepository<'apps'>;
}

export async function resolveOwners<T extends { userId?: string | null; appId?: string | null }>(repos: OwnerRepos, fields: T): Promise<T> {
  const out = { ...fields };
  if (typeof fields.userId === 'string') {
    const u = await repos.users.get(fields.userId);
    if (!u) throw errors.invalidBody(`Invalid request: 'userId': no user with id or name '${fields.userId.slice(0, 100)}'.`, 'userId');
    out.userId = u.id;
  }
  if (typeof fields.appId === 'string') {
    const a = await repos.apps.get(fields.appId);
    if (!a) throw errors.invalidBody(`Invalid request: 'appId': no app with id or name '${fields.appId.slice(0, 100)}'.`, 'appId');
    out.appId = a.id;
  }
  return out;
}
