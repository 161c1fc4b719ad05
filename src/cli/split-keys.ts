/**
 * `keygate split-key`: create (the provider key from standard input, so it stays out of shell
 * history and `ps`), list, revoke. The client part is printed once, at creation.
 */
import type { Command } from 'commander';
import { SplitKeyRepository, SplitKeyService, splitKeyView, type SplitKeyView } from '../byok/index.js';
import { isSplitKeyId, SecretString } from '../crypto/index.js';
import { ProviderRegistry } from '../providers/registry.js';
import { openMasterKey } from '../server/gateway.js';
import { EventBus } from '../server/events.js';
import type { Store } from '../store/connect.js';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { IdentityRepository } from '../store/repositories/identities.js';
import { withStore } from './shared.js';

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
        const plain = await readStdin();
        if (!plain) throw new Error('No provider key on standard input: pipe it in, e.g. keygate split-key create ... < key.txt');
        if (!/^[\x21-\x7e]+$/.test(plain) || plain.length > 4096) throw new Error('The provider key must be one line of printable characters without spaces.');
        const masterKey = await openMasterKey(loaded.dataDir, process.env);
        const made = await new SplitKeyService({ store, masterKey, events: new EventBus() }).create({ ownerId, provider: opts.provider, key: SecretString.from(plain) });
        const out = { id: made.row.key_id, client_part: made.clientPart, provider: made.row.provider, owner: ownerId, created_at: new Date(made.row.created_at).toISOString() };
        if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        else
          process.stdout.write(
            `Created split key ${out.id} (${out.provider}, owner ${ownerId}). The client part is shown once; the server does not keep it:\n\n` +
              `  X-Partial-Key-Id: ${out.id}\n  X-Partial-Key:    ${out.client_part}\n\n`,
          );
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
    .command('revoke')
    .description('Revoke a split key: refused from the very next request on')
    .argument('<id>')
    .action(async (id: string, _opts: unknown, c: Command) => {
      await withStore(c, async (store) => {
        const keys = new SplitKeyRepository(store);
        const row = isSplitKeyId(id) ? await keys.find(id) : undefined;
        if (!row) throw new Error(`No split key with id '${id.slice(0, 100)}'.`);
        const revoked = await keys.revoke(row.key_id);
        process.stdout.write(revoked ? `Revoked split key ${row.key_id}.\n` : `Split key ${row.key_id} was already ${splitKeyView(row).status}.\n`);
      });
    });
}
