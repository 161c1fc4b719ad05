/**
 * The reference proxies of `npm run bench:ab`: the floor, and two that price the web framework
 * on its own. Those two do exactly the same JSON work as keygate's skeleton (read the body, JSON.parse, validate with
 * keygate's own chat-completion schema and AJV options, JSON.stringify upstream through undici,
 * JSON.parse the answer, send it back), one on plain node:http, one on Fastify with a route
 * schema and an onRequest and onResponse hook, as keygate's app has. Their difference is what
 * Fastify's per-request machinery costs; their distance from the floor is what the JSON costs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import Fastify from 'fastify';
import { Agent } from 'undici';
import { chatCompletionBodySchema } from '../../src/server/schemas.js';
import { floorHandler } from './floor-proxy.js';

const AJV_OPTIONS = { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } as const;

export interface ReferenceProxy {
  url: string;
  close(): Promise<void>;
}

/** A node:http server on a loopback port, closed with the agent it relays through. */
async function listening(server: Server, agent: Agent): Promise<ReferenceProxy> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await agent.close();
    },
  };
}

/** The floor's own handler (floor-proxy.ts), in this process: what any Node gateway pays at least. */
export function startFloorProxy(origin: string): Promise<ReferenceProxy> {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  return listening(createServer({ keepAliveTimeout: 60_000 }, floorHandler(origin, agent)), agent);
}

function relay(agent: Agent, origin: string) {
  return async (body: unknown): Promise<{ status: number; text: string }> => {
    const up = await agent.request({ origin, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: up.statusCode, text: JSON.stringify(JSON.parse(await up.body.text())) };
  };
}

export async function startNodeJsonProxy(origin: string): Promise<ReferenceProxy> {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  const call = relay(agent, origin);
  const validate = new Ajv(AJV_OPTIONS).compile(chatCompletionBodySchema);
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (!validate(body)) {
        res.writeHead(400).end();
        return;
      }
      call(body).then(
        (r) => res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(r.text) }).end(r.text),
        () => res.writeHead(502).end(),
      );
    });
  });
  return listening(server, agent);
}

export async function startFastifyJsonProxy(origin: string): Promise<ReferenceProxy> {
  const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
  const call = relay(agent, origin);
  const app = Fastify({ ajv: { customOptions: AJV_OPTIONS } });
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('x-request-id', 'bench');
    done();
  });
  app.addHook('onResponse', (_req, _reply, done) => done());
  app.post('/v1/chat/completions', { schema: { body: chatCompletionBodySchema } }, async (req, reply) => {
    const r = await call(req.body);
    reply.code(r.status).header('content-type', 'application/json; charset=utf-8').send(r.text);
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    close: async () => {
      await app.close();
      await agent.close();
    },
  };
}
