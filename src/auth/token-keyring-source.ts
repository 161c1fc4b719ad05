/**
 * Where the token signing secrets come from: `KEYGATE_TOKEN_SECRETS` (`kid:secret,kid:secret`,
 * the first is current; for several replicas) or, by default, a file in the data directory
 * created on first start with mode 0600. Rotation writes a new current secret and keeps the
 * old one verifying for the overlap window.
 */
import { existsSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedTokenService } from './signed-tokens.js';
import { SigningKeyring, generateSigningSecret, rotateKeyring, type KeyringConfig } from './signing-keys.js';

const FILE = 'token-keys.json';

export function tokenKeyringFile(dataDir: string): string {
  return join(dataDir, FILE);
}

export function loadTokenKeyring(dataDir: string, env: NodeJS.ProcessEnv): KeyringConfig {
  const fromEnv = env.KEYGATE_TOKEN_SECRETS;
  if (fromEnv) {
    const keys = fromEnv.split(',').map((pair, i) => {
      const colon = pair.indexOf(':');
      if (colon <= 0) throw new Error(`KEYGATE_TOKEN_SECRETS entry ${i + 1} must look like kid:secret (secret of 32+ bytes).`);
      return { kid: pair.slice(0, colon).trim(), secret: pair.slice(colon + 1).trim() };
    });
    return { current: keys[0].kid, keys };
  }
  const file = tokenKeyringFile(dataDir);
  if (!existsSync(file)) {
    const config: KeyringConfig = { current: 'k1', keys: [{ kid: 'k1', secret: generateSigningSecret() }] };
    writeKeyring(file, config);
    return config;
  }
  if ((statSync(file).mode & 0o077) !== 0) throw new Error(`${file} is readable by other users; run: chmod 600 ${file}`);
  return JSON.parse(readFileSync(file, 'utf8')) as KeyringConfig;
}

/** Re-reads the secrets (file or KEYGATE_TOKEN_SECRETS) into a running token service; returns the current kid. Throws, leaving the old keyring, when they are not valid. */
export function reloadTokenKeyring(tokens: SignedTokenService, dataDir: string, env: NodeJS.ProcessEnv): string {
  const keyring = new SigningKeyring(loadTokenKeyring(dataDir, env));
  tokens.setKeyring(keyring);
  return keyring.current.kid;
}

/** Adds a new current secret; the previous ones verify until the overlap ends. */
export function rotateTokenKeyring(dataDir: string, env: NodeJS.ProcessEnv, overlapSeconds: number): string {
  if (env.KEYGATE_TOKEN_SECRETS) throw new Error('Token secrets come from KEYGATE_TOKEN_SECRETS: rotate them there (put the new kid:secret first, keep the old one after it).');
  const current = loadTokenKeyring(dataDir, env);
  const kid = `k${Date.now().toString(36)}`;
  writeKeyring(tokenKeyringFile(dataDir), rotateKeyring(current, { kid }, overlapSeconds));
  return kid;
}

function writeKeyring(file: string, config: KeyringConfig): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}
