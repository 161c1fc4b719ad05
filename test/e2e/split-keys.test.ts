/**
 * BYOK split keys end to end, on SQLite and PostgreSQL: created over HTTP, used through the
 * official `openai` SDK with the SafeAPI-Bridge headers while the gateway runs KEY_MODE=server
 * with a different key of its own, refused for every wrong owner, provider, part or state, and
 * absent from a full dump of the database.
 */
import OpenAI, { APIError } from 'openai';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SplitKeyService } from '../../src/byok/index.js';
import type { GatewayEvent } from '../../src/server/events.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { postgresAvailable, databaseFor } from '../support/services.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-SPLITserverkey0123456789abcdefghijklmnop');
// Random middles, so a chunk of one cannot match anything else by accident.
const USER_KEY = recordSecret(`sk-proj-${randomBytes(30).toString('base64url')}`);
const USER_KEY_2 = recordSecret(`sk-proj-${randomBytes(30).toString('base64url')}`);
const ANTHROPIC_USER_KEY = recordSecret(`sk-ant-api03-${randomBytes(30).toString('base64url')}`);

const pgUp = await postgresAvailable();
const dialects = ['sqlite', ...(pgUp ? ['postgres'] : [])];

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await startMockOpenAI();
});
afterAll(() => mock.close());

interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

interface Created {
  id: string;
  client_part: string;
  provider: string;
  created_at: string;
}

