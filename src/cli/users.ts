/**
 * `keygate users` (and the commands apps share with it): create, list, update, disable,
 * enable, delete. Same checks as /admin/users and /admin/apps.
 */
import type { Command } from 'commander';
import { identityCreateSchema, identityUpdateSchema, parseWith } from '../server/routes/admin/validation.js';
import { resolveOwners } from '../server/routes/admin/owners.js';
import type { Limits } from '../limits/index.js';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { identityView, type IdentityKind, type IdentityView } from '../store/repositories/identities.js';
import { fromJson } from '../store/repositories/json-column.js';
import type { Store } from '../store/connect.js';
import { addLimitFlags, asFlagError, flagged, limitsFromFlags, ownerRepos } from './keys.js';
import { withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';

interface IdentityFlags {
  name?: string;
  app?: string;
  clear?: string;
  json?: boolean;
  [limit: string]: unknown;
}

function printIdentity(v: IdentityView, json?: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
  else process.stdout.write(`${v.id}  ${v.name}${v.appId ? `  app ${v.appId}` : ''}${v.hasSecret ? '  (has secret)' : ''}  ${v.disabled ? 'disabled' : 'active'}${v.limits ? `  limits ${JSON.stringify(v.limits)}` : ''}\n`);
}

/** The repository and its one-word name for a kind. */
function repoOf(store: Store, kind: IdentityKind) {
  const r = ownerRepos(store);
  return kind === 'users' ? r.users : (r.apps as unknown as typeof r.users);
}

export async function findOrFail(store: Store, kind: IdentityKind, idOrName: string) {
  const row = await repoOf(store, kind).get(idOrName);
  if (!row) throw new Error(`No ${kind === 'users' ? 'user' : 'app'} with id or name '${idOrName.slice(0, 60)}'. See keygate ${kind} list.`);
  return row;
}

export function registerIdentityCommands(group: Command, kind: IdentityKind): void {
  const what = kind === 'users' ? 'user' : 'app';

  const create = group.command('create').description(`Create a ${what}`).requiredOption('-n, --name <name>', `the ${what}'s name (unique, no spaces)`);
  if (kind === 'users') create.option('--app <idOrName>', 'the app (or team) this user belongs to');
  addLimitFlags(create).option('--json', 'print JSON');
  create.action(async (opts: IdentityFlags, cmd: Command) => {
    await withStore(cmd, async (store, loaded) => {
      const repo = repoOf(store, kind);
      const body = flagged(() => parseWith(identityCreateSchema, { name: opts.name, limits: limitsFromFlags(opts), ...(opts.app !== undefined ? { appId: opts.app } : {}) }));
      const { appId } = await resolveOwners(ownerRepos(store), { appId: body.appId }).catch(asFlagError);
      if (await repo.get(body.name)) throw new Error(`A ${what} named '${body.name}' already exists.`);
      const row = await repo.create({ name: body.name, limits: body.limits ?? null, appId: appId ?? null });
      await recordCliEvent(store, loaded, { type: 'admin.action', target: row.id, details: { action: `${what}.created`, name: row.name, limits: body.limits ?? null, appId: appId ?? null } });
      printIdentity(identityView(kind, row), opts.json);
    });
  });

  group
    .command('list')
    .description(`List ${kind}`)
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = (await repoOf(store, kind).list()).map((r) => identityView(kind, r));
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) printIdentity(r);
      });
    });

  const update = group.command('update').description(`Change a ${what}: only the options given change (limits are merged)`).argument('<idOrName>').option('-n, --name <name>', 'a new name');
  if (kind === 'users') update.option('--app <idOrName>', 'move the user to this app');
  addLimitFlags(update).option('--clear <fields>', 'remove settings: limits' + (kind === 'users' ? ', app' : '')).option('--json', 'print JSON');
  update.action(async (idOrName: string, opts: IdentityFlags, cmd: Command) => {
    await withStore(cmd, async (store, loaded) => {
      const repo = repoOf(store, kind);
      const row = await findOrFail(store, kind, idOrName);
      const given = limitsFromFlags(opts);
      const raw: Record<string, unknown> = {};
      if (opts.name !== undefined) raw.name = opts.name;
      if (opts.app !== undefined) raw.appId = opts.app;
      if (given) raw.limits = { ...(fromJson<Limits>(row.limits) ?? {}), ...given };
      for (const c of (opts.clear ?? '').split(',').filter(Boolean)) {
        if (c === 'limits' && !given) raw.limits = null;
        else if (c === 'app' && kind === 'users' && opts.app === undefined) raw.appId = null;
        else throw new Error(`--clear: '${c.slice(0, 20)}' cannot be cleared here.`);
      }
      const body = flagged(() => parseWith(identityUpdateSchema, raw));
      if (body.name !== undefined && body.name !== row.name && (await repo.get(body.name))) throw new Error(`A ${what} named '${body.name}' already exists.`);
      const { appId } = await resolveOwners(ownerRepos(store), { appId: body.appId }).catch(asFlagError);
      const updated = await repo.update(row.id, { ...body, appId });
      await recordCliEvent(store, loaded, { type: 'admin.action', target: row.id, details: { action: `${what}.updated`, ...body } });
      if (updated) printIdentity(identityView(kind, updated), opts.json);
    });
  });

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    group
      .command(name)
      .description(disabled ? `Disable a ${what}: its keys and tokens are refused from the next request on` : `Enable a disabled ${what}`)
      .argument('<idOrName>')
      .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
        await withStore(cmd, async (store, loaded) => {
          const row = await findOrFail(store, kind, idOrName);
          await repoOf(store, kind).update(row.id, { disabled });
          await recordCliEvent(store, loaded, { type: 'admin.action', target: row.id, details: { action: `${what}.updated`, disabled } });
          process.stdout.write(`${disabled ? 'Disabled' : 'Enabled'} ${what} ${row.id} (${row.name}).\n`);
        });
      });
  }

  group
    .command('delete')
    .description(`Delete a ${what} that no key${kind === 'apps' ? ' or user' : ''} belongs to`)
    .argument('<idOrName>')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const row = await findOrFail(store, kind, idOrName);
        const keys = await new ApiKeyRepository(store).list(kind === 'users' ? { userId: row.id } : { appId: row.id });
        const users = kind === 'apps' ? (await ownerRepos(store).users.list()).filter((u) => u.app_id === row.id) : [];
        if (keys.length > 0 || users.length > 0) {
          throw new Error(`This ${what} still has ${keys.length} key(s)${kind === 'apps' ? ` and ${users.length} user(s)` : ''}; delete or move them first, or disable the ${what} instead.`);
        }
        await repoOf(store, kind).delete(row.id);
        await recordCliEvent(store, loaded, { type: 'admin.action', target: row.id, details: { action: `${what}.deleted`, name: row.name } });
        process.stdout.write(`Deleted ${what} ${row.id} (${row.name}).\n`);
      });
    });
}

export function registerUsers(program: Command): void {
  registerIdentityCommands(program.command('users').description('Manage users (keys can belong to a user; its limits apply to all its keys)'), 'users');
}
