/**
 * Strict CORS: no origin is allowed unless configured. Preflights are answered before
 * authentication (browsers send them without credentials); a disallowed origin gets no CORS
 * headers, so the browser blocks the call.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Headers clients of keygate and of the provider SDKs it mimics send. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-keygate-key',
  'x-partial-key-id',
  'x-partial-key',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'anthropic-version',
  'anthropic-beta',
  'openai-beta',
  'openai-organization',
  'openai-project',
  'x-stainless-arch',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
  'x-request-id',
].join(', ');

const EXPOSED = 'x-request-id, x-keygate-provider, x-keygate-model, retry-after, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens';

export interface CorsOptions {
  origins: readonly string[];
  maxAgeSeconds: number;
}

/** Part of the request-start hook (app.ts): true when it answered the request (a preflight). */
export function makeCors(opts: CorsOptions) {
  const allowAll = opts.origins.includes('*');
  const allowed = new Set(opts.origins.map((o) => o.toLowerCase()));
  const maxAge = String(opts.maxAgeSeconds);
  return function cors(req: FastifyRequest, reply: FastifyReply): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    reply.header('vary', 'origin');
    const ok = allowAll || allowed.has(origin.toLowerCase());
    if (ok) {
      reply.header('access-control-allow-origin', allowAll ? '*' : origin);
      reply.header('access-control-expose-headers', EXPOSED);
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      if (ok) {
        reply.header('access-control-allow-methods', 'GET, POST, DELETE, PATCH, OPTIONS');
        reply.header('access-control-allow-headers', CORS_ALLOWED_HEADERS);
        reply.header('access-control-max-age', maxAge);
      }
      reply.code(204).send();
      return true;
    }
    return false;
  };
}
