/** HTTP hardening: security headers, strict CORS, JSON depth and __proto__ refusal, HTTPS with HSTS. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../../src/server/hardening/json-body.js';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';
import { removeCert, selfSignedCert } from '../mock-secrets/tls.js';

const SERVER_KEY = recordSecret('sk-proj-HARDENINGserverkey0123456789abcdefghi');
let mock: MockOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({
    label: 'hardening',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
    config: { server: { cors: { origins: ['https://app.example.com'] }, maxJsonDepth: 16 } },
  });
});
afterAll(async () => {
  await gw.stop();
  await mock.close();
});

const chat = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}`, ...headers }, body });

describe('security headers', () => {
  it('are on every answer, errors included; no HSTS over plain HTTP', async () => {
    for (const res of [await fetch(`${gw.url}/healthz`), await fetch(`${gw.url}/nope`), await chat('{')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${gw.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-partial-key-id' } });

  it('answers a preflight from an allowed origin without credentials, allowing the keygate and BYOK headers', async () => {
    const res = await preflight('https://app.example.com');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['authorization', 'x-keygate-key', 'x-partial-key-id', 'x-partial-key']) expect(allowed).toContain(h);
  });

  it('gives a disallowed origin no CORS headers', async () => {
    const res = await preflight('https://evil.example.com');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const real = await chat(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), { origin: 'https://evil.example.com' });
    expect(real.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows no origin by default', async () => {
    const plain = await startTestGateway({ label: 'hardening-nocors', env: { KEY_MODE: 'passthrough' } });
    try {
      const res = await fetch(`${plain.url}/v1/models`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.stop();
    }
  });
});

describe('JSON bodies', () => {
  it('refuses nesting deeper than the limit with 400', async () => {
    const deep = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"x":${'['.repeat(40)}${']'.repeat(40)}}`;
    const res = await chat(deep);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/nested deeper than 16/);
  });

  it('counts brackets inside strings as text', () => {
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}"}`, 4)).toBe(false);
    expect(jsonDepthExceeds(`{"a":"\\"${'['.repeat(100)}"}`, 4)).toBe(false);
    expect(jsonDepthExceeds('[[[[[1]]]]]', 4)).toBe(true);
  });

  it('refuses a __proto__ key', async () => {
    const res = await chat('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"__proto__":{"admin":true}}');
    expect(res.status).toBe(400);
  });
});

describe('HTTPS', () => {
  it('serves TLS directly with HSTS', async () => {
    const cert = selfSignedCert();
    const keyFile = join(dirname(cert.certFile), 'gateway-key.pem');
    writeFileSync(keyFile, cert.key, { mode: 0o600 });
    const tls = await startTestGateway({ label: 'hardening-tls', env: { KEY_MODE: 'passthrough' }, config: { server: { tls: { certFile: cert.certFile, keyFile } } } });
    // The client trusts this certificate only: the gateway serves the one it was given.
    const dispatcher = new Agent({ connect: { ca: cert.cert } });
    try {
      expect(tls.url.startsWith('https://')).toBe(true);
      const res = await undiciFetch(`${tls.url}/healthz`, { dispatcher });
      expect(res.status).toBe(200);
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    } finally {
      await dispatcher.close();
      await tls.stop();
      removeCert(cert);
    }
  });
});

describe('HTTPS behind a proxy (requireHttps, real IPv4 and IPv6 sockets)', () => {
  // Listening on every address: [::1] is the trusted proxy, 127.0.0.1 (seen as ::ffff:127.0.0.1) is not.
  let proxied: TestGateway;
  let port = '';
  beforeAll(async () => {
    proxied = await startTestGateway({
      label: 'hardening-proxy',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
      config: { server: { host: '::', requireHttps: true, trustProxy: ['::1/128'] } },
    });
    port = new URL(proxied.url).port;
  });
  afterAll(async () => {
    await proxied?.stop();
  });
  const get = (host: string, headers: Record<string, string> = {}) =>
    fetch(`http://${host}:${port}/v1/models`, { headers: { authorization: `Bearer ${proxied.adminKey}`, ...headers } });

  it('refuses plain HTTP from the proxy unless it says X-Forwarded-Proto: https; then answers with HSTS', async () => {
    const plain = await get('[::1]');
    expect(plain.status).toBe(403);
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('https_required');
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    const viaProxy = await get('[::1]', { 'x-forwarded-proto': 'https' });
    expect(viaProxy.status).toBe(200);
    expect(viaProxy.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('does not believe X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    const forged = await get('127.0.0.1', { 'x-forwarded-proto': 'https' });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('https_required');
    expect(forged.headers.get('strict-transport-security')).toBeNull();
    // Nor an X-Forwarded-For claiming to be the proxy.
    const spoofed = await get('127.0.0.1', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '::1' });
    expect(spoofed.status).toBe(403);
  });
});
