/**
 * IP rules over HTTP: a key's own allow-list, global rules added through the admin API (in
 * effect from the next request), IPv6, and X-Forwarded-For believed only from a trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-IPRULESserverkey0123456789abcdefghijklm');
let mock: MockOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({
    label: 'ip-rules',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
    config: { server: { trustProxy: ['127.0.0.1/32'] }, auth: { adminRpm: 10_000 } },
  });
});
afterAll(async () => {
  await gw?.stop();
  await mock?.close();
});

type Body = Record<string, unknown> & { error?: { code: string; message: string; param?: string } };

async function call(method: string, path: string, opts: { key?: string; ip?: string; body?: unknown } = {}): Promise<{ status: number; body: Body }> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? gw.adminKey}` };
  if (opts.ip) headers['x-forwarded-for'] = opts.ip;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const body = (text ? JSON.parse(text) : {}) as Body;
  if (typeof body.key === 'string') recordSecret(body.key);
  else recordOutput('ip-rules', text);
  return { status: res.status, body };
}

const chat = (key: string, ip?: string) => call('POST', '/v1/chat/completions', { key, ip, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });

describe('a key with its own IP allow-list', () => {
  it('ipAllow 10.0.0.0/8: refused from 127.0.0.1 (403), accepted from 10.1.2.3 via the trusted proxy', async () => {
    const { body } = await call('POST', '/admin/keys', { body: { name: 'office-only', ipAllow: ['10.0.0.0/8'] } });
    const key = body.key as string;
    const direct = await chat(key);
    expect(direct.status).toBe(403);
    expect(direct.body.error?.code).toBe('ip_not_allowed');
    expect((await chat(key, '10.1.2.3')).status).toBe(200);
    expect((await chat(key, '11.0.0.1')).status).toBe(403);
    // The leftmost X-Forwarded-For entry is whatever the client wrote: the proxy's view (rightmost) wins.
    expect((await chat(key, '10.1.2.3, 192.0.2.1')).status).toBe(403);
  });

  it('an IPv6 allow-list admits the IPv6 client and nobody else', async () => {
    const { body } = await call('POST', '/admin/keys', { body: { name: 'v6-only', ipAllow: ['2001:db8::/32'] } });
    const key = body.key as string;
    expect((await chat(key, '2001:db8:1::42')).status).toBe(200);
    expect((await chat(key, '2001:db9::1')).status).toBe(403);
    expect((await chat(key, '10.1.2.3')).status).toBe(403);
  });

  it('X-Forwarded-For is ignored without a trusted proxy', async () => {
    const plain = await startTestGateway({ label: 'ip-rules-untrusted', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
    try {
      const created = await fetch(`${plain.url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${plain.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'office-only', ipAllow: ['10.0.0.0/8'] }),
      });
      const key = recordSecret(((await created.json()) as { key: string }).key);
      const res = await fetch(`${plain.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-forwarded-for': '10.1.2.3' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      recordOutput('ip-rules', await res.clone().text());
      expect(res.status).toBe(403);
    } finally {
      await plain.stop();
    }
  });
});

describe('global rules through the admin API', () => {
  it('a deny rule takes effect on the next request and is gone once removed', async () => {
    const { body } = await call('POST', '/admin/keys', { body: { name: 'global-target' } });
    const key = body.key as string;
    expect((await chat(key, '198.51.100.20')).status).toBe(200);
    const rule = await call('POST', '/admin/ip-rules', { body: { list: 'deny', cidr: '198.51.100.0/24', note: 'abuse' } });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ list: 'deny', cidr: '198.51.100.0/24', note: 'abuse' });
    const refused = await chat(key, '198.51.100.20');
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('ip_not_allowed');
    // The admin API is behind the same rule.
    expect((await call('GET', '/admin/ip-rules', { ip: '198.51.100.20' })).status).toBe(403);
    expect((await chat(key, '198.51.101.1')).status).toBe(200);
    const listed = await call('GET', '/admin/ip-rules');
    expect((listed.body.data as Array<{ id: string }>).map((r) => r.id)).toContain(rule.body.id);
    expect((await call('DELETE', `/admin/ip-rules/${rule.body.id as string}`)).status).toBe(204);
    expect((await chat(key, '198.51.100.20')).status).toBe(200);
  });

  it('IPv6: a deny rule for ::1 refuses ::1 via the trusted proxy, and not other clients', async () => {
    const { body } = await call('POST', '/admin/keys', { body: { name: 'v6-global' } });
    const key = body.key as string;
    const rule = await call('POST', '/admin/ip-rules', { body: { list: 'deny', cidr: '::1' } });
    expect(rule.status).toBe(201);
    try {
      expect((await chat(key, '::1')).status).toBe(403);
      expect((await chat(key, '[::1]:5555')).status).toBe(403);
      expect((await chat(key, '2001:db8::1')).status).toBe(200);
      expect((await chat(key)).status).toBe(200);
    } finally {
      await call('DELETE', `/admin/ip-rules/${rule.body.id as string}`);
    }
  });

  it('refuses an invalid CIDR with a 400 naming the field and a hint', async () => {
    const bad = await call('POST', '/admin/ip-rules', { body: { list: 'deny', cidr: '10.0.0.1/8' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe('cidr');
    expect(bad.body.error?.message).toMatch(/did you mean 10\.0\.0\.0\/8/);
    expect((await call('POST', '/admin/ip-rules', { body: { list: 'deny', cidr: '10.0.0.300' } })).status).toBe(400);
    expect((await call('POST', '/admin/ip-rules', { body: { list: 'maybe', cidr: '10.0.0.0/8' } })).body.error?.param).toBe('list');
  });

  it('refuses a rule that would lock the admin out unless forced', async () => {
    const r = await call('POST', '/admin/ip-rules', { body: { list: 'allow', cidr: '10.0.0.0/8' } });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('would_lock_out');
    expect((await call('GET', '/admin/ip-rules')).body.data).toEqual([]);
  });
});

describe('a global allow list, over real IPv4 and IPv6 sockets (no proxy)', () => {
  let listed: TestGateway;
  let port = '';
  beforeAll(async () => {
    listed = await startTestGateway({
      label: 'ip-rules-allow',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
      config: { server: { host: '::' }, ipRules: { allow: ['::1/128'] } },
    });
    port = new URL(listed.url).port;
  });
  afterAll(async () => {
    await listed?.stop();
  });
  const chatFrom = async (host: string, key: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://${host}:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    recordOutput('ip-rules', text);
    return { status: res.status, body: JSON.parse(text) as Body };
  };

  it('admits the listed address ([::1]) and refuses an unlisted one (127.0.0.1) with 403, whatever X-Forwarded-For says', async () => {
    expect((await chatFrom('[::1]', listed.adminKey)).status).toBe(200);
    const refused = await chatFrom('127.0.0.1', listed.adminKey);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('ip_not_allowed');
    expect((await chatFrom('127.0.0.1', listed.adminKey, { 'x-forwarded-for': '::1' })).status).toBe(403);
  });

  it("a key's IPv6 allow-list is checked against the real [::1] socket address", async () => {
    const created = await fetch(`http://[::1]:${port}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${listed.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'v6-only', ipAllow: ['::1'] }),
    });
    expect(created.status).toBe(201);
    const key = recordSecret(((await created.json()) as { key: string }).key);
    expect((await chatFrom('[::1]', key)).status).toBe(200);
    const other = await fetch(`http://[::1]:${port}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${listed.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'v6-elsewhere', ipAllow: ['2001:db8::/32'] }),
    });
    const otherKey = recordSecret(((await other.json()) as { key: string }).key);
    const r = await chatFrom('[::1]', otherKey);
    expect(r.status).toBe(403);
    expect(r.body.error?.code).toBe('ip_not_allowed');
  });
});
