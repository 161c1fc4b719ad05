/**
 * Provider keys in service, over real HTTP: pools spread calls, a refused key rests while the
 * call succeeds on another, hot rotation by the CLI in another process while a stream is in
 * flight on the old key, the admin API never shows a key, migration from a .env file, and a
 * master-key rotation under a running gateway. Every key is recorded for the leak scan.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GatewayEvent } from '../../src/server/events.js';
import { verifyWebhookSignature } from '../../src/usage/webhooks/index.js';
import { openStore } from '../../src/store/connect.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { runCli } from '../support/cli.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

/** Every key this file made, for the database dump check (the artifacts file may be shared with other runs). */
const made: string[] = [];
const newKey = () => {
  const k = recordSecret(`sk-proj-${randomBytes(24).toString('base64url')}`);
  made.push(k);
  return k;
};

/** A CLI command in another process; `out` is its stdout then its stderr. */
async function run(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; out: string }> {
  const r = await runCli({ env, stdin, record: 'provider-keys-cli' }, ...args);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Polling for what the gateway reaches by itself (a poll, a drain), without a clock in the assertion. */
const WAIT = { timeout: 30_000, interval: 50 };

/** Neither the key nor any 8-character piece of it. */
function expectNoKey(text: string, ...keys: string[]): void {
  for (const k of keys) for (let i = 0; i + 8 <= k.length; i += 4) expect(text).not.toContain(k.slice(i, i + 8));
}

async function chat(gw: TestGateway, model = 'gpt-4o-mini', stream = false): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

const bearer = (k: string) => `Bearer ${k}`;
let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});

describe('key pools', { timeout: 60_000 }, () => {
  it('spreads calls over the keys of a pool', async () => {
    const [k1, k2] = [newKey(), newKey()];
    const gw = await startTestGateway({ label: 'pk-spread', env: { KEY_MODE: 'server', OPENAI_API_KEY: k1, OPENAI_API_KEY_2: k2, OPENAI_BASE_URL: mock.url } });
    try {
      const before = mock.requests.length;
      for (let i = 0; i < 4; i++) expect((await chat(gw)).status).toBe(200);
      const used = mock.requests.slice(before).map((r) => r.headers.authorization);
      expect(used.filter((a) => a === bearer(k1))).toHaveLength(2);
      expect(used.filter((a) => a === bearer(k2))).toHaveLength(2);
    } finally {
      await gw.stop();
    }
  });

  it('rests a key the provider refuses; the call succeeds on another key', async () => {
    const [bad, good] = [newKey(), newKey()];
    const seen: string[] = [];
    // A tiny upstream that refuses one key with 401, as OpenAI does for a revoked key.
    const upstream: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const auth = String(req.headers.authorization ?? '');
        seen.push(auth);
        res.setHeader('content-type', 'application/json');
        if (auth === bearer(bad)) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } }));
          return;
        }
        res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    const gw = await startTestGateway({ label: 'pk-refused', env: { KEY_MODE: 'server', OPENAI_API_KEY: bad, OPENAI_API_KEY_2: good, OPENAI_BASE_URL: url }, config: { upstream: { retries: 2 } } });
    const events: GatewayEvent[] = [];
    gw.ctx.events.on((e) => events.push(e));
    try {
      for (let i = 0; i < 4; i++) {
        const res = await chat(gw);
        const text = await res.text();
        recordOutput('provider-keys', text);
        expect(res.status).toBe(200);
      }
      // Refused once, then skipped for its cooling period.
      expect(seen.filter((a) => a === bearer(bad))).toHaveLength(1);
      expect(seen.filter((a) => a === bearer(good))).toHaveLength(4);
      const keys = gw.ctx.providerKeys.snapshot().find((p) => p.provider === 'openai')!.keys;
      expect(keys.map((k) => k.state).sort()).toEqual(['active', 'cooling']);
      expect(keys.find((k) => k.state === 'cooling')?.cooldownReason).toBe('auth_failed');
      expect(events.some((e) => e.details?.action === 'provider_key.cooling')).toBe(true);
      expectNoKey(JSON.stringify(events), bad, good);
    } finally {
      await gw.stop();
      await new Promise((r) => upstream.close(r));
    }
  });
});

