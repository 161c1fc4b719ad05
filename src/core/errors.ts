/**
 * The one catalogue of errors the gateway can answer with. Every error carries an HTTP
 * status and serialises to OpenAI's envelope `{error:{message,type,code}}`. Messages are
 * written by us, never copied from a client or an upstream, so no secret can ride in them.
 */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'upstream_error'
  | 'timeout_error'
  | 'keygate_policy_violation'
  | 'server_error';

export interface ErrorBody {
  error: { message: string; type: ErrorType; code: string; param?: string | null };
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  /** Extra response headers, e.g. WWW-Authenticate or Retry-After. */
  readonly headers: Record<string, string>;
  /** The status the upstream itself answered with (ours may be mapped, e.g. 503 -> 502); null when none. */
  readonly upstreamStatus: number | null;

  constructor(
    status: number,
    type: ErrorType,
    code: string,
    message: string,
    opts: { param?: string; headers?: Record<string, string>; upstreamStatus?: number } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = opts.param ?? null;
    this.headers = opts.headers ?? {};
    this.upstreamStatus = opts.upstreamStatus ?? null;
  }

  toJSON(): ErrorBody {
    const error: ErrorBody['error'] = { message: this.message, type: this.type, code: this.code };
    if (this.param) error.param = this.param;
    return { error };
  }
}

const bearerChallenge = (error: string, description: string): Record<string, string> => ({
  'www-authenticate': `Bearer realm="keygate", error="${error}", error_description="${description}"`,
});

/** Constructors, so call sites read as the condition they report. */
export const errors = {
  badJson: () => new GatewayError(400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON.'),
  invalidBody: (message: string, param?: string) =>
    new GatewayError(400, 'invalid_request_error', 'invalid_request', message, { param }),
  bodyTooLarge: (limit: number) =>
    new GatewayError(413, 'invalid_request_error', 'body_too_large', `The request body exceeds the limit of ${limit} bytes.`),
  unsupportedMediaType: () =>
    new GatewayError(415, 'invalid_request_error', 'unsupported_media_type', 'Send the body as application/json.'),
  unknownModel: (model: string) =>
    new GatewayError(404, 'not_found_error', 'model_not_found', `The model '${clip(model)}' is not served by this gateway. GET /v1/models lists the models you can use.`, { param: 'model' }),
  unknownProvider: (provider: string) =>
    new GatewayError(404, 'not_found_error', 'provider_not_found', `The provider '${clip(provider)}' is not configured on this gateway.`, { param: 'model' }),
  notFound: (what = 'route') => new GatewayError(404, 'not_found_error', 'not_found', `No such ${what}.`),
  methodNotAllowed: () => new GatewayError(405, 'invalid_request_error', 'method_not_allowed', 'Method not allowed.'),
  missingCredential: () =>
    new GatewayError(401, 'authentication_error', 'missing_api_key', 'Missing keygate key. Send Authorization: Bearer kg-... (or x-keygate-key in passthrough mode).', {
      headers: bearerChallenge('invalid_request', 'missing credential'),
    }),
  malformedCredential: () =>
    new GatewayError(400, 'invalid_request_error', 'malformed_credential', 'The credential is malformed. Send Authorization: Bearer <key>.', {
      headers: bearerChallenge('invalid_request', 'malformed credential'),
    }),
  invalidCredential: () =>
    new GatewayError(401, 'authentication_error', 'invalid_api_key', 'The keygate key is not valid.', {
      headers: bearerChallenge('invalid_token', 'invalid credential'),
    }),
  revokedCredential: () =>
    new GatewayError(401, 'authentication_error', 'revoked_api_key', 'The keygate key has been revoked.', {
      headers: bearerChallenge('invalid_token', 'revoked credential'),
    }),
  expiredCredential: () =>
    new GatewayError(401, 'authentication_error', 'expired_api_key', 'The keygate credential has expired.', {
      headers: bearerChallenge('invalid_token', 'expired credential'),
    }),
  missingPassthroughKey: () =>
    new GatewayError(401, 'authentication_error', 'missing_provider_key',
      'Missing Authorization header. In passthrough mode the client must supply Authorization: Bearer <your-api-key>.'),
  noProviderKey: (provider: string) =>
    new GatewayError(401, 'authentication_error', 'missing_provider_key',
      `No ${provider} key is configured on the gateway. Configure one server-side, or send your own in Authorization (key mode auto or passthrough).`),
  forbidden: (message: string, code = 'forbidden') => new GatewayError(403, 'permission_error', code, message),
  rateLimited: (message: string, headers: Record<string, string>) =>
    new GatewayError(429, 'rate_limit_error', 'rate_limit_exceeded', message, { headers }),
  quotaExceeded: (message: string, headers: Record<string, string> = {}) =>
    new GatewayError(429, 'insufficient_quota', 'quota_exceeded', message, { headers }),
  upstreamTimeout: (provider: string) =>
    new GatewayError(504, 'timeout_error', 'upstream_timeout', `The ${provider} upstream did not answer in time.`),
  upstreamUnreachable: (provider: string) =>
    new GatewayError(502, 'upstream_error', 'upstream_unreachable', `The ${provider} upstream could not be reached or closed the connection.`),
  upstreamBadResponse: (provider: string) =>
    new GatewayError(502, 'upstream_error', 'upstream_bad_response', `The ${provider} upstream answered with a response that is not valid JSON.`),
  streamIncomplete: (provider: string) =>
    new GatewayError(502, 'upstream_error', 'stream_incomplete', `The ${provider} upstream ended the stream before it was complete (no [DONE]); the answer may be cut short.`),
  unavailable: (message: string) => new GatewayError(503, 'server_error', 'unavailable', message),
  circuitOpen: (provider: string) => new GatewayError(503, 'server_error', 'unavailable', `The ${provider} upstream is failing; its circuit is open.`),
  internal: () => new GatewayError(500, 'server_error', 'internal_error', 'Internal gateway error.'),
};

/** Client-supplied text echoed in an error is clipped, so an error cannot be used as an amplifier. */
function clip(s: string, max = 100): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** Maps an upstream HTTP status to the OpenAI error type a client SDK expects. */
export function errorTypeForStatus(status: number): ErrorType {
  if (status === 400 || status === 404 || status === 422) return status === 404 ? 'not_found_error' : 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 408 || status === 504) return 'timeout_error';
  return 'upstream_error';
}
