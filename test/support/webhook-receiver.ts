/**
 * A local webhook endpoint on loopback that keeps every delivery it is sent (body and
 * signature header) and answers 200, for tests that follow an event to its delivery.
 * The gateway must allow it: `webhooks: { allowPrivateTargets: true, allowHttp: true }`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  body: string;
  /** The x-keygate-signature header (`t=...,v1=...`). */
  signature: string | undefined;
}

export interface WebhookReceiver {
  /** Where to point a webhook endpoint (`http://127.0.0.1:<port>/hook`). */
  url: string;
  received: Delivery[];
  /** The deliveries' JSON payloads, with their signature. */
  events(): Array<{ type: string; data: Record<string, unknown>; signature: string | undefined }>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-keygate-signature'] as string | undefined });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    events: () => received.map((d) => ({ ...(JSON.parse(d.body) as { type: string; data: Record<string, unknown> }), signature: d.signature })),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
