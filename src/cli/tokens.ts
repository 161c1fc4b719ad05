/**
 * `keygate tokens`: issue a signed token for a key or an app (same rules as POST /auth/token),
 * revoke one by jti or by the token itself, rotate the signing secret.
 */
import type { Command } from 'commander';
import { SignedTokenService } from '../auth/signed-tokens.js';
import { SigningKeyring } from '../auth/signing-keys.js';
import { loadTokenKeyring, rotateTokenKeyring } from '../auth/token-keyring-source.js';
import { isSignedToken } from '../auth/credentials.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { mkdirSync } from 'node:fs';
import { issueFor, revocationTarget, type TokenHolder } from '../server/routes/admin/token-ops.js';
import { durationMs } from '../server/routes/admin/validation.js';
import { ApiKeyRepository } from '../store/repositories/api-keys.js';
import { RevokedTokenRepository } from '../store/repositories/revoked-tokens.js';
import { asFlagError, ownerRepos } from './keys.js';
import { globalConfigFile, withStore } from './shared.js';
import { recordCliEvent } from './cli-events.js';

function tokenService(loaded: LoadedConfig): SignedTokenService {
  const t = loaded.config.auth.tokens;
  return new SignedTokenService({
    keyring: new SigningKeyring(loadTokenKeyring(loaded.dataDir, process.env)),
    defaultTtlSeconds: t.ttlSeconds,
    maxTtlSeconds: t.maxTtlSeconds,
    issuer: t.issuer,
  });
}

function seconds(flag: string, text: string): number {
  const ms = durationMs(text);
  if (ms === null || ms % 1000 !== 0) throw new Error(`${flag} must look like 15m, 1h, 90s or 1d; got '${text.slice(0, 20)}'.`);
  return ms / 1000;
}

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('Signed bearer tokens (short-lived, HS256)');

  tokens
    .command('issue')
    .description('Issue a token for a key or an app; the token alone is printed on stdout')
    .option('--key-id <id>', 'the key the token speaks for (it gets at most that key\'s scopes)')
    .option('--app <idOrName>', 'the app the token speaks for (never the admin scope)')
    .option('--scopes <list>', 'comma-separated scopes (default: all the key\'s, or read,write for an app)')
    .option('--ttl <duration>', 'lifetime such as 15m or 1h (default from the config, 15m)')
    .option('--client-id <id>', 'client id carried in the token and in audit records')
    .action(async (opts: { keyId?: string; app?: string; scopes?: string; ttl?: string; clientId?: string }, cmd: Command) => {
      if ((opts.keyId === undefined) === (opts.app === undefined)) throw new Error('Give exactly one of --key-id and --app.');
      const ttlSeconds = opts.ttl === undefined ? undefined : seconds('--ttl', opts.ttl);
      await withStore(cmd, async (store, loaded) => {
        let holder: TokenHolder;
        if (opts.keyId !== undefined) {
          const record = await new ApiKeyRepository(store).findById(opts.keyId);
          if (!record) throw new Error(`No key with id '${opts.keyId.slice(0, 60)}'. See keygate keys list.`);
          if (record.revoked_at !== null) throw new Error('This key is revoked.');
          holder = { kind: 'key', record };
        } else {
          const row = await ownerRepos(store).apps.get(opts.app as string);
          if (!row) throw new Error(`No app with id or name '${(opts.app as string).slice(0, 60)}'. See keygate apps list.`);
          if (row.disabled_at !== null) throw new Error('This app is disabled.');
          holder = { kind: 'app', row };
        }
        const t = await issueFor(tokenService(loaded), loaded.config.auth.tokens.ttlSeconds, holder, { scopes: opts.scopes, ttlSeconds, clientId: opts.clientId }).catch(asFlagError);
        await recordCliEvent(store, loaded, { type: 'token.issued', target: t.jti, details: { subject: holder.kind === 'key' ? `key:${holder.record.id}` : `app:${holder.row.id}`, scopes: t.scopes, expiresAt: t.expiresAt } });
        process.stdout.write(`${t.token}\n`);
        process.stderr.write(`jti ${t.jti}, scopes ${t.scopes.join(' ')}, expires ${new Date(t.expiresAt * 1000).toISOString()}\n`);
      });
    });

  tokens
    .command('revoke')
    .description('Revoke a token by its jti or by the token itself; refused from the next request on')
    .argument('<jtiOrToken>')
    .action(async (value: string, _opts: unknown, cmd: Command) => {
      await withStore(cmd, async (store, loaded) => {
        const target = await revocationTarget(tokenService(loaded), isSignedToken(value) ? { token: value } : { jti: value });
        await new RevokedTokenRepository(store).add(target.jti, target.expiresAtMs);
        await recordCliEvent(store, loaded, { type: 'token.revoked', target: target.jti, details: { subject: target.sub } });
        process.stdout.write(`Revoked token ${target.jti}.\n`);
      });
    });

  tokens
    .command('rotate-secret')
    .description('Make a new signing secret current; the old one keeps verifying for the overlap')
    .option('--overlap <duration>', 'how long the old secret still verifies (default from the config, 24h)')
    .action(async (opts: { overlap?: string }, cmd: Command) => {
      const loaded = loadConfig({ file: globalConfigFile(cmd) });
      const overlap = opts.overlap === undefined ? loaded.config.auth.tokens.rotationOverlapSeconds : seconds('--overlap', opts.overlap);
      mkdirSync(loaded.dataDir, { recursive: true, mode: 0o700 });
      const kid = rotateTokenKeyring(loaded.dataDir, process.env, overlap);
      await withStore(cmd, (store) => recordCliEvent(store, loaded, { type: 'admin.action', target: kid, details: { action: 'token_secret.rotated', overlapSeconds: overlap } }));
      process.stdout.write(`New signing key ${kid} is current; the previous one verifies for ${overlap} more seconds. Restart running gateways to sign with it.\n`);
    });
}
