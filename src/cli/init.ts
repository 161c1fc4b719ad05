import type { Command } from 'commander';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { openMasterKey } from '../server/gateway.js';
import { printAdminKey, withStore } from './shared.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Create the data directory and database, and the first admin key (what `serve` does on first start)')
    .action(async (_opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const master = await openMasterKey(loaded.dataDir, process.env);
        process.stdout.write(`Master key ${master.id} (${master.source === 'key-file' ? `file ${loaded.dataDir}/master.key, mode 0600` : master.source}).\n`);
        const repo = new ApiKeyRepository(store);
        if ((await repo.count()) > 0) {
          process.stdout.write(`keygate is already initialised in ${loaded.dataDir} (${store.dialect}); keys exist.\n`);
          return;
        }
        const { key } = await repo.create({ name: 'admin', scopes: ['admin', 'read', 'write'] });
        process.stdout.write(`Initialised ${loaded.dataDir} (${store.dialect}).\n`);
        printAdminKey(key);
      });
    });
}
