/** Gemini error bodies `{error:{code, message, status}}` -> OpenAI error types and statuses. */
import { GatewayError, errorTypeForStatus, type ErrorType } from '../../core/errors.js';
import type { MappedUpstreamError } from '../../core/provider.js';
import { isRecord, str } from '../_shared/translate.js';

// google.rpc.Code names, as Gemini sends them in `status` (https://ai.google.dev/gemini-api/docs/troubleshooting).
const BY_STATUS: Record<string, { status: number; type: ErrorType }> = {
  INVALID_ARGUMENT: { status: 400, type: 'invalid_request_error' },
  FAILED_PRECONDITION: { status: 400, type: 'invalid_request_error' },
  OUT_OF_RANGE: { status: 400, type: 'invalid_request_error' },
  UNAUTHENTICATED: { status: 401, type: 'authentication_error' },
  PERMISSION_DENIED: { status: 403, type: 'permission_error' },
  NOT_FOUND: { status: 404, type: 'not_found_error' },
  RESOURCE_EXHAUSTED: { status: 429, type: 'rate_limit_error' },
  CANCELLED: { status: 499, type: 'upstream_error' },
  INTERNAL: { status: 502, type: 'upstream_error' },
  UNAVAILABLE: { status: 503, type: 'upstream_error' },
  DEADLINE_EXCEEDED: { status: 504, type: 'timeout_error' },
};

export function mapGeminiError(status: number, body: unknown): MappedUpstreamError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : {};
  if (isInvalidKey(err)) {
    // Google answers a bad key with 400 INVALID_ARGUMENT; to a client that is an auth failure.
    return { status: 401, type: 'authentication_error', code: 'invalid_api_key', message: 'API key not valid.' };
  }
  const rpc = str(err.status);
  const known = rpc ? BY_STATUS[rpc] : undefined;
  const httpStatus = typeof err.code === 'number' ? err.code : status;
  return {
    status: known?.status ?? (httpStatus >= 500 ? 502 : httpStatus),
    type: known?.type ?? errorTypeForStatus(httpStatus),
    code: rpc ? rpc.toLowerCase() : 'upstream_error',
    message: str(err.message)?.slice(0, 2000) ?? `The Gemini upstream answered with status ${status}.`,
  };
}

function isInvalidKey(err: Record<string, unknown>): boolean {
  const details = Array.isArray(err.details) ? err.details : [];
  return details.some((d) => isRecord(d) && d.reason === 'API_KEY_INVALID') || /^API key not valid/.test(str(err.message) ?? '');
}

/** An error object inside a stream; the message is ours, as stream errors skip the caller's redaction. */
export function streamError(body: unknown): GatewayError {
  const m = mapGeminiError(500, body);
  return new GatewayError(m.status, m.type, m.code, `The Gemini upstream failed mid-stream (${m.code.slice(0, 60)}).`);
}
