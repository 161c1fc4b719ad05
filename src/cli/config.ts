import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { redactJson } from '../core/redact.js';
import { globalConfigFile } from './shared.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('The effective configuration');
  config
    .command('show')
    .description('Print the configuration in effect (file + environment + defaults), including the shield defaults')
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const loaded = loadConfig({ file: globalConfigFile(cmd) });
      // The config holds no keys, but a URL may carry credentials: mask anything key-shaped.
      const shown = redactJson({ ...loaded.config, dataDir: loaded.dataDir, database: { url: loaded.databaseUrl.replace(/\/\/[^@/]*@/, '//***@') } });
      process.stdout.write(opts.json ? `${JSON.stringify(shown, null, 2)}\n` : stringify(shown));
    });
}
