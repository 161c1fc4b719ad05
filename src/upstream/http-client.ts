/**
 * Upstream HTTP: one undici Agent (a keep-alive pool per origin) with a connect timeout,
 * a first-byte (headers) timeout and an idle (body) timeout. Failures become GatewayErrors
 * (502/504) that never carry the upstream's words, only ours.
 */
import { Agent, type Dispatcher } from 'undici';
import { GatewayError, errors } from '../core/errors.js';
import type { CallAbort } from './call-abort.js';

export interface UpstreamClientOptions {
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsPerOrigin: number;
}

export interface UpstreamRequest {
  origin: string;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal | CallAbort;
}

export type UpstreamResponse = Dispatcher.ResponseData;

export class UpstreamClient {
  readonly #agent: Agent;
  readonly #connections: number;

  constructor(opts: UpstreamClientOptions) {
    this.#connections = opts.connectionsPerOrigin;
    this.#agent = new Agent({
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.firstByteTimeoutMs,
      bodyTimeout: opts.idleTimeoutMs,
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      // No redirect interceptor: a 3xx is returned as is, so a request and its key never
      // follow a redirect to another host.
    });
  }

  request(req: UpstreamRequest): Promise<UpstreamResponse> {
    return this.#agent.request({
      origin: req.origin,
      path: req.path,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
  }

  /** Busy connections over the pool's capacity (0..1), per upstream origin, for the saturation gauge. */
  saturation(): Array<{ origin: string; ratio: number }> {
    return Object.entries(this.#agent.stats).map(([origin, s]) => {
      // A pool counts its free connections; a single client (one connection) is busy while it runs a request.
      const busy = 'free' in s ? s.connected - s.free : s.running > 0 ? 1 : 0;
      return { origin, ratio: busy / this.#connections };
    });
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** Maps a failure of the upstream call (network, timeout, abort) to the client's error. */
export function upstreamFailure(err: unknown, provider: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string } | null)?.code ?? '';
  const name = (err as { name?: string } | null)?.name ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || name === 'TimeoutError') {
    return errors.upstreamTimeout(provider);
  }
  return errors.upstreamUnreachable(provider);
}
