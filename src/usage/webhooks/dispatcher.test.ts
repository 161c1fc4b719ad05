/** Webhook delivery against a local receiver, on real SQLite and PostgreSQL. */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDatabase, postgresAvailable } from '../../../test/support/services.js';
import { openStore, type Store } from '../../store/connect.js';
import { WebhookDispatcher, verifyWebhookSignature, type Sealer, type WebhookDispatcherOptions, type WebhookPayload } from './index.js';

/** A stand-in for the crypto module's AES-GCM sealer. */
function testSealer(): Sealer {
  const key = randomBytes(32);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
    },
    open(sealed) {
      const b = Buffer.from(sealed, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

// The receiver answers with the next queued status (200 when the queue is empty).
const received: Received[] = [];
const statuses: number[] = [];
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

const tmp = mkdtempSync(join(tmpdir(), 'keygate-webhooks-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

const targets: Array<{ name: string; url: () => Promise<string> }> = [
  { name: 'sqlite', url: async () => `sqlite:${join(tmp, `${Math.random().toString(36).slice(2)}.db`)}` },
];
if (await postgresAvailable()) {
  targets.push({
    name: 'postgres',
    url: async () => {
      const d = await createTempDatabase();
      cleanups.push(d.drop);
      return d.url;
    },
  });
}

async function open(url: string): Promise<Store> {
  const s = await openStore(url);
  cleanups.push(() => s.close());
  return s;
}

const local = { allowPrivateTargets: true, allowHttp: true };

describe.each(targets)('webhooks on $name', (target) => {
  let clock = 1_700_000_000_000;
  const now = (): number => clock;
  const sealer = testSealer();
  const make = (store: Store, over: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher => {
    const d = new WebhookDispatcher(store, { sealer, now, random: () => 0.5, policy: local, baseDelayMs: 1000, ...over });
    cleanups.push(() => d.close());
    return d;
  };

  it('delivers a signed payload, and keeps the secret sealed at rest', async () => {
    received.length = 0;
    const store = await open(await target.url());
    const d = make(store);
    const { endpoint, secret } = await d.endpoints.create({ url: `${base}/hook`, events: ['key.created'] });
    expect(secret).toMatch(/^whsec_/);
    const raw = JSON.stringify(await store.db.withTables<{ webhook_endpoints: { secret: string } }>().selectFrom('webhook_endpoints').selectAll().execute());
    expect(raw).not.toContain(secret);
    expect(JSON.stringify(await d.endpoints.list())).not.toContain(secret);

    const leaked = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
    const { eventId, deliveries } = await d.emit('key.created', { keyId: 'key_1', name: 'app', note: leaked });
    expect(deliveries).toBe(1);
    expect(await d.emit('key.revoked', { keyId: 'key_1' })).toMatchObject({ deliveries: 0 }); // not subscribed
    expect(await d.runOnce()).toBe(1);

    expect(received).toHaveLength(1);
    const [r] = received;
    const sig = r.headers['x-keygate-signature'] as string;
    expect(verifyWebhookSignature(sig, r.body, secret, 300, Math.floor(clock / 1000))).toBe(true);
    expect(verifyWebhookSignature(sig, r.body, 'whsec_wrong', 300, Math.floor(clock / 1000))).toBe(false);
    const payload = JSON.parse(r.body) as WebhookPayload;
    expect(payload).toEqual({ id: eventId, type: 'key.created', created: Math.floor(clock / 1000), data: { keyId: 'key_1', name: 'app', note: expect.not.stringContaining(leaked) } });
    expect(r.headers['x-keygate-event']).toBe('key.created');

    const log = await d.deliveries(endpoint.id);
    expect(log.items).toMatchObject([{ status: 'succeeded', attempts: 1, lastStatusCode: 200, eventId }]);
    expect(await d.runOnce()).toBe(0);
  });

  it('close() waits for an event still being queued: one emitted during shutdown is kept', async () => {
    const url = await target.url();
    const store = await openStore(url);
    const d = new WebhookDispatcher(store, { sealer, now, policy: local });
    const { endpoint } = await d.endpoints.create({ url: `${base}/shutdown`, events: ['*'] });
    // Not awaited, as the shutdown's last coalesced events are not; then the store closes, as the gateway's does.
    const emitted = d.emit('upstream.down', { provider: 'openai' }).catch((err: Error) => err);
    await d.close();
    await store.close();
    expect(await emitted).toMatchObject({ deliveries: 1 });
    const after = new WebhookDispatcher(await open(url), { sealer, now, policy: local });
    expect((await after.deliveries(endpoint.id)).items).toHaveLength(1);
  });

  it('retries a 500 with backoff, then succeeds', async () => {
    received.length = 0;
    statuses.push(500, 503);
    const d = make(await open(await target.url()));
    const { endpoint } = await d.endpoints.create({ url: `${base}/retry`, events: ['*'] });
    await d.emit('upstream.down', { provider: 'openai' });

    expect(await d.runOnce()).toBe(1);
    let [del] = (await d.deliveries(endpoint.id)).items;
    expect(del).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    // random() = 0.5: 1000 ms * 2^0, half fixed plus half jitter -> 750 ms.
    expect(del.nextAttemptAt).toBe(clock + 750);
    expect(await d.runOnce()).toBe(0); // not due yet

    clock += 750;
    expect(await d.runOnce()).toBe(1);
    [del] = (await d.deliveries(endpoint.id)).items;
    expect(del).toMatchObject({ status: 'pending', attempts: 2, lastStatusCode: 503 });
    expect(del.nextAttemptAt).toBe(clock + 1500);

    clock += 1500;
    expect(await d.runOnce()).toBe(1);
    [del] = (await d.deliveries(endpoint.id)).items;
    expect(del).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 200, lastError: null });
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => JSON.parse(r.body).id)).size).toBe(1); // one event id: receivers can dedupe
  });

  it('gives up after maxAttempts', async () => {
    statuses.length = 0;
    statuses.push(500, 500);
    const d = make(await open(await target.url()), { maxAttempts: 2 });
    const { endpoint } = await d.endpoints.create({ url: `${base}/giveup`, events: ['rate_limited'] });
    await d.emit('rate_limited', { limit: 'rpm' });
    await d.runOnce();
    clock += 10_000;
    await d.runOnce();
    clock += 10_000;
    expect(await d.runOnce()).toBe(0);
    expect((await d.deliveries(endpoint.id)).items[0]).toMatchObject({ status: 'failed', attempts: 2, nextAttemptAt: null });
  });

  it('loses nothing across a restart', async () => {
    received.length = 0;
    statuses.length = 0;
    const url = await target.url();
    const first = make(await open(url));
    const { endpoint, secret } = await first.endpoints.create({ url: `${base}/restart`, events: ['threat.blocked'] });
    await first.emit('threat.blocked', { category: 'prompt_injection' });
    await first.close();
    expect(received).toHaveLength(0);

    const second = make(await open(url));
    expect(await second.runOnce()).toBe(1);
    expect(received).toHaveLength(1);
    expect(verifyWebhookSignature(received[0].headers['x-keygate-signature'] as string, received[0].body, secret, 300, Math.floor(clock / 1000))).toBe(true);
    expect((await second.deliveries(endpoint.id)).items[0].status).toBe('succeeded');
  });

  it('retries a delivery whose dispatcher died mid-attempt once its lease expires', async () => {
    received.length = 0;
    const url = await target.url();
    const store = await open(url);
    const d = make(store, { leaseMs: 5000 });
    const { endpoint } = await d.endpoints.create({ url: `${base}/lease`, events: ['key.rotated'] });
    await d.emit('key.rotated', { keyId: 'k' });
    // Simulate the crash: the row is claimed but never settled.
    await store.db.withTables<{ webhook_deliveries: { status: string; next_attempt_at: number } }>().updateTable('webhook_deliveries').set({ status: 'delivering', next_attempt_at: clock + 5000 }).execute();
    expect(await d.runOnce()).toBe(0);
    clock += 5000;
    expect(await d.runOnce()).toBe(1);
    expect((await d.deliveries(endpoint.id)).items[0].status).toBe('succeeded');
  });

  it('test-fires one endpoint and logs it; pages the delivery log', async () => {
    received.length = 0;
    const d = make(await open(await target.url()));
    const { endpoint } = await d.endpoints.create({ url: `${base}/test`, events: ['quota.exceeded'] });
    const fired = await d.testFire(endpoint.id);
    expect(fired).toMatchObject({ status: 'succeeded', event: 'webhook.test', attempts: 1 });
    expect(JSON.parse(received[0].body)).toMatchObject({ type: 'webhook.test' });
    expect(await d.testFire('whe_missing')).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      clock += 1;
      await d.emit('quota.exceeded', { i });
    }
    const p1 = await d.deliveries(endpoint.id, { limit: 3 });
    expect(p1.items.map((x) => x.event)).toEqual(['quota.exceeded', 'quota.exceeded', 'quota.exceeded']);
    const p2 = await d.deliveries(endpoint.id, { limit: 3, cursor: p1.nextCursor ?? undefined });
    expect(p2.items.map((x) => x.event)).toEqual(['webhook.test']);
    expect(p2.nextCursor).toBeNull();
  });

  it('refuses private targets when they are not allowed, and never sends', async () => {
    received.length = 0;
    const d = make(await open(await target.url()), { policy: { allowHttp: true } });
    await expect(d.endpoints.create({ url: `${base}/x`, events: ['key.created'] })).rejects.toThrow(/private or reserved/);
    await expect(d.endpoints.create({ url: 'https://93.184.216.34/x', events: ['nope' as 'key.created'] })).rejects.toThrow(/unknown webhook event/);
    // A hostname passes the static check and is refused after DNS (localhost -> 127.0.0.1 / ::1).
    const port = new URL(base).port;
    const { endpoint } = await d.endpoints.create({ url: `http://localhost:${port}/x`, events: ['key.created'] });
    await d.emit('key.created', { keyId: 'k' });
    expect(await d.runOnce()).toBe(1);
    expect(received).toHaveLength(0);
    expect((await d.deliveries(endpoint.id)).items[0]).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/private or reserved/) });
  });

  it('connects to the checked address, not to a second DNS answer', async () => {
    received.length = 0;
    // The resolver answers once; a second lookup (a rebinding attempt) would throw. The name
    // does not exist in real DNS, so the delivery succeeds only through the pinned address.
    let calls = 0;
    const resolve = async () => {
      if (calls++ > 0) throw new Error('second lookup');
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const d = make(await open(await target.url()), { resolve });
    const port = new URL(base).port;
    const { endpoint } = await d.endpoints.create({ url: `http://hooks.keygate-rebind.invalid:${port}/pin`, events: ['upstream.recovered'] });
    await d.emit('upstream.recovered', { provider: 'groq' });
    await d.runOnce();
    expect((await d.deliveries(endpoint.id)).items[0]).toMatchObject({ status: 'succeeded' });
    expect(received[0].headers.host).toBe(`hooks.keygate-rebind.invalid:${port}`);
    expect(calls).toBe(1);
  });

  it('retries a delivery whose host does not resolve for now (not a permanent refusal)', async () => {
    received.length = 0;
    let failing = true;
    const resolve = async () => {
      if (failing) throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const d = make(await open(await target.url()), { resolve });
    const port = new URL(base).port;
    const { endpoint } = await d.endpoints.create({ url: `http://hooks.keygate-dns.invalid:${port}/dns`, events: ['upstream.down'] });
    await d.emit('upstream.down', { provider: 'groq' });
    expect(await d.runOnce()).toBe(1);
    expect((await d.deliveries(endpoint.id)).items[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/does not resolve \(EAI_AGAIN\)/) });
    failing = false;
    clock += 10_000;
    expect(await d.runOnce()).toBe(1);
    expect((await d.deliveries(endpoint.id)).items[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(received).toHaveLength(1);
  });

  it('prunes finished deliveries past their retention, never pending ones', async () => {
    statuses.length = 0;
    const store = await open(await target.url());
    const d = make(store, { retentionMs: 60_000 });
    const { endpoint } = await d.endpoints.create({ url: `${base}/prune`, events: ['*'] });
    await d.emit('key.created', { keyId: 'old' });
    await d.runOnce();
    statuses.push(500);
    await d.emit('key.revoked', { keyId: 'still-trying' });
    await d.runOnce();
    clock += 61_000;
    await d.emit('key.rotated', { keyId: 'recent' });
    statuses.length = 0;
    expect(await d.prune()).toBe(1);
    const left = (await d.deliveries(endpoint.id)).items.map((x) => [x.event, x.status]).sort();
    expect(left).toEqual([['key.revoked', 'pending'], ['key.rotated', 'pending']]);
    expect(await make(store, { retentionMs: 0 }).prune()).toBe(0);
  });

  it('updates, disables, rotates and deletes endpoints', async () => {
    received.length = 0;
    const d = make(await open(await target.url()));
    const { endpoint, secret } = await d.endpoints.create({ url: `${base}/e`, events: ['key.created'] });
    const rotated = await d.endpoints.rotateSecret(endpoint.id);
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await d.emit('key.created', { keyId: 'k' });
    await d.runOnce();
    expect(verifyWebhookSignature(received[0].headers['x-keygate-signature'] as string, received[0].body, rotated as string, 300, Math.floor(clock / 1000))).toBe(true);
    expect(await d.endpoints.update(endpoint.id, { enabled: false, events: ['key.created', 'key.revoked'] })).toMatchObject({ enabled: false, events: ['key.created', 'key.revoked'] });
    expect(await d.emit('key.created', { keyId: 'k' })).toMatchObject({ deliveries: 0 });
    expect(await d.endpoints.delete(endpoint.id)).toBe(true);
    expect(await d.endpoints.get(endpoint.id)).toBeUndefined();
    expect((await d.deliveries(endpoint.id)).items).toHaveLength(0);
  });
});
