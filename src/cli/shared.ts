/** Pieces every command uses: the global options and an opened store. */
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { openStore, type Store } from '../store/connect.js';
import { ensureDataDir } from '../config/data-dir.js';

export function globalConfigFile(cmd: Command): string | undefined {
  return (cmd.optsWithGlobals() as { config?: string }).config;
}

export async function withStore<T>(cmd: Command, fn: (store: Store, loaded: LoadedConfig) => Promise<T>): Promise<T> {
  const loaded = loadConfig({ file: globalConfigFile(cmd) });
  const loose = ensureDataDir(loaded.dataDir);
  if (loose) process.stderr.write(`keygate: ${loose}\n`);
  const store = await openStore(loaded.databaseUrl);
  try {
    return await fn(store, loaded);
  } finally {
    await store.close();
  }
}

export function printAdminKey(key: string): void {
  process.stdout.write(
    [
      '',
      '  keygate: first start, an admin key was created. It is shown once and never again:',
      '',
      `    ${key}`,
      '',
      '  Store it in your secret manager. Create app keys with: keygate keys create --name app1',
      '',
    ].join('\n') + '\n',
  );
}
