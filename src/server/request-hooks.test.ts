/**
 * The request-start and response-end hooks of app.ts (one of each, callback style): the
 * shutdown answer on a kept-alive connection, and the record and access line of a refusal.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSecret } from '../../test/support/artifacts.js';
import { startTestGateway, type TestGateway } from '../../test/support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../../test/mock-upstream/openai.js';

const SERVER_KEY = recordSecret('sk-proj-HOOKSserverkey0123456789abcdefghijklm');
let mock: MockOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({ label: 'request-hooks', env: { KEY_MODE: 'server', OPENAI_API_KEY: SERVER_KEY, OPENAI_BASE_URL: mock.url } });
});
afterAll(async () => {
  await gw.stop().catch(() => undefined);
  await mock.close();
});

describe('a refusal', () => {
  it('is answered with the request id and security headers, recorded with its code, and logged once', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    await gw.ctx.usage.flush();
    const row = await gw.ctx.store.db.selectFrom('requests').selectAll().where('request_id', '=', id!).executeTakeFirst();
    expect(row?.status).toBe(401);
    expect(row?.error_code).toBe('missing_api_key');
    const lines = gw.logLines().filter((l) => l.includes(id!) && l.includes('"msg":"request"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"status":401');
  });

  it('of a body that fails validation is recorded with the code it was answered with', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` }, body: '{"model":"gpt-4o-mini"}' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string } };
    await gw.ctx.usage.flush();
    const row = await gw.ctx.store.db.selectFrom('requests').selectAll().where('request_id', '=', res.headers.get('x-request-id')!).executeTakeFirst();
    expect(row?.error_code).toBe(body.error.code);
  });
});

describe('the error metric', () => {
  const errorsOfType = async (type: string) => {
    const text = await gw.ctx.metrics.exposition();
    return Number(new RegExp(`^keygate_errors_total\\{type="${type}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };

  it('counts an error under the type its body named (an upstream 410 passed through is an upstream_error)', async () => {
    const before = await errorsOfType('upstream_error');
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.adminKey}` },
      body: JSON.stringify({ model: 'mock-fail-9-410', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(410);
    const body = (await res.json()) as { error: { type: string } };
    expect(body.error.type).toBe('upstream_error');
    expect(await errorsOfType('upstream_error')).toBe(before + 1);
  });

  it('counts a refusal under its own type too', async () => {
    const before = await errorsOfType('authentication_error');
    const res = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"x","input":"y"}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    expect(await errorsOfType('authentication_error')).toBe(before + 1);
  });
});

describe('shutdown', () => {
  it('finishes the request in flight and answers the next one on that connection 503, connection: close', async () => {
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const body = JSON.stringify({ model: 'mock-gated-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${gw.adminKey}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await mock.firstChunkSent();
    const closed = gw.close();
    await new Promise((r) => setTimeout(r, 100));
    // Pipelined on the same connection while the first is still streaming.
    socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    mock.release();
    await closed;
    await ended;
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(answers[0]).toContain('data: [DONE]');
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(answers[1].toLowerCase()).toContain('connection: close');
    expect(answers[1]).toMatch(/x-request-id: [0-9a-f-]{36}/);
    expect(answers[1]).toContain('"code":"unavailable"');
    expect(answers.length).toBe(2);
  });
});
