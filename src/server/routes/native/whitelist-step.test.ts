import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../config/schema.js';
import { GatewayError } from '../../../core/errors.js';
import { openaiNativeSpec } from '../../../providers/openai/native-endpoints.js';
import { buildWhitelist, resolveMatch } from './whitelist-step.js';

const thrown = (f: () => unknown): GatewayError => {
  try {
    f();
  } catch (e) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('buildWhitelist / resolveMatch', () => {
  it('refuses an unknown endpoint group at start-up, naming it and the valid ones', () => {
    const config = configSchema.parse({ providers: { openai: { nativeEndpoints: ['everything'] } } });
    expect(() => buildWhitelist(openaiNativeSpec, config)).toThrow(/'everything'.*files/);
  });

  it('opens an account-wide group only when enabled', () => {
    const off = buildWhitelist(openaiNativeSpec, configSchema.parse({}));
    expect(thrown(() => resolveMatch(off, 'GET', '/v1/files')).code).toBe('endpoint_not_enabled');
    const on = buildWhitelist(openaiNativeSpec, configSchema.parse({ providers: { openai: { nativeEndpoints: ['files'] } } }));
    expect(resolveMatch(on, 'GET', '/v1/files?limit=5')).toMatchObject({ path: '/v1/files', query: '?limit=5' });
    expect(thrown(() => resolveMatch(on, 'POST', '/v1/batches')).code).toBe('endpoint_not_enabled');
  });

  it('maps refusals to 400, 404 and 405 (with Allow)', () => {
    const w = buildWhitelist(openaiNativeSpec, configSchema.parse({}));
    expect(thrown(() => resolveMatch(w, 'POST', '/v1/../files')).status).toBe(400);
    expect(thrown(() => resolveMatch(w, 'POST', '/v1/nope')).status).toBe(404);
    const e = thrown(() => resolveMatch(w, 'GET', '/v1/chat/completions'));
    expect(e.status).toBe(405);
    expect(e.headers.allow).toBe('POST');
  });
});
