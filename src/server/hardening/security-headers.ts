/**
 * Security headers on every answer (helmet's defaults that matter for a JSON/SSE API).
 * HSTS is sent only when the request reached us over HTTPS (directly or via a trusted proxy).
 */
import type { FastifyReply } from 'fastify';

const STATIC_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'x-dns-prefetch-control': 'off',
  'x-permitted-cross-domain-policies': 'none',
};
const HSTS = 'max-age=31536000; includeSubDomains';

/** Part of the request-start hook (app.ts); `https` says whether the request came over HTTPS. */
export function setSecurityHeaders(reply: FastifyReply, https: boolean): void {
  reply.headers(STATIC_HEADERS);
  if (https) reply.header('strict-transport-security', HSTS);
}
