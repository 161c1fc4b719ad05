/** `keygate apps`: the user commands, plus `secret`, which prints a new app secret once. */
import type { Command } from 'commander';
import { newAppSecret } from '../server/routes/admin/app-secrets.js';
import { ownerRepos } from './keys.js';
import { withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';
import { findOrFail, registerIdentityCommands } from './users.js';

export function registerApps(program: Command): void {
  const apps = program.command('apps').description('Manage apps (or teams): their limits apply to all their users and keys');
  registerIdentityCommands(apps, 'apps');

  apps
    .command('secret')
    .description('Give an app a new secret (for POST /auth/token); it is printed once, the old one stops working')
    .argument('<idOrName>')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const row = await findOrFail(store, 'apps', idOrName);
        const { secret, hash } = newAppSecret();
        await ownerRepos(store).apps.update(row.id, { secretHash: hash });
        await recordCliEvent(store, loaded, { type: 'admin.action', target: row.id, details: { action: 'app.secret_rotated', name: row.name } });
        process.stdout.write(`New secret for app ${row.id} (${row.name}). It is shown once:\n\n  ${secret}\n\n`);
      });
    });
}
