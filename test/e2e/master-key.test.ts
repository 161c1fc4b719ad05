/**
 * The master key on first start, enc: provider keys (ours and Python's), what a bad one does,
 * and `keygate master-key rotate` under a running gateway (webhooks, split keys, enc: values).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { generateMasterKey, MasterKey } from '../../src/crypto/index.js';
import { interopRequired } from '../../src/crypto/__tests__/python-fernet.js';
import { startGateway } from '../../src/server/gateway.js';
import { verifyWebhookSignature } from '../../src/usage/webhooks/index.js';
import { logSink, recordOutput, recordSecret } from '../support/artifacts.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startTestGateway } from '../support/gateway.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';
import { warnSkip } from '../support/skip-log.js';

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
      if (interopRequired()) throw err;
      warnSkip('[skip] python3 with cryptography is not installed');
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

/** `shownOnce`: the run prints a secret once by design (a split key's client part); only stderr is scanned. */
function cli(args: string[], env: Record<string, string>, stdin = '', shownOnce = false): Promise<CliResult> {
  return runCli({ env, stdin, record: 'master-key-cli', shownOnce }, ...args);
}

describe('master-key rotate under running gateways', { timeout: 240_000 }, () => {
  it('webhook deliveries and split keys keep working; enc: values keep master.key.previous until re-encrypted', async () => {
    const oldMaster = recordSecret(generateMasterKey());
    const userKey = recordSecret(`sk-proj-${randomBytes(24).toString('base64url')}`);
    const receiver = await startWebhookReceiver();
    const { received, url: hookUrl } = receiver;
    const base = { KEY_MODE: 'server', OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: mock.url };
    const gw = await startTestGateway({ label: 'mk-rotate-a', env: { ...base, KEYGATE_MASTER_KEY: oldMaster }, config: { webhooks: { allowPrivateTargets: true, allowHttp: true } } });
    const dataDir = gw.dataDir;
    const cliEnv = { KEYGATE_DATA_DIR: dataDir, KEYGATE_CONFIG: join(dataDir, 'keygate.yaml'), KEYGATE_MASTER_KEY: oldMaster };
    const others: Array<{ close(): Promise<void> }> = [];
    try {
      const { endpoint, secret: hookSecret } = await gw.ctx.ops.webhooks.endpoints.create({ url: hookUrl, events: ['key.created'] });
      recordSecret(hookSecret);
      const { record: user, key: userBearer } = await gw.ctx.repos.keys.create({ name: 'byok-user' });
      recordSecret(userBearer);
      // Made by another process: this gateway has not loaded the split-key server secret yet.
      const made = await cli(['split-key', 'create', '--owner', user.id, '--provider', 'openai', '--json'], cliEnv, `${userKey}\n`, true);
      expect(made.code, made.stderr).toBe(0);
      const split = JSON.parse(made.stdout) as { id: string; client_part: string };
      recordSecret(split.client_part);

      const rotated = await cli(['master-key', 'rotate'], cliEnv);
      expect(rotated.code, rotated.stderr).toBe(0);
      const newMaster = recordSecret(readFileSync(join(dataDir, 'master.key.new'), 'utf8').trim());
      const newId = MasterKey.fromFernetKey(newMaster).id;
      expect(newId).not.toBe(gw.ctx.masterKey.id);
      const sealed = await gw.ctx.store.db.selectFrom('webhook_endpoints').select('secret').execute();
      expect(sealed.every((r) => r.secret.startsWith(`kge1.${newId}.`))).toBe(true);

      // The running gateway (still on the old key) signs a delivery with the endpoint's secret.
      await gw.ctx.ops.webhooks.emit('key.created', { actor: 'test', target: user.id, outcome: 'success' });
      await gw.ctx.ops.webhooks.runOnce();
      const { items } = await gw.ctx.ops.webhooks.deliveries(endpoint.id);
      expect(items.map((d) => [d.status, d.lastError])).toEqual([['succeeded', null]]);
      expect(verifyWebhookSignature(received.at(-1)?.signature, received.at(-1)!.body, hookSecret)).toBe(true);

      // ... and opens the split key (its server secret is now sealed under the new key).
      const useSplit = (url: string) =>
        fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${userBearer}`, 'X-Partial-Key-Id': split.id, 'X-Partial-Key': split.client_part },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
        });
      const a = await useSplit(gw.url);
      recordOutput('master-key', await a.text());
      expect(a.status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${userKey}`);

      // A gateway started after the rotation with the old KEYGATE_MASTER_KEY still in its environment.
      const late = await startTestGateway({ label: 'mk-rotate-late', env: { ...base, KEYGATE_DATA_DIR: dataDir, KEYGATE_MASTER_KEY: oldMaster } });
      others.push(late);
      expect(late.ctx.masterKey.id).toBe(gw.ctx.masterKey.id);
      const b = await useSplit(late.url);
      recordOutput('master-key', await b.text());
      expect(b.status).toBe(200);
      expect(mock.last().headers.authorization).toBe(`Bearer ${userKey}`);
      await late.close();
      others.pop();

      // Restart on the new key with an enc: value made under the old one: it still opens, and
      // master.key.previous is kept (and the log says why), so the next restart works too.
      const encOld = MasterKey.fromFernetKey(oldMaster).encryptValue(PROVIDER_KEY);
      for (const label of ['mk-rotate-new-1', 'mk-rotate-new-2']) {
        const next = await startTestGateway({ label, env: { ...base, OPENAI_API_KEY: encOld, KEYGATE_DATA_DIR: dataDir, KEYGATE_MASTER_KEY: newMaster } });
        others.push(next);
        expect(next.ctx.masterKey.id).toBe(newId);
        expect(existsSync(join(dataDir, 'master.key.previous'))).toBe(true);
        const warn = next.logLines().find((l) => l.includes('master.key.previous kept'));
        expect(warn).toContain('OPENAI_API_KEY');
        const r = await chat(next.url, gw.adminKey);
        expect(r.status).toBe(200);
        expect(mock.last().headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
        await next.close();
        others.pop();
      }
    } finally {
      for (const o of others) await o.close();
      await gw.stop();
      await receiver.close();
    }
  });
});
