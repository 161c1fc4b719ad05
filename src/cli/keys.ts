/**
 * `keygate keys`: create (with the same options as POST /admin/keys), list, update, revoke,
 * delete. Also the flags that users and apps share (limits, lists), turned into the same JSON
 * the admin API takes so both are checked by the same code; errors name the flag.
 */
import type { Command } from 'commander';
import { GatewayError } from '../core/errors.js';
import type { Limits } from '../limits/index.js';
import { resolveOwners } from '../server/routes/admin/owners.js';
import { checkKeyFields } from '../server/routes/admin/validation.js';
import { ApiKeyRepository, keyView, type KeyView } from '../store/repositories/api-keys.js';
import { IdentityRepository } from '../store/repositories/identities.js';
import { fromJson } from '../store/repositories/json-column.js';
import type { Store } from '../store/connect.js';
import { withStore } from './shared.js';
import { changed, recordCliEvent, recordCliEvents } from './cli-events.js';
import { registerProviderKeyCommands } from './provider-keys.js';

const LIMIT_FLAGS: ReadonlyArray<[flag: string, field: keyof Limits, help: string]> = [
  ['--rpm <n>', 'rpm', 'requests per minute'],
  ['--tpm <n>', 'tpm', 'tokens per minute'],
  ['--max-parallel <n>', 'maxParallel', 'requests in flight at once'],
  ['--daily-requests <n>', 'dailyRequests', 'requests per day'],
  ['--monthly-requests <n>', 'monthlyRequests', 'requests per month'],
  ['--daily-tokens <n>', 'dailyTokens', 'tokens per day'],
  ['--monthly-tokens <n>', 'monthlyTokens', 'tokens per month'],
  ['--daily-budget <usd>', 'dailyBudgetUsd', 'spend per day, USD'],
  ['--monthly-budget <usd>', 'monthlyBudgetUsd', 'spend per month, USD'],
];

/** `limits.dailyBudgetUsd` -> `--daily-budget`, for error messages. */
const FLAG_OF: Record<string, string> = {
  ...Object.fromEntries(LIMIT_FLAGS.map(([flag, field]) => [`limits.${field}`, flag.split(' ')[0]])),
  scopes: '--scopes',
  models: '--models',
  providers: '--providers',
  routes: '--routes',
  ipAllow: '--ip',
  expiresAt: '--expires',
  expiresIn: '--expires',
  userId: '--user',
  appId: '--app',
  clientId: '--client-id',
  name: '--name',
  cidr: 'CIDR',
};

export function addLimitFlags(cmd: Command): Command {
  for (const [flag, , help] of LIMIT_FLAGS) cmd.option(flag, help);
  return cmd;
}

// Numbers stay numbers; anything else is passed on so the schema says what is wrong with it.
const num = (v: string): number | string => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);

/** The limits given as flags, or undefined when none was. */
export function limitsFromFlags(opts: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [flag, field] of LIMIT_FLAGS) {
    const key = flag.slice(2).split(' ')[0].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[key];
    if (typeof v === 'string') out[field] = num(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export const list = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

/** Runs a check, turning its validation error into one that names the flag. */
export function flagged<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    return asFlagError(err);
  }
}

/** Re-throws a validation error with the flag in place of the JSON field. */
export function asFlagError(err: unknown): never {
  if (err instanceof GatewayError && err.param) {
    const base = err.param.replace(/\[\d+\]$/, '');
    const flag = FLAG_OF[err.param] ?? FLAG_OF[base] ?? `--${base}`;
    const text = err.message.replace(/^Invalid request: /, '').replace(/^'[^']*':? /, '');
    throw new Error(`${flag}: ${text.charAt(0).toLowerCase()}${text.slice(1)}`);
  }
  throw err;
}

export function ownerRepos(store: Store) {
  return { users: new IdentityRepository(store, 'users'), apps: new IdentityRepository(store, 'apps') };
}

