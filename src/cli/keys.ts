import type { Command } from 'commander';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { withStore } from './shared.js';

const SCOPES = new Set(['read', 'write', 'admin']);

function parseScopes(value: string): string[] {
  const scopes = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = scopes.find((s) => !SCOPES.has(s));
  if (bad) throw new Error(`--scopes: unknown scope '${bad.slice(0, 20)}'; use read, write and/or admin.`);
  return scopes;
}

function parseDuration(value: string): number {
  const m = /^(\d+)([mhdw])$/.exec(value);
  if (!m) throw new Error(`--expires must look like 30m, 12h, 30d or 4w; got '${value.slice(0, 20)}'.`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Manage keygate keys (the credentials clients use)');

  keys
    .command('create')
    .description('Create a key; it is printed once and stored only as a hash')
    .requiredOption('-n, --name <name>', 'a name for the key, e.g. the app using it')
    .option('--scopes <list>', 'comma-separated scopes: read, write, admin', 'read,write')
    .option('--expires <duration>', 'lifetime such as 30d or 12h (default: no expiry)')
    .action(async (opts: { name: string; scopes: string; expires?: string }, cmd: Command) => {
      const scopes = parseScopes(opts.scopes);
      const expiresAt = opts.expires ? Date.now() + parseDuration(opts.expires) : null;
      await withStore(cmd, async (store) => {
        const { record, key } = await new ApiKeyRepository(store).create({ name: opts.name, scopes, expiresAt });
        process.stdout.write(`Created key ${record.id} (${record.name}, scopes ${record.scopes}). It is shown once:\n\n  ${key}\n\n`);
      });
    });

  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = (await new ApiKeyRepository(store).list()).map((r) => ({
          id: r.id,
          name: r.name,
          prefix: `${r.key_prefix}...`,
          scopes: r.scopes,
          created: new Date(r.created_at).toISOString(),
          status: r.revoked_at ? 'revoked' : r.expires_at && r.expires_at <= Date.now() ? 'expired' : 'active',
        }));
        if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else for (const r of rows) process.stdout.write(`${r.id}  ${r.name.padEnd(16)} ${r.prefix}  ${r.scopes.padEnd(16)} ${r.status}\n`);
      });
    });

  keys
    .command('revoke')
    .description('Revoke a key by id or name; it is refused from the next request on')
    .argument('<idOrName>')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const n = await new ApiKeyRepository(store).revoke(idOrName);
        if (n === 0) throw new Error(`No active key with id or name '${idOrName.slice(0, 60)}'. See keygate keys list.`);
        process.stdout.write(`Revoked ${n} key${n > 1 ? 's' : ''}.\n`);
      });
    });
}