describe('key pools: 403 and 429 from the provider', { timeout: 60_000 }, () => {
  const [forbidden, limited, good] = [newKey(), newKey(), newKey()];
  const seen: string[] = [];
  let upstream: Server;
  let url = '';
  beforeAll(async () => {
    // 403 as OpenAI answers a key without access to the model; 429 with Retry-After as a rate limit.
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const auth = String(req.headers.authorization ?? '');
        seen.push(auth);
        res.setHeader('content-type', 'application/json');
        if (auth === bearer(forbidden)) {
          res.statusCode = 403;
          res.end(JSON.stringify({ error: { message: 'You are not allowed to sample from this model', type: 'invalid_request_error', code: 'model_not_found' } }));
          return;
        }
        if (auth === bearer(limited)) {
          res.statusCode = 429;
          res.setHeader('retry-after', '120');
          res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }));
          return;
        }
        res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise((r) => upstream.close(r));
  });

  it('a 403 key and a 429 key (Retry-After honoured) rest; every call succeeds on the good key', async () => {
    const gw = await startTestGateway({ label: 'pk-403-429', env: { KEY_MODE: 'server', OPENAI_API_KEY: forbidden, OPENAI_API_KEY_2: limited, OPENAI_API_KEY_3: good, OPENAI_BASE_URL: url }, config: { upstream: { retries: 2 } } });
    try {
      seen.length = 0;
      for (let i = 0; i < 6; i++) {
        const res = await chat(gw);
        recordOutput('provider-keys', await res.text());
        expect(res.status).toBe(200);
      }
      // Each refused key is tried once, then skipped while it cools.
      expect(seen.filter((a) => a === bearer(forbidden))).toHaveLength(1);
      expect(seen.filter((a) => a === bearer(limited))).toHaveLength(1);
      expect(seen.filter((a) => a === bearer(good))).toHaveLength(6);
      const keys = gw.ctx.providerKeys.snapshot().find((p) => p.provider === 'openai')!.keys;
      const byName = new Map(keys.map((k) => [k.name, k]));
      expect(byName.get('openai')).toMatchObject({ state: 'cooling', cooldownReason: 'auth_failed' });
      expect(byName.get('openai.2')).toMatchObject({ state: 'cooling', cooldownReason: 'rate_limited' });
      expect(byName.get('openai.3')?.state).toBe('active');
      // Retry-After: 120 beats the 30 s default for a 429.
      const until = Date.parse(byName.get('openai.2')!.coolingUntil!);
      expect(until - Date.now()).toBeGreaterThan(60_000);
    } finally {
      await gw.stop();
    }
  });

  it('the last usable key is never benched: the client gets the provider\'s 429 and its Retry-After', async () => {
    const gw = await startTestGateway({ label: 'pk-last-key', env: { KEY_MODE: 'server', OPENAI_API_KEY: forbidden, OPENAI_API_KEY_2: limited, OPENAI_BASE_URL: url }, config: { upstream: { retries: 2 } } });
    try {
      seen.length = 0;
      for (let i = 0; i < 2; i++) {
        const res = await chat(gw);
        const text = await res.text();
        recordOutput('provider-keys', text);
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toBe('120');
        expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
        expectNoKey(text, forbidden, limited);
      }
      // The 403 key rests after the first call; the 429 key, the only one left, keeps being asked.
      expect(seen).toEqual([bearer(forbidden), bearer(limited), bearer(limited)]);
      const keys = gw.ctx.providerKeys.snapshot().find((p) => p.provider === 'openai')!.keys;
      expect(keys.map((k) => [k.name, k.state])).toEqual([
        ['openai', 'cooling'],
        ['openai.2', 'active'],
      ]);
    } finally {
      await gw.stop();
    }
  });
});

