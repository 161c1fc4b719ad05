/**
 * The HTTP part of the library client: one POST to the provider with the key in its
 * header (never in the URL), redirects not followed (a key must not follow one to another
 * host), and an upstream error turned into a GatewayError with any key masked.
 */
import { GatewayError, errorTypeForStatus, errors } from '../core/errors.js';
import type { ProviderAdapter } from '../core/provider.js';
import { redactText } from '../core/redact.js';
import type { SecretString } from '../crypto/secret-string.js';
import { upstreamFailure } from '../upstream/http-client.js';

export interface ProviderCall {
  adapter: ProviderAdapter;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  key: SecretString | null;
  signal?: AbortSignal;
}

export async function postToProvider(call: ProviderCall): Promise<Response> {
  const headers = { 'content-type': 'application/json', ...call.headers, ...(call.key ? call.adapter.authHeaders(call.key.reveal()) : {}) };
  let res: Response;
  try {
    res = await fetch(call.url, { method: 'POST', headers, body: JSON.stringify(call.body), redirect: 'manual', signal: call.signal });
  } catch (err) {
    throw upstreamFailure(err, call.adapter.displayName);
  }
  if (res.status >= 300) throw await upstreamError(res, call);
  return res;
}

async function upstreamError(res: Response, call: ProviderCall): Promise<GatewayError> {
  const text = await res.text().catch(() => '');
  const secrets = call.key ? [call.key.reveal()] : [];
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: reported by status only
  }
  const mapped = call.adapter.mapError && parsed ? call.adapter.mapError(res.status, parsed) : null;
  if (mapped) return new GatewayError(mapped.status, mapped.type, mapped.code, redactText(mapped.message, secrets).slice(0, 2000));
  const e = (parsed as { error?: { message?: unknown; code?: unknown } } | null)?.error;
  const status = res.status >= 500 || res.status < 400 ? 502 : res.status;
  if (e && typeof e.message === 'string') {
    const code = typeof e.code === 'string' ? redactText(e.code, secrets).slice(0, 100) : 'upstream_error';
    return new GatewayError(status, errorTypeForStatus(res.status), code, redactText(e.message, secrets).slice(0, 2000));
  }
  return new GatewayError(status, errorTypeForStatus(res.status), 'upstream_error', `The ${call.adapter.displayName} upstream answered with status ${res.status}.`);
}

export function badResponse(adapter: ProviderAdapter): GatewayError {
  return errors.upstreamBadResponse(adapter.displayName);
}
