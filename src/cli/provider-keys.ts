/**
 * Provider keys from the command line, under `keygate keys`:
 *   rotate <provider>   the new key from standard input (out of shell history and `ps`), written
 *                       to the secret backend as the provider's current key; running gateways
 *                       pick it up (poll or SIGHUP), drain the old key and retire it;
 *   migrate --from-env  plaintext keys from the environment / .env into the backend.
 * Nothing printed here contains a key: masks (`sk-...abcd`) only.
 */
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.js';
import { SecretString } from '../crypto/secret-string.js';
import { createSecretBackend, providerKeySources } from '../keys/index.js';
import { ProviderRegistry } from '../providers/registry.js';
import { assertSecretName, type SecretBackend } from '../secrets/backend.js';
import { formatMigration, migrateFromEnv } from '../secrets/migrate.js';
import type { Store } from '../store/connect.js';
import { openMasterKeyRing, withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste the new provider key, then press Enter and Ctrl-D:\n');
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8').trim();
}

/** The configured backend, as the gateway builds it (store rows under the same master key). */
async function withBackend<T>(cmd: Command, fn: (backend: SecretBackend, loaded: LoadedConfig, store: Store) => Promise<T>): Promise<T> {
  return withStore(cmd, async (store: Store, loaded) => {
    const ring = await openMasterKeyRing(loaded);
    const decryptEnc = (value: string, varName: string) => ring.decryptValue(value, varName);
    return fn(createSecretBackend(loaded.config.secrets, { store, ring, env: process.env, decryptEnc }), loaded, store);
  });
}

export function registerProviderKeyCommands(keys: Command): void {
  keys
    .command('providers')
    .description('Provider keys this data directory has: names and masks only (what GET /admin/provider-keys shows of a running gateway)')
    .action(async (_opts: unknown, cmd: Command) => {
      await withBackend(cmd, async (backend, loaded) => {
        const out: Array<{ provider: string; source: string; name: string; masked: string }> = [];
        const registry = new ProviderRegistry(loaded.config, process.env, () => null);
        const known = new Set(registry.all().map((p) => p.id));
        if (backend.capabilities.list) {
          for (const name of await backend.list()) {
            const provider = name.split('.')[0];
            if (!known.has(provider)) continue;
            out.push({ provider, source: backend.name, name, masked: (await backend.get(name)).masked });
          }
        }
        for (const p of providerKeySources(loaded.config, registry)) {
          const v = p.envVar ? process.env[p.envVar] : undefined;
          if (v) out.push({ provider: p.id, source: 'env', name: p.envVar as string, masked: SecretString.from(v).masked });
        }
        process.stdout.write(`${JSON.stringify({ backend: backend.name, keys: out }, null, 2)}\n`);
      });
    });

  keys
    .command('rotate <provider>')
    .description("Rotate a provider's key without restart: the new key is read from standard input")
    .action(async (provider: string, _opts: unknown, cmd: Command) => {
      assertSecretName(provider);
      const plain = await readStdin();
      if (plain.length < 8 || /\s/.test(plain)) throw new Error('Give the new key on standard input: one line, no spaces (e.g. `keygate keys rotate openai < new-key.txt`).');
      const key = SecretString.from(plain);
      await withBackend(cmd, async (backend, loaded, store) => {
        if (!backend.capabilities.write) {
          throw new Error(`The ${backend.name} secret backend is read-only: set the new key in the environment and restart, or set secrets.backend to store (the default).`);
        }
        let old: SecretString | null = null;
        try {
          old = await backend.get(provider);
        } catch {
          old = null; // nothing yet under this name (e.g. the key came from OPENAI_API_KEY)
        }
        if (old?.equals(key)) {
          process.stdout.write(`${provider}: the ${backend.name} backend already holds this key (${key.masked}); nothing changed.\n`);
          return;
        }
        await backend.put(provider, key);
        const back = await backend.get(provider);
        if (!back.equals(key)) throw new Error(`${provider}: the key read back from the ${backend.name} backend differs; the rotation is not confirmed.`);
        await recordCliEvent(store, loaded, { type: 'key.rotated', target: provider, details: { provider, backend: backend.name, replaced: old !== null } });
        const when = backend.name === 'store' && loaded.config.secrets.reloadIntervalMs > 0 ? `within ${loaded.config.secrets.reloadIntervalMs / 1000} s` : 'on SIGHUP (kill -HUP <pid>)';
        process.stdout.write(
          [
            `${provider}: new key ${key.masked} stored in the ${backend.name} backend${old ? ` (replaces ${old.masked})` : ''}.`,
            `Running gateways switch to it ${when}: new requests use it, requests in flight finish on the old key, which is then retired.`,
            'Revoke the old key at the provider once GET /admin/provider-keys no longer lists it.',
          ].join('\n') + '\n',
        );
      });
    });

  keys
    .command('migrate')
    .description('Move plaintext provider keys from the environment and .env into the secret backend')
    .requiredOption('--from-env', "read each provider's key variable as the config names it (OPENAI_API_KEY, providers.<id>.apiKeyEnv, custom providers' apiKeyEnv ...; numbered variants too)")
    .option('--dry-run', 'show the plan; write nothing')
    .option('--env-file <path>', '.env file to read', '.env')
    .option('--overwrite', 'replace a different value already in the backend')
    .action(async (opts: { dryRun?: boolean; envFile: string; overwrite?: boolean }, cmd: Command) => {
      await withBackend(cmd, async (backend, loaded, store) => {
        // The variables this gateway's config reads (apiKeyEnv overrides, custom providers, OLLAMA_API_KEY ...).
        const providerVars = providerKeySources(loaded.config, new ProviderRegistry(loaded.config, process.env, () => null)).flatMap((p) => (p.envVar ? [{ provider: p.id, envVar: p.envVar }] : []));
        const result = await migrateFromEnv({ env: process.env, dotenvPath: opts.envFile, backend, dryRun: opts.dryRun === true, overwrite: opts.overwrite === true, providerVars });
        const migrated = result.steps.filter((s) => s.status === 'migrated').length;
        if (!result.dryRun && migrated > 0) await recordCliEvent(store, loaded, { type: 'admin.action', target: backend.name, details: { action: 'provider_keys.migrated', migrated } });
        const text = formatMigration(result);
        process.stdout.write(`${text || 'nothing to migrate: no provider key variable found'}\n`);
        if (!result.dryRun && (result.toDelete.env.length || result.toDelete.dotenv.length)) {
          process.stdout.write(`Then send SIGHUP to running gateways (or restart them); keys in the ${backend.name} backend take precedence over variables of the same name.\n`);
        }
        if (result.steps.some((s) => s.status === 'failed' || s.status === 'conflict')) process.exitCode = 1;
      });
    });
}
