/**
 * keygate's command line. Each command is a small function in its own file; this file only
 * declares them. Errors that a user can fix (config, arguments) print one clear line and
 * exit with status 2; nothing printed here ever contains a secret except a key being created.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { registerServe } from './serve.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerUsers } from './users.js';
import { registerApps } from './apps.js';
import { registerIpRules } from './ip-rules.js';
import { registerGuardPolicies } from './guard-policies.js';
import { registerTokens } from './tokens.js';
import { registerSecrets } from './secrets.js';
import { registerAudit } from './audit.js';
import { registerConfig } from './config.js';
import { registerSplitKeys } from './split-keys.js';
import { registerMasterKey } from './master-key.js';
import { registerOperations } from './operations.js';

export function buildCli(): Command {
  const program = new Command('keygate')
    .description('Self-hosted secure AI gateway')
    .option('-c, --config <file>', 'YAML config file (or KEYGATE_CONFIG)')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerInit(program);
  registerKeys(program);
  registerUsers(program);
  registerApps(program);
  registerIpRules(program);
  registerGuardPolicies(program);
  registerTokens(program);
  registerSecrets(program);
  registerAudit(program);
  registerConfig(program);
  registerSplitKeys(program);
  registerMasterKey(program);
  registerOperations(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof ConfigError) {
      process.stderr.write(`keygate: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`keygate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

await main(process.argv);
