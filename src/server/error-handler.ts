/**
 * Turns anything thrown on the request path into OpenAI's error envelope with the right
 * status. Unknown errors become a bare 500: their text and stack stay in the (masked) log.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, errors } from '../core/errors.js';

// Fastify runs the onError hook (which reads the code for the record) before the scope's
// error handler (which writes the answer): both convert, the error is converted once.
const converted = new WeakMap<object, GatewayError>();

export function toGatewayError(err: unknown, bodyLimit: number): GatewayError {
  if (err instanceof GatewayError) return err;
  if (typeof err !== 'object' || err === null) return errors.internal();
  let ge = converted.get(err);
  if (!ge) converted.set(err, (ge = convert(err, bodyLimit)));
  return ge;
}

function convert(err: object, bodyLimit: number): GatewayError {
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

/** Errors Fastify raises before routing (a URL it cannot decode), in the same envelope. */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id);
  sendError(reply, frameworkError(err));
}

function frameworkError(err: FastifyError): GatewayError {
  // The URL is never echoed: it is the client's text, and it may carry anything.
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new GatewayError(400, 'invalid_request_error', 'invalid_url', 'The URL is not valid: it contains malformed percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new GatewayError(414, 'invalid_request_error', 'url_too_long', 'A segment of the URL is too long.');
    default:
      return errors.internal();
  }
}

/**
 * A request Node's HTTP parser refused (malformed, headers too large, too slow to arrive):
 * no request object exists, so the answer is written on the socket, in the same envelope.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset connection, or one already gone: nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const ge =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new GatewayError(408, 'timeout_error', 'request_timeout', 'The request did not arrive in time.')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError(431, 'invalid_request_error', 'headers_too_large', 'The request headers are too large.')
        : new GatewayError(400, 'invalid_request_error', 'malformed_request', 'The HTTP request is malformed.');
  // Only when no answer has started on this connection (as Node itself does).
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !inProgress) {
    const body = JSON.stringify(ge.toJSON());
    socket.write(
      `HTTP/1.1 ${ge.status} ${STATUS_CODES[ge.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
