import type { Command } from 'commander';
import { reloadTokenKeyring } from '../auth/token-keyring-source.js';
import { startGateway } from '../server/gateway.js';
import { globalConfigFile, printAdminKey } from './shared.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the gateway (SQLite and in-process limits by default; no other service needed)')
    .option('-p, --port <port>', 'port to listen on (or KEYGATE_PORT; default 8787)')
    .option('-H, --host <host>', 'address to bind (or KEYGATE_HOST; default 127.0.0.1)')
    .action(async (opts: { port?: string; host?: string }, cmd: Command) => {
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
        throw new Error(`--port must be a whole number from 0 to 65535, got '${String(opts.port).slice(0, 20)}'.`);
      }
      const gw = await startGateway({ file: globalConfigFile(cmd), overrides: { host: opts.host, port }, onFirstAdminKey: printAdminKey });
      gw.ctx.logger.info({ url: gw.url, keyMode: gw.ctx.config.keyMode, store: gw.ctx.store.dialect }, 'keygate listening');
      const exposed = authOffWarning(gw.ctx.config.auth.enabled, gw.ctx.config.server.host, gw.ctx.providerKeys.providers());
      if (exposed) {
        gw.ctx.logger.warn({ host: gw.ctx.config.server.host }, exposed);
        process.stderr.write(`\n  keygate: WARNING: ${exposed}\n\n`);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        gw.ctx.logger.info({ signal }, 'shutting down: draining in-flight requests');
        gw.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      // SIGHUP: re-read remote secret backends (past their cache) and master key files, reload the key pools.
      process.on('SIGHUP', () => {
        gw.ctx.providerKeys.reload({ refresh: true }).then(
          (rotated) => gw.ctx.logger.info({ rotated: rotated.map((r) => `${r.provider}/${r.keyId}`), backend: gw.ctx.providerKeys.status() }, 'SIGHUP: provider keys reloaded'),
          (err: unknown) => gw.ctx.logger.error({ err }, 'SIGHUP: provider keys could not be reloaded; the last good keys are still served'),
        );
        // The token signing keyring too (after `keygate tokens rotate`): a bad file keeps the old one.
        try {
          const current = reloadTokenKeyring(gw.ctx.tokens, gw.loaded.dataDir, process.env);
          gw.ctx.logger.info({ current }, 'SIGHUP: token signing keyring reloaded');
        } catch (err) {
          gw.ctx.logger.error({ err }, 'SIGHUP: token signing keyring could not be reloaded; the old one is still used');
        }
      });
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}

/**
 * Auth off is for a gateway only this machine can reach. Bound to another address while it
 * holds provider keys, anyone who can reach it spends them: said loudly at start.
 */
export function authOffWarning(authEnabled: boolean, host: string, keyedProviders: readonly string[]): string | null {
  if (authEnabled || keyedProviders.length === 0 || isLoopbackHost(host)) return null;
  return `gateway authentication is OFF (KEYGATE_AUTH=off or auth.enabled: false) on ${host}, which other machines can reach, and the gateway holds provider keys (${keyedProviders.join(', ')}): anyone who reaches it spends them. Turn auth on, or bind to 127.0.0.1.`;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
