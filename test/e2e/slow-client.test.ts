/**
 * A client that reads a stream slowly, then disconnects. The gateway waits for the client's
 * buffer to drain; the disconnect must end that wait: the call is recorded as 499, the upstream
 * call aborted, the provider-key lease released (so a rotated key can retire).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordSecret } from '../support/artifacts.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startMockOpenAI, type MockOpenAI } from '../mock-upstream/openai.js';

/** Polling for what the gateway reaches by itself (a blocked write, a record, a release). */
const WAIT = { timeout: 30_000, interval: 50 };

let mock: MockOpenAI;
let gw: TestGateway;
beforeAll(async () => {
  mock = await startMockOpenAI();
  gw = await startTestGateway({
    label: 'slow-client',
    env: { KEY_MODE: 'server', OPENAI_API_KEY: recordSecret(`sk-proj-${randomBytes(24).toString('base64url')}`), OPENAI_BASE_URL: mock.url },
  });
});
afterAll(async () => {
  await gw?.stop();
  await mock?.close();
});

/** Sends a streaming request on a raw socket and stops reading as soon as the answer starts. */
function slowStream(path: string): Promise<Socket> {
  const { port } = new URL(gw.url);
  const body = JSON.stringify({ model: 'mock-firehose', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${gw.adminKey}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (!first.toString('latin1').startsWith('HTTP/1.1 200')) reject(new Error(`not a 200: ${first.toString('latin1').slice(0, 200)}`));
      else resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The firehose has filled every buffer up to the paused client: it waits, and its count stays put. */
async function untilBlocked(): Promise<void> {
  let last = -1;
  let still = 0;
  await vi.waitFor(() => {
    const { bytes, waiting } = mock.firehose;
    still = waiting && bytes === last && bytes > 1024 * 1024 ? still + 1 : 0;
    last = bytes;
    expect(still, 'the stream blocks on the paused client').toBeGreaterThanOrEqual(4);
  }, WAIT);
}

const openaiInFlight = () => gw.ctx.providerKeys.snapshot().find((p) => p.provider === 'openai')?.keys.reduce((n, k) => n + k.inFlight, 0) ?? -1;

async function records(endpoint: string): Promise<Array<{ status: number; error_code: string | null }>> {
  await gw.ctx.usage.flush();
  return (await gw.ctx.store.db.selectFrom('requests').select(['status', 'error_code', 'endpoint']).where('model', '=', 'mock-firehose').execute()).filter((r) => r.endpoint === endpoint);
}

describe('a slow client that disconnects mid-stream', { timeout: 60_000 }, () => {
  for (const [name, path, endpoint] of [
    ['/v1/chat/completions', '/v1/chat/completions', 'chat'],
    ['the native /openai route', '/openai/v1/chat/completions', 'native:chat'],
  ] as const) {
    it(`${name}: recorded as 499, upstream aborted, key lease released`, async () => {
      const socket = await slowStream(path);
      await untilBlocked();
      expect(openaiInFlight()).toBe(1);
      const aborted = mock.nextAbort();
      socket.destroy();
      await aborted;
      await vi.waitFor(async () => expect((await records(endpoint)).length, 'the call is recorded').toBeGreaterThan(0), WAIT);
      expect(await records(endpoint)).toEqual([expect.objectContaining({ status: 499, error_code: 'client_closed' })]);
      await vi.waitFor(() => expect(openaiInFlight(), 'the lease is released').toBe(0), WAIT);
    });
  }
});