describe('hot rotation and the admin API', { timeout: 120_000 }, () => {
  const oldKey = newKey();
  let gw: TestGateway;
  let cliEnv: Record<string, string>;
  const events: GatewayEvent[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'pk-rotate',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: oldKey, OPENAI_BASE_URL: mock.url },
      config: { secrets: { reloadIntervalMs: 100 }, webhooks: { allowPrivateTargets: true, allowHttp: true } },
    });
    gw.ctx.events.on((e) => events.push(e));
    cliEnv = { KEYGATE_DATA_DIR: gw.dataDir, KEYGATE_CONFIG: join(gw.dataDir, 'keygate.yaml') };
  });
  afterAll(async () => {
    await gw.stop();
  });

  const openaiKeys = () => gw.ctx.providerKeys.snapshot().find((p) => p.provider === 'openai')?.keys ?? [];

  it('keygate keys rotate in another process: new calls use the new key, an in-flight stream finishes on the old one, which is then retired', async () => {
    const rotated = newKey();
    const firstChunk = mock.firstChunkSent();
    const streaming = chat(gw, 'mock-gated-stream', true);
    await firstChunk;
    const gated = mock.last();
    expect(gated.headers.authorization).toBe(bearer(oldKey));

    const cli = await run(['keys', 'rotate', 'openai'], cliEnv, `${rotated}\n`);
    expect(cli.code).toBe(0);
    expectNoKey(cli.out, rotated, oldKey);
    await vi.waitFor(() => expect(openaiKeys().some((k) => k.state === 'draining'), 'the gateway picks up the rotation').toBe(true), WAIT);
    const oldId = openaiKeys().find((k) => k.state === 'draining')!.keyId;
    expect(openaiKeys().find((k) => k.keyId === oldId)?.inFlight).toBe(1);

    expect((await chat(gw)).status).toBe(200);
    expect(mock.last().headers.authorization).toBe(bearer(rotated));

    mock.release();
    const res = await streaming;
    const text = await res.text();
    recordOutput('provider-keys', text);
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    await vi.waitFor(() => expect(openaiKeys().map((k) => k.keyId), 'the old key is retired').not.toContain(oldId), WAIT);
    expect(openaiKeys().map((k) => k.state)).toEqual(['active']);
    expect(events.some((e) => e.type === 'key.rotated' && (e.details?.replaced as string[]).includes(oldId))).toBe(true);
    expect(events.some((e) => e.details?.action === 'provider_key.retired' && e.details.keyId === oldId)).toBe(true);
    expectNoKey(JSON.stringify(events), rotated, oldKey);
  });

  it('the admin API lists ids and states, rotates (an audit row and a key.rotated webhook), and never returns key material', async () => {
    const receiver = await startWebhookReceiver();
    const { received } = receiver;
    const hook = await gw.ctx.ops.webhooks.endpoints.create({ url: receiver.url, events: ['key.rotated'] });
    recordSecret(hook.secret);

    const viaApi = newKey();
    const h = { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' };
    const post = await fetch(`${gw.url}/admin/provider-keys/openai/rotate`, { method: 'POST', headers: h, body: JSON.stringify({ key: viaApi }) });
    const postText = await post.text();
    recordOutput('provider-keys', postText);
    expect(post.status).toBe(200);
    const newId = (JSON.parse(postText) as { keyId: string }).keyId;
    expect(newId).toMatch(/^openai-/);

    // The rotation is in the audit log (a row in audit_log) ...
    await gw.ctx.ops.audit.flush();
    const rows = await gw.ctx.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'key.rotated').execute();
    const row = rows.find((r) => r.target === `openai/${newId}`);
    expect(row).toMatchObject({ actor: 'system', outcome: 'success' });
    expectNoKey(JSON.stringify(rows), viaApi, oldKey);
    // ... and a signed key.rotated webhook delivery.
    await vi.waitFor(async () => expect((await gw.ctx.ops.webhooks.deliveries(hook.endpoint.id)).items.length, 'the key.rotated delivery is queued').toBeGreaterThan(0), WAIT);
    await gw.ctx.ops.webhooks.runOnce();
    const { items } = await gw.ctx.ops.webhooks.deliveries(hook.endpoint.id);
    expect(items.map((d) => [d.event, d.status])).toContainEqual(['key.rotated', 'succeeded']);
    const delivered = received.find((r) => (JSON.parse(r.body) as { data?: { target?: string } }).data?.target === `openai/${newId}`);
    expect(delivered).toBeDefined();
    expect(verifyWebhookSignature(delivered!.signature, delivered!.body, hook.secret)).toBe(true);
    expect(JSON.parse(delivered!.body)).toMatchObject({ type: 'key.rotated' });
    expectNoKey(delivered!.body, viaApi, oldKey);
    await receiver.close();
    expect((await chat(gw)).status).toBe(200);
    expect(mock.last().headers.authorization).toBe(bearer(viaApi));

    const list = await fetch(`${gw.url}/admin/provider-keys`, { headers: h });
    const listText = await list.text();
    recordOutput('provider-keys', listText);
    expect(list.status).toBe(200);
    const body = JSON.parse(listText) as { backend: { backend: string; healthy: boolean }; providers: Array<{ provider: string; keys: Array<{ keyId: string; state: string }> }> };
    expect(body.backend).toMatchObject({ backend: 'store', healthy: true });
    expect(body.providers.find((p) => p.provider === 'openai')?.keys.some((k) => k.state === 'active')).toBe(true);
    expectNoKey(postText + listText, viaApi, oldKey);

    const anon = await fetch(`${gw.url}/admin/provider-keys`);
    expect(anon.status).toBe(401);
    const unknown = await fetch(`${gw.url}/admin/provider-keys/nosuch/rotate`, { method: 'POST', headers: h, body: JSON.stringify({ key: newKey() }) });
    expect(unknown.status).toBe(404);
  });

  it('master-key rotate: every sealed row is re-wrapped and the gateway keeps serving', async () => {
    const before = await gw.ctx.store.db.selectFrom('provider_secrets').selectAll().execute();
    expect(before.length).toBeGreaterThan(0);
    const oldId = gw.ctx.masterKey.id;
    expect(before.every((r) => r.master_key_id === oldId)).toBe(true);

    const cli = await run(['master-key', 'rotate'], cliEnv);
    expect(cli.code).toBe(0);
    const after = await gw.ctx.store.db.selectFrom('provider_secrets').selectAll().execute();
    const newId = after[0].master_key_id;
    expect(newId).not.toBe(oldId);
    expect(after.every((r) => r.master_key_id === newId && r.sealed.startsWith(`kge1.${newId}.`))).toBe(true);
    const split = await gw.ctx.store.db.selectFrom('server_secrets').selectAll().execute();
    expect(split.every((r) => r.sealed.startsWith(`kge1.${newId}.`))).toBe(true);
    expect(existsSync(join(gw.dataDir, 'master.key.previous'))).toBe(true);

    // Still serving, and a rotation made after the switch (sealed under the new key) is picked up too.
    expect((await chat(gw)).status).toBe(200);
    const afterSwitch = newKey();
    expect((await run(['keys', 'rotate', 'openai'], cliEnv, afterSwitch)).code).toBe(0);
    await vi.waitFor(async () => {
      await chat(gw);
      expect(mock.last().headers.authorization, 'the gateway opens a row sealed under the new master key').toBe(bearer(afterSwitch));
    }, WAIT);

    // The next start on the new key confirms the switch and deletes the old key's copy.
    const again = await startTestGateway({ label: 'pk-restart', env: { KEYGATE_DATA_DIR: gw.dataDir, KEY_MODE: 'server', OPENAI_BASE_URL: mock.url } });
    try {
      expect(again.ctx.masterKey.id).toBe(newId);
      expect(existsSync(join(gw.dataDir, 'master.key.previous'))).toBe(false);
      expect((await chat(Object.assign(again, { adminKey: gw.adminKey }))).status).toBe(200);
      expect(mock.last().headers.authorization).toBe(bearer(afterSwitch));
    } finally {
      await again.close();
    }
  });

  it('no table holds a provider key in the clear', async () => {
    const tables = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(gw.ctx.store.db);
    let dump = '';
    for (const { name } of tables.rows) dump += JSON.stringify((await sql.raw(`SELECT * FROM "${name}"`).execute(gw.ctx.store.db)).rows);
    expect(dump).toContain('kge1.');
    const keys = [...made];
    expect(keys.length).toBeGreaterThan(3);
    expectNoKey(dump, ...keys);
  });
});

