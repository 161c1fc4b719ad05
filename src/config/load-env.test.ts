/** Environment variables and the data directory: errors name the variable, and nothing lands where it should not. */
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authOffWarning } from '../cli/serve.js';
import { ensureDataDir } from './data-dir.js';
import { ConfigError, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'keygate-config-env-'));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('environment variables in config errors', () => {
  it('a bad KEYGATE_LOG_LEVEL names the variable (and the field), with the fix', () => {
    const msg = errorOf(() => loadConfig({ env: { KEYGATE_DATA_DIR: dir, KEYGATE_LOG_LEVEL: 'loud' } }));
    expect(msg).toContain('KEYGATE_LOG_LEVEL (log.level)');
    expect(msg).toContain('fix: use one of: fatal, error, warn, info, debug, trace, silent');
  });

  it('a value from the file is named by its field and the file', () => {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'log:\n  level: loud\n');
    const msg = errorOf(() => loadConfig({ file: f, env: { KEYGATE_DATA_DIR: dir } }));
    expect(msg).toContain(`in ${f}`);
    expect(msg).toMatch(/^ {2}- log\.level: /m);
  });

  it('KEYGATE_AUTH takes off or on, nothing else', () => {
    expect(loadConfig({ env: { KEYGATE_DATA_DIR: dir, KEYGATE_AUTH: 'off' } }).config.auth.enabled).toBe(false);
    expect(loadConfig({ env: { KEYGATE_DATA_DIR: dir, KEYGATE_AUTH: 'on' } }).config.auth.enabled).toBe(true);
    expect(errorOf(() => loadConfig({ env: { KEYGATE_DATA_DIR: dir, KEYGATE_AUTH: 'of' } }))).toMatch(/KEYGATE_AUTH must be 'off'/);
  });

  it('more fields say how to fix them', () => {
    const f = join(dir, 'fixes.yaml');
    writeFileSync(f, 'server:\n  bodyLimit: 10\nupstream:\n  idleTimeoutMs: -5\n  retries: 50\n');
    const msg = errorOf(() => loadConfig({ file: f, env: { KEYGATE_DATA_DIR: dir } }));
    expect(msg).toContain('server.bodyLimit: Too small');
    expect(msg).toContain('(fix: use a size in bytes of at least 1024');
    expect(msg).toContain('upstream.idleTimeoutMs');
    expect(msg).toContain('(fix: use a whole number of milliseconds');
    expect(msg).toContain('(fix: use a whole number from 0 to 10)');
  });
});

describe('the data directory', () => {
  it('an empty KEYGATE_DATA_DIR is refused, not taken as the current directory', () => {
    const msg = errorOf(() => loadConfig({ env: { KEYGATE_DATA_DIR: '' } }));
    expect(msg).toContain('KEYGATE_DATA_DIR is set but empty');
    expect(msg).toContain('master.key');
  });

  it.skipIf(process.platform === 'win32')('is created 0700; an existing one others can read is tightened, with a warning', () => {
    const fresh = join(dir, 'fresh', 'data');
    expect(ensureDataDir(fresh)).toBeNull();
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    const loose = mkdtempSync(join(tmpdir(), 'keygate-loose-'));
    chmodSync(loose, 0o755);
    expect(ensureDataDir(loose)).toMatch(/readable by others \(mode 0755\).*now 0700/);
    expect(statSync(loose).mode & 0o777).toBe(0o700);
    expect(ensureDataDir(loose)).toBeNull();
  });
});

describe('auth off', () => {
  it('is warned about only when another machine can reach a gateway that holds provider keys', () => {
    expect(authOffWarning(false, '0.0.0.0', ['openai'])).toMatch(/authentication is OFF .* on 0\.0\.0\.0,.*\(openai\)/);
    expect(authOffWarning(false, '10.1.2.3', ['openai', 'groq'])).toContain('openai, groq');
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) expect(authOffWarning(false, host, ['openai'])).toBeNull();
    expect(authOffWarning(true, '0.0.0.0', ['openai'])).toBeNull();
    expect(authOffWarning(false, '0.0.0.0', [])).toBeNull();
  });
});
