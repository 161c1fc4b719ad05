/**
 * Credentials on the native routes. An official SDK sends its key in its own header
 * (`x-api-key` or `Authorization` for Anthropic, `x-goog-api-key` for Gemini, `Authorization`
 * for OpenAI): that header carries the keygate key, or, in passthrough/auto, the client's own
 * provider key, with the keygate credential then in `x-keygate-key`. The values are then
 * handed to the gateway's one authentication step, unchanged in meaning.
 */
import type { FastifyRequest } from 'fastify';
import { isKeygateCredential, parseBearer } from '../../../auth/credentials.js';
import { errors } from '../../../core/errors.js';
import type { makeAuthenticate } from '../../authenticate.js';

type HeaderValue = string | string[] | undefined;

export interface NativeCredentials {
  keygateKey: string | null;
  providerKey: string | null;
}

// Keygate-issued credentials are accepted in every SDK's key header, whatever the provider.
const KEYGATE_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key'] as const;

function single(v: HeaderValue): string | undefined {
  if (!Array.isArray(v)) return v;
  // A repeated credential header is ambiguous: refused, never resolved by picking one.
  if (v.length > 1) throw errors.malformedCredential();
  return v[0];
}

function valueOf(name: string, raw: string): string {
  return name === 'authorization' ? parseBearer(raw) : raw.trim();
}

export function readNativeCredentials(headers: Record<string, HeaderValue>, providerKeyHeaders: readonly string[]): NativeCredentials {
  const keygate = new Set<string>();
  const provider = new Set<string>();
  const explicit = single(headers['x-keygate-key']);
  if (explicit !== undefined) keygate.add(explicit);
  for (const name of new Set([...KEYGATE_HEADERS, ...providerKeyHeaders])) {
    const raw = single(headers[name]);
    if (raw === undefined || raw.trim() === '') continue;
    const value = valueOf(name, raw);
    if (isKeygateCredential(value)) keygate.add(value);
    // A provider key is taken only from the header that provider's SDK uses for it.
    else if (providerKeyHeaders.includes(name)) provider.add(value);
  }
  // Two different credentials of one kind: which one is meant is ambiguous, so neither is used.
  if (keygate.size > 1 || provider.size > 1) throw errors.malformedCredential();
  return { keygateKey: [...keygate][0] ?? null, providerKey: [...provider][0] ?? null };
}

/**
 * Runs the gateway's authentication on the credentials found above: the step reads them
 * from a view of the request whose only headers are the normalised ones, and its results
 * (principal, client provider key) are copied back onto the request.
 */
export function makeNativeAuthenticate(authenticate: ReturnType<typeof makeAuthenticate>, providerKeyHeaders: readonly string[]) {
  return async function nativeAuthenticate(req: FastifyRequest): Promise<void> {
    const creds = readNativeCredentials(req.headers, providerKeyHeaders);
    const headers: Record<string, string> = {};
    if (creds.keygateKey) headers['x-keygate-key'] = creds.keygateKey;
    if (creds.providerKey) headers.authorization = `Bearer ${creds.providerKey}`;
    const view = Object.create(req, { headers: { value: headers, enumerable: true } }) as FastifyRequest;
    try {
      await authenticate(view);
    } finally {
      req.principal = view.principal;
      req.clientProviderKey = view.clientProviderKey;
    }
  };
}