describe('keygate keys migrate --from-env', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('dry run, then real, then again: nothing to do', async () => {
    const [a, b] = [newKey(), newKey()];
    const envFile = join(dir, '.env');
    writeFileSync(envFile, `OPENAI_API_KEY=${a}\nGROQ_API_KEY=${b}\nOTHER=1\n`);
    const env = { KEYGATE_DATA_DIR: join(dir, 'data') };
    const rows = async () => {
      const store = await openStore(`sqlite:${join(dir, 'data', 'keygate.db')}`);
      try {
        return await store.db.selectFrom('provider_secrets').select('name').orderBy('name').execute();
      } finally {
        await store.close();
      }
    };

    const dry = await run(['keys', 'migrate', '--from-env', '--dry-run', '--env-file', envFile], env);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/planned\s+GROQ_API_KEY -> groq/);
    expect(dry.out).toContain('dry run');
    expect(await rows()).toEqual([]);

    const real = await run(['keys', 'migrate', '--from-env', '--env-file', envFile], env);
    expect(real.code).toBe(0);
    expect(real.out).toMatch(/migrated\s+OPENAI_API_KEY -> openai/);
    expect(real.out).toContain('remove from .env: GROQ_API_KEY, OPENAI_API_KEY');
    expect((await rows()).map((r) => r.name)).toEqual(['groq', 'openai']);

    const again = await run(['keys', 'migrate', '--from-env', '--env-file', envFile], env);
    expect(again.code).toBe(0);
    expect(again.out).not.toContain('migrated');
    expect(again.out).toMatch(/already_present\s+OPENAI_API_KEY/);
    for (const r of [dry, real, again]) expectNoKey(r.out, a, b);
  });
});
