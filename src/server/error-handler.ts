/**
 * Turns anything thrown on the request path into OpenAI's error envelope with the right
 * status. Unknown errors become a bare 500: their text and stack stay in the (masked) log.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errors } from '../core/errors.js';

export function toGatewayError(err: unknown, bodyLimit: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as FastifyError & { validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }> };
  if (e.validation?.length) {
    const v = e.validation[0];
    const missing = v.params?.missingProperty as string | undefined;
    const path = toParam(v.instancePath, missing);
    return errors.invalidBody(`Invalid request body: '${path || 'body'}' ${v.message ?? 'is invalid'}.`, path || undefined);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.bodyTooLarge(bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errors.badJson();
  }
  if (e instanceof SyntaxError || e.statusCode === 400) return errors.badJson();
  return errors.internal();
}

/** `/messages/0/role` + missing `content` -> `messages[0].role` / `messages[0].content`. */
function toParam(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (missing) parts.push(missing);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

export function sendError(reply: FastifyReply, err: GatewayError): void {
  reply.code(err.status).headers(err.headers).send(err.toJSON());
}

export function makeErrorHandler(bodyLimit: number) {
  return function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const ge = toGatewayError(err, bodyLimit);
    if (ge.status >= 500 && !(err instanceof GatewayError)) req.log.error({ err }, 'unhandled error');
    sendError(reply, ge);
  };
}
