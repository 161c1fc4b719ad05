/**
 * Anthropic error bodies `{type:'error', error:{type, message}}` -> OpenAI error types and
 * statuses (https://docs.anthropic.com/en/api/errors).
 */
import { GatewayError, errorTypeForStatus, type ErrorType } from '../../core/errors.js';
import type { MappedUpstreamError } from '../../core/provider.js';
import { isRecord, str } from '../_shared/translate.js';

const BY_TYPE: Record<string, { status: number; type: ErrorType }> = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  authentication_error: { status: 401, type: 'authentication_error' },
  billing_error: { status: 429, type: 'insufficient_quota' },
  permission_error: { status: 403, type: 'permission_error' },
  not_found_error: { status: 404, type: 'not_found_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limit_error: { status: 429, type: 'rate_limit_error' },
  timeout_error: { status: 504, type: 'timeout_error' },
  api_error: { status: 502, type: 'upstream_error' },
  // 529 is Anthropic's own; clients and retry logic know 503.
  overloaded_error: { status: 503, type: 'upstream_error' },
};

export function mapAnthropicError(status: number, body: unknown): MappedUpstreamError {
  const err = isRecord(body) && isRecord(body.error) ? body.error : {};
  const kind = str(err.type);
  const known = kind ? BY_TYPE[kind] : undefined;
  const fallbackStatus = status >= 500 ? 502 : status;
  return {
    status: known?.status ?? fallbackStatus,
    type: known?.type ?? errorTypeForStatus(status),
    code: kind ?? 'upstream_error',
    message: str(err.message)?.slice(0, 2000) ?? `The Anthropic upstream answered with status ${status}.`,
  };
}

/**
 * An `event: error` inside a stream, as a GatewayError the server reports in-band. The
 * message is ours: stream errors bypass the caller's redaction of upstream messages.
 */
export function streamError(body: unknown): GatewayError {
  const m = mapAnthropicError(500, body);
  return new GatewayError(m.status, m.type, m.code, `The Anthropic upstream failed mid-stream (${m.code.slice(0, 60)}).`);
}
