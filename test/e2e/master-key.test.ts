/** The master key on first start, enc: provider keys (ours and Python's), and what a bad one does. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { generateMasterKey, MasterKey } from '../../src/crypto/index.js';
import { startGateway } from '../../src/server/gateway.js';
import { logSink, recordSecret } from '../support/artifacts.js';
import { startTestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const PROVIDER_KEY = recordSecret('sk-proj-ENCRYPTEDkey0123456789abcdefghijklmnopq');
let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(() => mock.close());

const chat = (url: string, key: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
  });

describe('master key', () => {
  it('is generated on first start in the data directory with mode 0600', async () => {
    const gw = await startTestGateway({ label: 'master-first', env: { KEY_MODE: 'passthrough' } });
    try {
      const file = join(gw.dataDir, 'master.key');
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(gw.ctx.masterKey.source).toBe('key-file');
    } finally {
      await gw.stop();
    }
  });

  it('opens an enc: provider key made by keygate; the upstream gets the plaintext', async () => {
    const masterKey = recordSecret(generateMasterKey());
    const enc = MasterKey.fromFernetKey(masterKey).encryptValue(PROVIDER_KEY);
    const gw = await startTestGateway({ label: 'master-enc', env: { KEY_MODE: 'server', KEYGATE_MASTER_KEY: masterKey, OPENAI_API_KEY: enc, OPENAI_BASE_URL: mock.url } });
    try {
      expect((await chat(gw.url, gw.adminKey)).status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
      expect(gw.ctx.masterKey.source).toBe('env-key');
    } finally {
      await gw.stop();
    }
  });

  it("opens an enc: value made by Python's cryptography Fernet", async () => {
    const masterKey = recordSecret(generateMasterKey());
    let token: string;
    try {
      token = execFileSync('python3', ['-c', 'import sys; from cryptography.fernet import Fernet; print(Fernet(sys.argv[1].encode()).encrypt(sys.argv[2].encode()).decode())', masterKey, PROVIDER_KEY], { encoding: 'utf8' }).trim();
    } catch (err) {
      if (process.env.CI) throw err;
      console.warn('[skip] python3 with cryptography is not installed');
      return;
    }
    const gw = await startTestGateway({ label: 'master-python', env: { KEY_MODE: 'server', KEYGATE_MASTER_KEY: masterKey, OPENAI_API_KEY: `enc:${token}`, OPENAI_BASE_URL: mock.url } });
    try {
      expect((await chat(gw.url, gw.adminKey)).status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    } finally {
      await gw.stop();
    }
  });

  it('a tampered enc: value stops start-up naming the variable, never the value', async () => {
    const masterKey = recordSecret(generateMasterKey());
    const enc = MasterKey.fromFernetKey(masterKey).encryptValue(PROVIDER_KEY);
    const tampered = `${enc.slice(0, -6)}AAAAAA`;
    const dataDir = mkdtempSync(join(tmpdir(), 'keygate-tamper-'));
    const err = await startGateway({ env: { KEYGATE_DATA_DIR: dataDir, KEYGATE_PORT: '0', KEYGATE_MASTER_KEY: masterKey, OPENAI_API_KEY: tampered }, logDestination: logSink('master-tamper') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('OPENAI_API_KEY');
    expect((err as Error).message).not.toContain(tampered.slice(4, 30));
  });

  it('a malformed KEYGATE_MASTER_KEY stops start-up with its name', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keygate-badmaster-'));
    const err = await startGateway({ env: { KEYGATE_DATA_DIR: dataDir, KEYGATE_PORT: '0', KEYGATE_MASTER_KEY: 'not-a-key' }, logDestination: logSink('master-bad') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('KEYGATE_MASTER_KEY');
  });
});