describe.each(dialects)('split keys on %s', (dialect) => {
  let gw: TestGateway;
  let drop: () => Promise<void> = async () => undefined;
  let alice: string;
  let bob: string;
  const events: GatewayEvent[] = [];

  async function http(method: string, path: string, key: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    // A 201 is the one response meant to show a client part; everything else must show none.
    if (res.status !== 201) recordOutput(`split-keys-${dialect}`, text);
    return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function create(key: string, provider: string, providerKey: string): Promise<Created> {
    const r = await http('POST', '/v1/split-keys', key, { provider, key: providerKey });
    expect(r.status).toBe(201);
    const c = r.json as unknown as Created;
    recordSecret(c.client_part);
    return c;
  }

  const sdk = (key: string, headers: Record<string, string> = {}) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, defaultHeaders: headers, maxRetries: 0 });
  const split = (c: { id: string; client_part: string }) => ({ 'X-Partial-Key-Id': c.id, 'X-Partial-Key': c.client_part });
  const chat = (key: string, headers: Record<string, string>, model = 'gpt-4o-mini') => sdk(key, headers).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

  /** The SDK call fails with this status and error code; the error body goes to the leak scan. */
  async function refused(p: Promise<unknown>, status: number, code: string): Promise<APIError> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(APIError);
    const e = err as APIError;
    recordOutput(`split-keys-${dialect}`, JSON.stringify(e.error ?? null));
    expect(e.status).toBe(status);
    expect(e.code).toBe(code);
    return e;
  }

  beforeAll(async () => {
    const db = await databaseFor(dialect);
    const databaseUrl = db.url;
    drop = db.drop;
    gw = await startTestGateway({ label: `split-keys-${dialect}`, databaseUrl, env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
    gw.ctx.events.on((e) => events.push(e));
    alice = recordSecret((await gw.ctx.repos.keys.create({ name: 'alice', scopes: ['read', 'write'] })).key);
    bob = recordSecret((await gw.ctx.repos.keys.create({ name: 'bob', scopes: ['read', 'write'] })).key);
  });
  afterAll(async () => {
    await gw?.stop();
    await drop();
  });

  const service = () => gw.ctx.splitKeys as SplitKeyService;

  it('creates a split key without echoing the provider key, then the user key reaches the upstream in server mode', async () => {
    const c = await create(alice, 'openai', USER_KEY);
    expect(c.id).toMatch(/^kgsk_[A-Za-z0-9_-]{22}$/);
    expect(c.client_part).toMatch(/^kg-sp-[A-Za-z0-9_-]{43}$/);
    expect(c.provider).toBe('openai');
    expect(Number.isNaN(Date.parse(c.created_at))).toBe(false);
    expect(JSON.stringify(c)).not.toContain(USER_KEY);

    const res = await chat(alice, split(c));
    expect(res.choices[0].message.content).toBe('Hello from gpt-4o-mini');
    expect(mock.last().headers.authorization).toBe(`Bearer ${USER_KEY}`);
    // Without the headers the same caller gets the gateway's own key.
    await chat(alice, {});
    expect(mock.last().headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
    // Streaming works the same way.
    let text = '';
    for await (const ch of await sdk(alice, split(c)).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true })) text += ch.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from gpt-4o-mini');
    expect(mock.last().headers.authorization).toBe(`Bearer ${USER_KEY}`);
  });

  it("refuses another owner's split key with 403, even with its right client part", async () => {
    const c = await create(alice, 'openai', USER_KEY);
    const before = mock.requests.length;
    await refused(chat(bob, split(c)), 403, 'split_key_not_owned');
    expect(mock.requests.length).toBe(before);
    const e = events.find((ev) => ev.type === 'credential.rejected' && ev.target === c.id);
    expect(e?.details).toMatchObject({ code: 'split_key_not_owned', kind: 'split_key' });
  });

  it('refuses the right id on the wrong provider route with 403', async () => {
    const c = await create(alice, 'anthropic', ANTHROPIC_USER_KEY);
    expect(c.provider).toBe('anthropic');
    const e = await refused(chat(alice, split(c)), 403, 'split_key_wrong_provider');
    expect(e.message).toContain("'anthropic'");
    expect(e.message).toContain("'openai'");
  });

  it('refuses a wrong client part (401), a missing header (400, named) and malformed headers (400)', async () => {
    const c = await create(alice, 'openai', USER_KEY);
    const wrongPart = recordSecret(`kg-sp-${randomBytes(32).toString('base64url')}`);
    await refused(chat(alice, { 'X-Partial-Key-Id': c.id, 'X-Partial-Key': wrongPart }), 401, 'invalid_split_key');
    // An id that does not exist reads exactly like a wrong part.
    const ghost = await refused(chat(alice, { 'X-Partial-Key-Id': `kgsk_${randomBytes(16).toString('base64url')}`, 'X-Partial-Key': c.client_part }), 401, 'invalid_split_key');
    expect((ghost.error as { message?: string }).message).toBe('The split key could not be opened: check X-Partial-Key-Id and X-Partial-Key.');

    const noPart = await refused(chat(alice, { 'X-Partial-Key-Id': c.id }), 400, 'missing_split_key_header');
    expect(noPart.message).toContain('without X-Partial-Key:');
    expect(noPart.param).toBe('X-Partial-Key');
    const noId = await refused(chat(alice, { 'X-Partial-Key': c.client_part }), 400, 'missing_split_key_header');
    expect(noId.param).toBe('X-Partial-Key-Id');

    await refused(chat(alice, { 'X-Partial-Key-Id': 'kgsk_short', 'X-Partial-Key': c.client_part }), 400, 'malformed_split_key');
    const badPart = await refused(chat(alice, { 'X-Partial-Key-Id': c.id, 'X-Partial-Key': 'kg-sp-tooshort' }), 400, 'malformed_split_key');
    expect(badPart.message).not.toContain('tooshort');
  });

  it('counts uses off the request path and lists keys without any key material', async () => {
    const c = await create(alice, 'openai', USER_KEY);
    for (let i = 0; i < 3; i++) await chat(alice, split(c));
    // A refused attempt is not a use.
    await refused(chat(alice, { 'X-Partial-Key-Id': c.id, 'X-Partial-Key': `kg-sp-${randomBytes(32).toString('base64url')}` }), 401, 'invalid_split_key');
    await service().uses.flush();

    const list = await http('GET', '/v1/split-keys', alice);
    expect(list.status).toBe(200);
    const data = list.json.data as Array<Record<string, unknown>>;
    const mine = data.find((k) => k.id === c.id);
    expect(mine).toMatchObject({ id: c.id, provider: 'openai', status: 'active', use_count: 3, revoked_at: null });
    expect(typeof mine?.last_used_at).toBe('string');
    expect(Object.keys(mine ?? {}).sort()).toEqual(['created_at', 'id', 'last_used_at', 'owner', 'provider', 'revoked_at', 'rotated_at', 'status', 'use_count']);
    expect(list.text).not.toContain(USER_KEY);
    expect(list.text).not.toContain(c.client_part);
    const row = await service().keys.find(c.id);
    expect(list.text).not.toContain(row?.ciphertext);
    expect(list.text).not.toContain(row?.salt);
    // Bob sees none of Alice's keys, and cannot revoke or rotate them.
    const bobs = await http('GET', '/v1/split-keys', bob);
    expect(bobs.json.data).toEqual([]);
    expect((await http('DELETE', `/v1/split-keys/${c.id}`, bob)).status).toBe(404);
    expect((await http('POST', `/v1/split-keys/${c.id}/rotate`, bob, { key: USER_KEY_2 })).status).toBe(404);
    await chat(alice, split(c));
  });

  it('revokes: the key is refused from the next request on', async () => {
    const c = await create(alice, 'openai', USER_KEY);
    await chat(alice, split(c));
    const del = await http('DELETE', `/v1/split-keys/${c.id}`, alice);
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ id: c.id, status: 'revoked' });
    await refused(chat(alice, split(c)), 401, 'revoked_split_key');
    expect(events.some((e) => e.type === 'credential.revoked_used' && e.target === c.id)).toBe(true);
  });

  it('rotates: the old id and part stop working, the new pair carries the new key', async () => {
    const c = await create(alice, 'openai', USER_KEY);
    const r = await http('POST', `/v1/split-keys/${c.id}/rotate`, alice, { key: USER_KEY_2 });
    expect(r.status).toBe(201);
    expect(r.text).not.toContain(USER_KEY_2);
    const n = r.json as unknown as Created & { replaces: string };
    recordSecret(n.client_part);
    expect(n.replaces).toBe(c.id);
    expect(n.client_part).not.toBe(c.client_part);
    await refused(chat(alice, split(c)), 401, 'revoked_split_key');
    await refused(chat(alice, { 'X-Partial-Key-Id': n.id, 'X-Partial-Key': c.client_part }), 401, 'invalid_split_key');
    await chat(alice, split(n));
    expect(mock.last().headers.authorization).toBe(`Bearer ${USER_KEY_2}`);
    const listed = (await http('GET', '/v1/split-keys', alice)).json.data as Array<Record<string, unknown>>;
    expect(listed.find((k) => k.id === c.id)?.status).toBe('rotated');
    // A rotated key cannot be rotated again.
    expect((await http('POST', `/v1/split-keys/${c.id}/rotate`, alice, { key: USER_KEY_2 })).status).toBe(409);
  });

  it('validates creation: configured provider only, no unknown fields, the key never echoed', async () => {
    const unknown = await http('POST', '/v1/split-keys', alice, { provider: 'nosuch', key: USER_KEY });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ error: { param: 'provider' } });
    const extra = await http('POST', '/v1/split-keys', alice, { provider: 'openai', key: USER_KEY, owner: 'someone-else' });
    expect(extra.status).toBe(400);
    const spaced = await http('POST', '/v1/split-keys', alice, { provider: 'openai', key: `${USER_KEY} x` });
    expect(spaced.status).toBe(400);
    for (const r of [unknown, extra, spaced]) expect(r.text).not.toContain(USER_KEY);
    const readOnly = recordSecret((await gw.ctx.repos.keys.create({ name: 'reader', scopes: ['read'] })).key);
    expect((await http('POST', '/v1/split-keys', readOnly, { provider: 'openai', key: USER_KEY })).status).toBe(403);
  });

  it('a dump of the whole database recovers nothing: no provider key, no chunk of one, no client part', async () => {
    const c = await create(alice, 'openai', USER_KEY);
    await chat(alice, split(c));
    await service().uses.flush();
    await gw.ctx.usage.flush();
    const tables =
      dialect === 'sqlite'
        ? (await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(gw.ctx.store.db)).rows.map((r) => r.name)
        : (await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`.execute(gw.ctx.store.db)).rows.map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['split_keys', 'server_secrets', 'requests']));
    let dump = '';
    for (const t of tables) {
      const rows = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(t)}`.execute(gw.ctx.store.db)).rows;
      dump += `${t}\n${rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'bigint' ? String(v) : v))).join('\n')}\n`;
    }
    expect(dump).toContain(c.id); // the dump is real: the row is there
    const all = (await service().keys.list()).map((r) => r.key_id);
    expect(all.length).toBeGreaterThan(5);
    // Every 8-character window of each secret past its public prefix (sk-proj-, kg-sp-...).
    const hits: string[] = [];
    const scan = (secret: string, prefix: string) => {
      const middle = secret.slice(prefix.length);
      for (let i = 0; i + 8 <= middle.length; i++) if (dump.includes(middle.slice(i, i + 8))) hits.push(`${prefix}...[${i}]`);
    };
    for (const k of [USER_KEY, USER_KEY_2]) scan(k, 'sk-proj-');
    scan(ANTHROPIC_USER_KEY, 'sk-ant-api03-');
    scan(c.client_part, 'kg-sp-');
    expect(hits).toEqual([]);
    expect(dump.includes(c.client_part)).toBe(false);
    // The server secret is there only as an envelope under the master key.
    const secretRow = await gw.ctx.store.db.selectFrom('server_secrets').selectAll().executeTakeFirstOrThrow();
    expect(secretRow.sealed).toMatch(/^kge1\./);
    const secret = await service().serverSecret();
    expect(dump).not.toContain(secret.toString('base64url').slice(0, 16));
    expect(dump).not.toContain(secret.toString('hex').slice(0, 16));
    expect(dump).not.toContain(secret.toString('base64').slice(0, 16));
  });

  it('never puts a key or a client part in an event or a log line', async () => {
    const text = JSON.stringify(events) + gw.logLines().join('\n');
    expect(events.length).toBeGreaterThan(0);
    for (const s of [USER_KEY, USER_KEY_2, ANTHROPIC_USER_KEY]) expect(text).not.toContain(s);
    expect(text).not.toMatch(/kg-sp-[A-Za-z0-9_-]{43}/);
  });
});