interface KeyFlags {
  name?: string;
  user?: string;
  app?: string;
  clientId?: string;
  scopes?: string;
  models?: string;
  providers?: string;
  routes?: string;
  ip?: string;
  expires?: string;
  clear?: string;
  json?: boolean;
  [limit: string]: unknown;
}

const CLEARABLE = ['user', 'app', 'client-id', 'models', 'providers', 'routes', 'ip', 'limits', 'expires'] as const;
const CLEAR_FIELD: Record<(typeof CLEARABLE)[number], string> = {
  user: 'userId',
  app: 'appId',
  'client-id': 'clientId',
  models: 'models',
  providers: 'providers',
  routes: 'routes',
  ip: 'ipAllow',
  limits: 'limits',
  expires: 'expiresAt',
};

/** Flags to the admin API's JSON body. Limits given on update are merged into the key's own. */
function keyBody(o: KeyFlags, currentLimits: Limits | null = null): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (o.name !== undefined) body.name = o.name;
  if (o.user !== undefined) body.userId = o.user;
  if (o.app !== undefined) body.appId = o.app;
  if (o.clientId !== undefined) body.clientId = o.clientId;
  if (o.scopes !== undefined) body.scopes = o.scopes;
  if (o.models !== undefined) body.models = list(o.models);
  if (o.providers !== undefined) body.providers = list(o.providers);
  if (o.routes !== undefined) body.routes = list(o.routes);
  if (o.ip !== undefined) body.ipAllow = list(o.ip);
  if (o.expires !== undefined) body.expiresIn = o.expires;
  const limits = limitsFromFlags(o);
  if (limits) body.limits = { ...(currentLimits ?? {}), ...limits };
  for (const c of list(o.clear) ?? []) {
    if (!(CLEARABLE as readonly string[]).includes(c)) throw new Error(`--clear: '${c.slice(0, 20)}' cannot be cleared; use ${CLEARABLE.join(', ')}.`);
    const field = CLEAR_FIELD[c as (typeof CLEARABLE)[number]];
    if (body[field] !== undefined || (c === 'expires' && body.expiresIn !== undefined)) throw new Error(`--clear ${c} contradicts the value given for it.`);
    body[field] = null;
  }
  return body;
}

function addKeyFlags(cmd: Command): Command {
  cmd
    .option('--user <idOrName>', 'the user this key belongs to (its limits apply too)')
    .option('--app <idOrName>', 'the app this key belongs to (its limits apply too)')
    .option('--client-id <id>', 'client id reported in audit records (default: the name)')
    .option('--models <list>', 'allowed models, comma-separated; * is a wildcard (gpt-4o*, openai/*)')
    .option('--providers <list>', 'allowed providers, comma-separated; * is a wildcard')
    .option('--routes <list>', 'allowed routes, comma-separated; * is a wildcard (/v1/chat/completions, /anthropic/*)')
    .option('--ip <list>', 'addresses or CIDR ranges this key may be used from, comma-separated')
    .option('--expires <duration>', 'lifetime such as 30d, 12h or 4w (default: no expiry)');
  return addLimitFlags(cmd);
}

