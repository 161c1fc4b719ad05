/** SplitKeyService.resolve against a real (in-memory SQLite) store, without HTTP. */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterKey } from '../crypto/index.js';
import { EventBus, type GatewayEvent } from '../server/events.js';
import { openStore, type Store } from '../store/connect.js';
import { SplitKeyService } from './service.js';

const KEY = `sk-proj-${randomBytes(24).toString('base64url')}`;

let store: Store;
let svc: SplitKeyService;
const events: GatewayEvent[] = [];

function request(headers: Record<string, string>, principal: { keyId: string | null; userId: string | null } | null): FastifyRequest {
  const p = principal && { ...principal, kind: 'key', appId: null, name: 'k', clientId: 'k', scopes: ['write'], models: null, ipAllow: null, subjects: [] };
  return { headers, principal: p, id: 'req-1', clientIp: '127.0.0.1' } as unknown as FastifyRequest;
}

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  svc = new SplitKeyService({ store, masterKey: MasterKey.fromBytes(randomBytes(32)), events: bus, flushIntervalMs: 60_000 });
});
afterAll(async () => {
  await svc.close();
  await store.close();
});

describe('SplitKeyService.resolve', () => {
  it('returns null and records no split key when neither header is sent', async () => {
    const req = request({}, { keyId: 'key_a', userId: null });
    expect(await svc.resolve(req, 'openai')).toBeNull();
    expect(req.splitKeyId).toBeNull();
  });

  it('owner is the user when the key has one; a request resolved for several targets counts once', async () => {
    const { row, clientPart } = await svc.create({ ownerId: 'usr_1', provider: 'openai', key: KEY });
    const req = request({ 'x-partial-key-id': row.key_id, 'x-partial-key': clientPart }, { keyId: 'key_other', userId: 'usr_1' });
    const first = await svc.resolve(req, 'openai');
    expect(first?.reveal()).toBe(KEY);
    expect(String(first)).not.toContain(KEY);
    // A fallback target of another provider is refused, and the request keeps its split key id.
    await expect(svc.resolve(req, 'groq')).rejects.toMatchObject({ status: 403, code: 'split_key_wrong_provider' });
    expect((await svc.resolve(req, 'openai'))?.reveal()).toBe(KEY);
    expect(req.splitKeyId).toBe(row.key_id);
    await svc.uses.flush();
    expect((await svc.keys.find(row.key_id))?.use_count).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'credential.rejected', target: row.key_id, details: { code: 'split_key_wrong_provider' } });
  });

  it('refuses a caller without a principal (401) and one without an owner (403)', async () => {
    const { row, clientPart } = await svc.create({ ownerId: 'key_b', provider: 'openai', key: KEY });
    const headers = { 'x-partial-key-id': row.key_id, 'x-partial-key': clientPart };
    await expect(svc.resolve(request(headers, null), 'openai')).rejects.toMatchObject({ status: 401 });
    await expect(svc.resolve(request(headers, { keyId: null, userId: null }), 'openai')).rejects.toMatchObject({ status: 403, code: 'split_key_owner_unknown' });
    // The key itself as owner works.
    expect((await svc.resolve(request(headers, { keyId: 'key_b', userId: null }), 'openai'))?.reveal()).toBe(KEY);
  });
});
