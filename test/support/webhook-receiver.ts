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
  /** The first delivery to arrive after this call (call it before triggering the event). Rejects on close(). */
  next(): Promise<Delivery>;
  /** The deliveries' JSON payloads, with their signature. */
  events(): Array<{ type: string; data: Record<string, unknown>; signature: string | undefined }>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Delivery[] = [];
  const waiters: Array<{ resolve: (d: Delivery) => void; reject: (err: Error) => void }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const delivery = { body, signature: req.headers['x-keygate-signature'] as string | undefined };
      received.push(delivery);
      res.writeHead(200).end('ok');
      for (const w of waiters.splice(0)) w.resolve(delivery);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    events: () => received.map((d) => ({ ...(JSON.parse(d.body) as { type: string; data: Record<string, unknown> }), signature: d.signature })),
    next: () => new Promise<Delivery>((resolve, reject) => waiters.push({ resolve, reject })),
    close: () => {
      // A test still waiting learns why instead of running into its timeout.
      for (const w of waiters.splice(0)) w.reject(new Error('webhook receiver closed before the next delivery'));
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
