import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { openMasterKey } from '../server/gateway.js';
import { globalConfigFile } from './shared.js';

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('Encrypt values for the environment (enc: values under the master key)');
  secrets
    .command('encrypt')
    .description('Print enc:<Fernet token> for VALUE (or standard input); put it in OPENAI_API_KEY=enc:... and the like')
    .argument('[value]', 'the value; omit it to read standard input (keeps it out of your shell history)')
    .action(async (value: string | undefined, _opts: unknown, cmd: Command) => {
      const loaded = loadConfig({ file: globalConfigFile(cmd) });
      mkdirSync(loaded.dataDir, { recursive: true, mode: 0o700 });
      const key = await openMasterKey(loaded.dataDir, process.env);
      const plain = value ?? (await readStdin());
      if (!plain) throw new Error('Nothing to encrypt: give a value or pipe one on standard input.');
      process.stdout.write(`${key.encryptValue(plain)}\n`);
    });
}
