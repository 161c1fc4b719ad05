import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'keygate-config-'));
function file(text: string): string {
  const p = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
}
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('needs no file: defaults, SQLite in the data directory', () => {
    const { config, databaseUrl, dataDir } = loadConfig({ env: { KEYGATE_DATA_DIR: dir } });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8787 });
    expect(config.keyMode).toBe('auto');
    expect(config.auth.enabled).toBe(true);
    expect(dataDir).toBe(dir);
    expect(databaseUrl).toBe(`sqlite:${join(dir, 'keygate.db')}`);
  });

  it('reads YAML, then env, then flags', () => {
    const f = file('server:\n  port: 9000\n  host: 0.0.0.0\nkeyMode: server\nmodels:\n  aliases:\n    fast: groq/llama-3.1-8b-instant\n');
    expect(loadConfig({ file: f, env: {} }).config.server.port).toBe(9000);
    expect(loadConfig({ file: f, env: { KEYGATE_PORT: '9100' } }).config.server.port).toBe(9100);
    const c = loadConfig({ file: f, env: { KEYGATE_PORT: '9100', KEY_MODE: 'passthrough' }, overrides: { port: 9200, host: '::1' } }).config;
    expect(c.server).toMatchObject({ port: 9200, host: '::1' });
    expect(c.keyMode).toBe('passthrough');
    expect(c.models.aliases.fast).toBe('groq/llama-3.1-8b-instant');
  });

  it('names a bad field and its fix', () => {
    const msg = errorOf(() => loadConfig({ file: file('server:\n  port: "eighty"\n'), env: {} }));
    expect(msg).toContain('server.port');
    expect(msg).toContain('fix: use a whole number from 0 to 65535');
  });

  it('names an unknown field', () => {
    const msg = errorOf(() => loadConfig({ file: file('server:\n  prot: 80\n'), env: {} }));
    expect(msg).toContain("unknown field 'prot'");
  });

  it('names a bad custom provider URL', () => {
    const msg = errorOf(() => loadConfig({ file: file('providers:\n  custom:\n    - id: deepseek\n      baseUrl: not-a-url\n'), env: {} }));
    expect(msg).toContain('providers.custom.0.baseUrl');
  });

  it('reports a YAML syntax error with its line', () => {
    const msg = errorOf(() => loadConfig({ file: file('server:\n  port: [1,\n'), env: {} }));
    expect(msg).toMatch(/not valid YAML/);
  });

  it('reports a missing file', () => {
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }))).toMatch(/Cannot read the config file/);
  });

  it('refuses a bad KEY_MODE and a bad DATABASE_URL', () => {
    expect(errorOf(() => loadConfig({ env: { KEY_MODE: 'yolo' } }))).toMatch(/KEY_MODE must be one of server, passthrough, auto/);
    expect(errorOf(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' } }))).toMatch(/DATABASE_URL/);
  });
});