function printKey(v: KeyView, json?: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
    return;
  }
  const extra = [v.userId && `user ${v.userId}`, v.appId && `app ${v.appId}`, v.models && `models ${v.models.join(',')}`, v.routes && `routes ${v.routes.join(',')}`, v.ipAllow && `ip ${v.ipAllow.join(',')}`, v.limits && `limits ${JSON.stringify(v.limits)}`, v.expiresAt && `expires ${v.expiresAt}`]
    .filter(Boolean)
    .join(', ');
  process.stdout.write(`${v.id}  ${v.name}  ${v.prefix}  ${v.scopes.join(',')}  ${v.status}${extra ? `  (${extra})` : ''}\n`);
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Manage keygate keys (the credentials clients use)');
  registerProviderKeyCommands(keys); // keys rotate <provider>, keys migrate --from-env: provider keys

  addKeyFlags(
    keys
      .command('create')
      .description('Create a key; it is printed once and stored only as a hash')
      .requiredOption('-n, --name <name>', 'a name for the key, e.g. the app using it')
      .option('--scopes <list>', 'comma-separated scopes: read, write, admin', 'read,write')
      .option('--json', 'print the key and its settings as JSON'),
  ).action(async (opts: KeyFlags, cmd: Command) => {
    await withStore(cmd, async (store, loaded) => {
      const fields = await resolveOwners(ownerRepos(store), flagged(() => checkKeyFields(keyBody(opts), 'create'))).catch(asFlagError);
      const { record, key } = await new ApiKeyRepository(store).create({ ...fields, name: fields.name as string });
      await recordCliEvent(store, loaded, { type: 'key.created', target: record.id, details: changed(fields) });
      if (opts.json) process.stdout.write(`${JSON.stringify({ key, ...keyView(record) }, null, 2)}\n`);
      else process.stdout.write(`Created key ${record.id} (${record.name}, scopes ${record.scopes}). It is shown once:\n\n  ${key}\n\n`);
    });
  });

  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('--user <idOrName>', 'only the keys of this user')
    .option('--app <idOrName>', 'only the keys of this app')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; user?: string; app?: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const owners = await resolveOwners(ownerRepos(store), { userId: opts.user, appId: opts.app }).catch(asFlagError);
        const rows = (await new ApiKeyRepository(store).list({ userId: owners.userId ?? undefined, appId: owners.appId ?? undefined })).map((r) => keyView(r));
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) printKey(r);
      });
    });

  addKeyFlags(
    keys
      .command('update')
      .description('Change a key: only the options given change (limits are merged into the key\'s own)')
      .argument('<id>')
      .option('-n, --name <name>', 'a new name')
      .option('--scopes <list>', 'comma-separated scopes: read, write, admin')
      .option('--clear <fields>', `remove settings: ${CLEARABLE.join(', ')}`)
      .option('--json', 'print JSON'),
  ).action(async (id: string, opts: KeyFlags, cmd: Command) => {
    await withStore(cmd, async (store, loaded) => {
      const repo = new ApiKeyRepository(store);
      const record = await repo.findById(id);
      if (!record) throw new Error(`No key with id '${id.slice(0, 60)}'. See keygate keys list.`);
      const fields = await resolveOwners(ownerRepos(store), flagged(() => checkKeyFields(keyBody(opts, fromJson<Limits>(record.limits)), 'update'))).catch(asFlagError);
      const updated = await repo.update(record.id, fields);
      await recordCliEvent(store, loaded, { type: 'key.updated', target: record.id, details: changed(fields) });
      if (updated) printKey(keyView(updated), opts.json);
    });
  });

  keys
    .command('revoke')
    .description('Revoke a key by id or name; it is refused from the next request on')
    .argument('<idOrName>')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const repo = new ApiKeyRepository(store);
        // The keys this revokes (by id, or every active key of that name), for their audit records.
        const revoked = await repo.revokeListing(idOrName);
        const n = revoked.length;
        if (n === 0) throw new Error(`No active key with id or name '${idOrName.slice(0, 60)}'. See keygate keys list.`);
        await recordCliEvents(store, loaded, revoked.map((r) => ({ type: 'key.revoked' as const, target: r.id, details: { name: r.name } })));
        process.stdout.write(`Revoked ${n} key${n > 1 ? 's' : ''}.\n`);
      });
    });

  keys
    .command('delete')
    .description('Delete a key for good (revoke keeps it listed)')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const repo = new ApiKeyRepository(store);
        const record = await repo.findById(id);
        if (!record || !(await repo.delete(id))) throw new Error(`No key with id '${id.slice(0, 60)}'. See keygate keys list.`);
        await recordCliEvent(store, loaded, { type: 'key.deleted', target: record.id, details: { name: record.name } });
        process.stdout.write(`Deleted key ${id}.\n`);
      });
    });
}
