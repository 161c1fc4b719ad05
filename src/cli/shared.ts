/** Pieces every command uses: the global options, an opened store, the master-key ring, paging flags. */
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { openStore, type Store } from '../store/connect.js';
import { ensureDataDir } from '../config/data-dir.js';
import { MasterKeyRing } from '../keys/index.js';
import { openMasterKey } from '../server/gateway.js';

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

/**
 * The master-key ring a gateway on this data directory opens: the current key and, during a
 * rotation, the other one, so a command reads and writes sealed rows as the gateway does.
 */
export async function openMasterKeyRing(loaded: LoadedConfig): Promise<MasterKeyRing> {
  const ring = new MasterKeyRing(await openMasterKey(loaded.dataDir, process.env), loaded.dataDir);
  await ring.refresh();
  return ring;
}

/** A `--limit` flag's value: a whole number from 1 to `max`. */
export function parseLimit(value: string, max = 500): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new Error(`--limit must be a whole number from 1 to ${max}.`);
  return limit;
}

/** A `--cursor` flag that carries a numeric nextCursor (a sequence or row number), or undefined. */
export function parseNumericCursor(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const cursor = Number(value);
  if (!Number.isInteger(cursor)) throw new Error('--cursor must be the nextCursor of an earlier page.');
  return cursor;
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
