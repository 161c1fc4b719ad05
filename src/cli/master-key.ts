/**
 * `keygate master-key rotate`: a new master key; every envelope-sealed value in the database
 * re-wrapped under it in one transaction; the new key installed as master.key (key-file
 * setups) or left in master.key.new for the operator to move into KEYGATE_MASTER_KEY; the old
 * key kept as master.key.previous until the next start on the new key confirms the switch.
 * Running gateways keep serving: they re-read these files and open values under either key.
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { generateMasterKey, loadMasterKey, MASTER_KEY_ENV, MASTER_KEY_FILE, MASTER_PASSPHRASE_ENV, MasterKey } from '../crypto/index.js';
import { MasterKeyRing, NEW_MASTER_KEY_FILE, PREVIOUS_MASTER_KEY_FILE, rewrapDatabase } from '../keys/index.js';
import { openStore } from '../store/connect.js';
import { globalConfigFile } from './shared.js';
import { recordCliEvent } from './cli-events.js';

/** Replaces a file with owner-only content (unlink first: a mode applies only on creation). */
async function writeSecretFile(path: string, text: string): Promise<void> {
  await unlink(path).catch(() => undefined);
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
}

export function registerMasterKey(program: Command): void {
  const mk = program.command('master-key').description('Manage the master key that seals stored secrets');
  mk.command('rotate')
    .description('Generate a new master key and re-wrap every stored secret under it (the gateway keeps serving)')
    .action(async (_opts: unknown, cmd: Command) => {
      const loaded = loadConfig({ file: globalConfigFile(cmd) });
      const dir = loaded.dataDir;
      const { key: current } = await loadMasterKey({ dataDir: dir, env: process.env, createIfMissing: false });
      const ring = new MasterKeyRing(current, dir);
      await ring.refresh();
      const nextText = generateMasterKey();
      const next = MasterKey.fromFernetKey(nextText);
      const oldText =
        current.source === 'key-file' ? (await readFile(join(dir, MASTER_KEY_FILE), 'utf8')).trim() : current.source === 'env-key' ? process.env[MASTER_KEY_ENV]!.trim() : null;

      // Both keys on disk before any row changes, so every process can open every row throughout.
      const newPath = join(dir, NEW_MASTER_KEY_FILE);
      const prevPath = join(dir, PREVIOUS_MASTER_KEY_FILE);
      await writeSecretFile(newPath, `${nextText}\n`);
      if (oldText) await writeSecretFile(prevPath, `${oldText}\n`);
      const store = await openStore(loaded.databaseUrl);
      let report;
      try {
        report = await rewrapDatabase(store, ring.openingKeys(), next.envelopeKey());
      } catch (err) {
        // The transaction rolled back: nothing changed; remove the unused key.
        await unlink(newPath).catch(() => undefined);
        await store.close();
        throw err;
      }
      try {
        // After the commit: a failure here must not undo the switch (the rows are re-wrapped).
        await recordCliEvent(store, loaded, { type: 'key.rotated', target: 'master-key', details: { from: current.id, to: next.id, rewrapped: report.reduce((n, r) => n + r.rewrapped, 0) } });
      } finally {
        await store.close();
      }
      if (current.source === 'key-file') await rename(newPath, join(dir, MASTER_KEY_FILE));

      const out = [`master key rotated: ${current.id} -> ${next.id}`];
      for (const r of report) out.push(`  ${r.table}: ${r.rewrapped} re-wrapped${r.alreadyCurrent ? `, ${r.alreadyCurrent} already current` : ''}`);
      if (current.source === 'key-file') {
        out.push(`The new key is in ${join(dir, MASTER_KEY_FILE)}; the old one stays in ${prevPath} until the next start confirms the switch.`);
      } else {
        const was = current.source === 'env-key' ? MASTER_KEY_ENV : MASTER_PASSPHRASE_ENV;
        out.push(
          `Your master key comes from ${was}: set ${MASTER_KEY_ENV} to the content of ${newPath} in your secret store` +
            (current.source === 'passphrase' ? ` and remove ${MASTER_PASSPHRASE_ENV} (a passphrase cannot be rotated to; the new key is random)` : '') +
            `, restart each instance, then delete ${newPath}.`,
        );
        if (!oldText) out.push('Restart soon: values written by a running gateway before its restart are sealed under the old key, which is not kept on disk for a passphrase.');
      }
      out.push('enc: values in the environment were made under the old key: re-encrypt them with `keygate secrets encrypt` under the new key (until then they open with master.key.previous).');
      out.push('Running gateways keep serving (they open values under either key); restart them to seal new values under the new key.');
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
