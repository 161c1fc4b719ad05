import { describe, expect, it } from 'vitest';
import { mapAnthropicError } from './errors.js';

const body = (type: string, message = 'm') => ({ type: 'error', error: { type, message } });

describe('anthropic error mapping', () => {
  it.each([
    [400, 'invalid_request_error', 400, 'invalid_request_error'],
    [401, 'authentication_error', 401, 'authentication_error'],
    [403, 'permission_error', 403, 'permission_error'],
    [404, 'not_found_error', 404, 'not_found_error'],
    [413, 'request_too_large', 413, 'invalid_request_error'],
    [429, 'rate_limit_error', 429, 'rate_limit_error'],
    [500, 'api_error', 502, 'upstream_error'],
    [529, 'overloaded_error', 503, 'upstream_error'],
  ])('%i %s -> %i %s', (status, type, outStatus, outType) => {
    expect(mapAnthropicError(status, body(type, 'boom'))).toEqual({ status: outStatus, type: outType, code: type, message: 'boom' });
  });

  it('falls back on the status for unknown shapes', () => {
    expect(mapAnthropicError(503, 'nope')).toMatchObject({ status: 502, type: 'upstream_error', code: 'upstream_error' });
    expect(mapAnthropicError(429, {})).toMatchObject({ status: 429, type: 'rate_limit_error' });
  });
});
