/**
 * OpenTelemetry over OTLP/HTTP (JSON) to a local receiver that decodes what it gets: a request
 * span per request (route template, status) and an upstream child span (provider, model,
 * status) in the same trace; the W3C traceparent reaches the upstream only when configured;
 * no key, token or prompt text in anything exported. Off by default: no tracing at all.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracesUrl } from '../../src/server/tracing.js';
import { recordOutput, recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-TRACINGserverkey0123456789abcdefghij');
const PROMPT = 'the secret-ish prompt text that must never reach a span';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: number | string } }>;
}

let receiver: Server;
let receiverUrl = '';
const exports: string[] = [];
let mock: MockOpenAI;

function spans(): Array<OtlpSpan & { attrs: Record<string, string | number> }> {
  const out: Array<OtlpSpan & { attrs: Record<string, string | number> }> = [];
  for (const text of exports) {
    const body = JSON.parse(text) as { resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
    for (const rs of body.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          const attrs = Object.fromEntries(s.attributes.map((a) => [a.key, a.value.stringValue ?? Number(a.value.intValue)]));
          out.push({ ...s, attrs });
        }
      }
    }
  }
  return out;
}

beforeAll(async () => {
  mock = await startMockOpenAI();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) exports.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await mock?.close();
  await new Promise((r) => receiver?.close(r));
});

async function chat(gw: TestGateway, key: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], ...extra }),
  });
}

describe('tracing with propagation on', () => {
  let gw: TestGateway;
  let key = '';
  beforeAll(async () => {
    gw = await startTestGateway({
      label: 'tracing',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url },
      config: { upstream: { retries: 0 }, tracing: { otlpEndpoint: receiverUrl, serviceName: 'keygate-test', propagate: true } },
    });
    const made = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${gw.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'traced' }) });
    key = recordSecret(((await made.json()) as { key: string }).key);
  });
  afterAll(() => gw?.stop());

  it('exports a request span and its upstream child, with traceparent sent upstream', async () => {
    exports.length = 0;
    mock.requests.length = 0;
    const res = await chat(gw, key);
    expect(res.status).toBe(200);
    await res.text();
    const stream = await chat(gw, key, { stream: true });
    expect(await stream.text()).toContain('[DONE]');
    expect((await chat(gw, 'kg-not-a-real-key-0123456789')).status).toBe(401);
    await gw.ctx.tracing!.flush();

    const all = spans();
    const servers = all.filter((s) => s.kind === 2 && s.attrs['http.route'] === '/v1/chat/completions');
    const clients = all.filter((s) => s.kind === 3);
    expect(servers.map((s) => s.attrs['http.response.status_code']).sort()).toEqual([200, 200, 401]);
    expect(servers[0].name).toBe('POST /v1/chat/completions');
    expect(clients).toHaveLength(2);
    for (const c of clients) {
      const parent = servers.find((s) => s.spanId === c.parentSpanId);
      expect(parent, 'the upstream span is a child of a request span').toBeDefined();
      expect(c.traceId).toBe(parent!.traceId);
      expect(c.attrs).toMatchObject({ 'keygate.provider': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'http.response.status_code': 200 });
    }
    // The upstream got the client span's context, and nothing else new.
    const sent = mock.requests.map((r) => r.headers.traceparent);
    expect(sent).toHaveLength(2);
    for (const c of clients) expect(sent).toContain(`00-${c.traceId}-${c.spanId}-01`);
    expect(exports.join('\n')).toContain('"keygate-test"');
  });

  it('exports no key, token or prompt text', async () => {
    const text = exports.join('\n');
    recordOutput('tracing-otlp', text);
    for (const secret of [SERVER_KEY, key, gw.adminKey, PROMPT, 'kg-not-a-real-key-0123456789', 'authorization']) expect(text).not.toContain(secret);
  });
});

describe('tracing from OTEL_EXPORTER_OTLP_ENDPOINT, propagation off by default', () => {
  it('traces, but sends no traceparent upstream', async () => {
    const gw = await startTestGateway({
      label: 'tracing-env',
      env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OPENAI_BASE_URL: mock.url },
      config: { upstream: { retries: 0 } },
    });
    try {
      exports.length = 0;
      mock.requests.length = 0;
      const res = await chat(gw, gw.adminKey);
      expect(res.status).toBe(200);
      await gw.ctx.tracing!.flush();
      expect(spans().some((s) => s.kind === 3 && s.attrs['keygate.provider'] === 'openai')).toBe(true);
      expect(mock.requests[0].headers.traceparent).toBeUndefined();
      for (const secret of [SERVER_KEY, gw.adminKey, PROMPT]) expect(exports.join('\n')).not.toContain(secret);
    } finally {
      await gw.stop();
    }
  });
});

describe('tracing off (the default)', () => {
  it('builds nothing: no tracer, no traceparent upstream', async () => {
    const gw = await startTestGateway({ label: 'tracing-off', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url }, config: { upstream: { retries: 0 } } });
    try {
      expect(gw.ctx.tracing).toBeNull();
      mock.requests.length = 0;
      expect((await chat(gw, gw.adminKey)).status).toBe(200);
      expect(mock.requests[0].headers.traceparent).toBeUndefined();
    } finally {
      await gw.stop();
    }
  });

  it('reads the endpoint from config, then the standard variables', () => {
    const s = { serviceName: 'k', sampleRatio: 1, propagate: false };
    expect(tracesUrl(s, {})).toBeNull();
    expect(tracesUrl({ ...s, otlpEndpoint: 'http://c:4318/' }, {})).toBe('http://c:4318/v1/traces');
    expect(tracesUrl(s, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e:4318' })).toBe('http://e:4318/v1/traces');
    expect(tracesUrl(s, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom' })).toBe('http://t:4318/custom');
    expect(tracesUrl({ ...s, otlpEndpoint: 'http://c:4318/v1/traces' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://e:4318' })).toBe('http://c:4318/v1/traces');
  });
});
