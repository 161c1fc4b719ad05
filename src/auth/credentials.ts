/**
 * Reads the credentials a request carries: the keygate key (x-keygate-key, or a `kg-` bearer
 * in Authorization) and, for passthrough, the client's own provider key (any other bearer).
 */
import { errors } from '../core/errors.js';
import { KEY_PREFIX } from './keygate-keys.js';

export interface Credentials {
  keygateKey: string | null;
  clientProviderKey: string | null;
}

// Token68-ish: what a bearer value may contain. Anything else (spaces, CR/LF) is malformed.
const BEARER_VALUE = /^[A-Za-z0-9._~+/=:-]{1,4096}$/;
// A signed keygate token (compact JWS whose header starts with `{"`).
const SIGNED_TOKEN = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** A value keygate itself issued: a keygate key or a signed token. Anything else is a provider key. */
export function isKeygateCredential(token: string): boolean {
  return token.startsWith(KEY_PREFIX) || SIGNED_TOKEN.test(token);
}

export function isSignedToken(token: string): boolean {
  return SIGNED_TOKEN.test(token);
}

type HeaderValue = string | string[] | undefined;

function single(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function parseBearer(header: string): string {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m || !BEARER_VALUE.test(m[1])) throw errors.malformedCredential();
  return m[1];
}

export function readCredentials(headers: Record<string, HeaderValue>): Credentials {
  let keygateKey: string | null = null;
  let clientProviderKey: string | null = null;
  const explicit = single(headers['x-keygate-key']);
  if (explicit !== undefined) {
    if (!BEARER_VALUE.test(explicit)) throw errors.malformedCredential();
    keygateKey = explicit;
  }
  const authorization = single(headers.authorization);
  if (authorization !== undefined) {
    const token = parseBearer(authorization);
    if (keygateKey === null && isKeygateCredential(token)) keygateKey = token;
    else if (!isKeygateCredential(token)) clientProviderKey = token;
  }
  return { keygateKey, clientProviderKey };
}
