/**
 * `keygate split-key`: create and rotate (the provider key from standard input, so it stays out
 * of shell history and `ps`), list, revoke. The client part is printed once, at creation or
 * rotation.
 */
import type { Command } from 'commander';
import { SplitKeyRepository, SplitKeyService, splitKeyView, type SplitKeyView } from '../byok/index.js';
import { isSplitKeyId, SecretString } from '../crypto/index.js';
import { ProviderRegistry } from '../providers/registry.js';
import { EventBus } from '../server/events.js';
import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../store/connect.js';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { IdentityRepository } from '../store/repositories/identities.js';
import { openMasterKeyRing, withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste the provider key, then press Enter and Ctrl-D:\n');
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8').trim();
}

/**
 * The owner id a caller would have on the API: a key's user if it has one, else the key; or a
 * user given by id or name.
 */
async function resolveOwner(store: Store, ref: string): Promise<string> {
  const key = await new ApiKeyRepository(store).findById(ref);
  if (key) return key.user_id ?? key.id;
  const user = await new IdentityRepository(store, 'users').get(ref);
  if (user) return user.id;
  throw new Error(`--owner: no key with id '${ref.slice(0, 100)}' and no user with that id or name.`);
}

/** The provider key from standard input, checked like the API checks it. */
async function readProviderKey(usage: string): Promise<SecretString> {
  const plain = await readStdin();
  if (!plain) throw new Error(`No provider key on standard input: pipe it in, e.g. ${usage} < key.txt`);
  if (!/^[\x21-\x7e]+$/.test(plain) || plain.length > 4096) throw new Error('The provider key must be one line of printable characters without spaces.');
  return SecretString.from(plain);
}

/** The service over the master-key ring, so it works during a master-key rotation too. */
async function service(store: Store, loaded: LoadedConfig): Promise<SplitKeyService> {
  return new SplitKeyService({ store, masterKey: await openMasterKeyRing(loaded), events: new EventBus() });
}

function printCreated(verb: string, out: { id: string; client_part: string; provider: string; owner: string }, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else
    process.stdout.write(
      `${verb} split key ${out.id} (${out.provider}, owner ${out.owner}). The client part is shown once; the server does not keep it:\n\n` +
        `  X-Partial-Key-Id: ${out.id}\n  X-Partial-Key:    ${out.client_part}\n\n`,
    );
}

function print(v: SplitKeyView): void {
  const used = v.last_used_at ? `last used ${v.last_used_at}` : 'never used';
  process.stdout.write(`${v.id}  ${v.provider}  owner ${v.owner}  ${v.status}  created ${v.created_at}  ${used}  uses ${v.use_count}\n`);
}

export function registerSplitKeys(program: Command): void {
  const cmd = program.command('split-key').description("Manage BYOK split keys (users' own provider keys, split between server and client)");

  cmd
    .command('create')
    .description('Split a provider key read from standard input; prints the id and the client part once')
    .requiredOption('--owner <keyIdOrUser>', 'the keygate key id (or user id or name) that will use it')
    .requiredOption('--provider <id>', 'the provider the key is for, e.g. openai')
    .option('--json', 'print JSON')
    .action(async (opts: { owner: string; provider: string; json?: boolean }, c: Command) => {
      await withStore(c, async (store, loaded) => {
        const registry = new ProviderRegistry(loaded.config, process.env, () => null);
        if (!registry.get(opts.provider)) throw new Error(`--provider: '${opts.provider.slice(0, 64)}' is not a provider this gateway serves (${registry.all().map((p) => p.id).join(', ')}).`);
        const ownerId = await resolveOwner(store, opts.owner);
        const key = await readProviderKey('keygate split-key create ...');
        const made = await (await service(store, loaded)).create({ ownerId, provider: opts.provider, key });
        await recordCliEvent(store, loaded, { type: 'admin.action', target: made.row.key_id, details: { action: 'split_key.created', provider: made.row.provider, owner: ownerId } });
        const out = { id: made.row.key_id, client_part: made.clientPart, provider: made.row.provider, owner: ownerId, created_at: new Date(made.row.created_at).toISOString() };
        printCreated('Created', out, opts.json);
      });
    });

  cmd
    .command('list')
    .description('List split keys (never any key material)')
    .option('--owner <keyIdOrUser>', 'only the split keys of this owner')
    .option('--json', 'print JSON')
    .action(async (opts: { owner?: string; json?: boolean }, c: Command) => {
      await withStore(c, async (store) => {
        const owner = opts.owner === undefined ? undefined : await resolveOwner(store, opts.owner);
        const rows = (await new SplitKeyRepository(store).list(owner)).map(splitKeyView);
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) print(r);
      });
    });

  cmd
    .command('rotate')
    .description('Replace the provider key of a split key (read from standard input): a new id and client part, printed once; the old pair stops working at once')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, c: Command) => {
      await withStore(c, async (store, loaded) => {
        const row = isSplitKeyId(id) ? await new SplitKeyRepository(store).find(id) : undefined;
        if (!row) throw new Error(`No split key with id '${id.slice(0, 100)}'.`);
        if (row.revoked_at !== null) throw new Error(`Split key ${row.key_id} is revoked; create a new one instead.`);
        const key = await readProviderKey(`keygate split-key rotate ${row.key_id}`);
        const made = await (await service(store, loaded)).rotate(row, key);
        if (!made) throw new Error(`Split key ${row.key_id} changed while rotating (revoked or rotated elsewhere); list it and try again.`);
        await recordCliEvent(store, loaded, { type: 'admin.action', target: row.key_id, details: { action: 'split_key.rotated', provider: row.provider, owner: row.owner_id, replacedBy: made.row.key_id } });
        const out = { id: made.row.key_id, replaced: row.key_id, client_part: made.clientPart, provider: made.row.provider, owner: made.row.owner_id, created_at: new Date(made.row.created_at).toISOString() };
        printCreated(`Rotated ${row.key_id} ->`, out, opts.json);
      });
    });

  cmd
    .command('revoke')
    .description('Revoke a split key: refused from the very next request on')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, c: Command) => {
      await withStore(c, async (store, loaded) => {
        const keys = new SplitKeyRepository(store);
        const row = isSplitKeyId(id) ? await keys.find(id) : undefined;
        if (!row) throw new Error(`No split key with id '${id.slice(0, 100)}'.`);
        const revoked = await keys.revoke(row.key_id);
        if (revoked) await recordCliEvent(store, loaded, { type: 'admin.action', target: row.key_id, details: { action: 'split_key.revoked', provider: row.provider, owner: row.owner_id } });
        process.stdout.write(revoked ? `Revoked split key ${row.key_id}.\n` : `Split key ${row.key_id} was already ${splitKeyView(row).status}.\n`);
      });
    });
}
