/**
 * A local stand-in for Azure Key Vault's secrets REST API (api-version 2025-07-01 / 7.x):
 * GET /secrets/{name}[/{version}], PUT /secrets/{name}, DELETE /secrets/{name},
 * GET /deletedsecrets/{name}, DELETE /deletedsecrets/{name} (purge), GET /secrets (list, paged
 * with nextLink). Like Key Vault, it answers a request without a bearer token with 401 and
 * `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}",
 * resource="https://vault.azure.net"`, which is how the SDK learns the tenant and scope.
 */
import { randomBytes } from 'node:crypto';
import { json, startMockServer, type MockServer } from './http-util.js';

interface Stored {
  value: string;
  version: string;
  tags?: Record<string, string>;
  contentType?: string;
  deleted?: boolean;
}

export interface MockAzure extends MockServer {
  secrets: Map<string, Stored>;
  challenges: number;
}

export async function startMockAzure(opts: { tenantId: string; accessToken: string }): Promise<MockAzure> {
  const secrets = new Map<string, Stored>();
  const counters = { challenges: 0 };
  let base = '';
  const bundle = (name: string, s: Stored, withValue = true) => ({
    ...(withValue ? { value: s.value } : {}),
    id: `${base}/secrets/${name}/${s.version}`,
    contentType: s.contentType,
    tags: s.tags,
    attributes: { enabled: true, created: 1_700_000_000, updated: 1_700_000_000, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
  });
  const notFound = (res: Parameters<typeof json>[0], name: string) =>
    json(res, 404, { error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` } });

  const server = await startMockServer((req, res) => {
    const url = new URL(req.url, 'http://kv');
    if (!url.searchParams.get('api-version')) return json(res, 400, { error: { code: 'MissingApiVersionParameter', message: 'api-version is required' } });
    const auth = req.headers.authorization;
    if (!auth) {
      counters.challenges++;
      return json(res, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, {
        'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${opts.tenantId}", resource="https://vault.azure.net"`,
      });
    }
    if (auth !== `Bearer ${opts.accessToken}`) return json(res, 401, { error: { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' } });

    const parts = url.pathname.split('/').filter(Boolean);
    const [collection, rawName] = parts;
    const name = rawName ? decodeURIComponent(rawName).toLowerCase() : undefined;
    if (name && !/^[0-9a-z-]{1,127}$/.test(name)) return json(res, 400, { error: { code: 'BadParameter', message: 'The request URI contains an invalid name' } });

    if (collection === 'secrets' && !name && req.method === 'GET') {
      const all = [...secrets.entries()].filter(([, s]) => !s.deleted).sort(([a], [b]) => a.localeCompare(b));
      const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
      const page = all.slice(skip, skip + 2);
      const next = skip + 2 < all.length ? `${base}/secrets?api-version=${url.searchParams.get('api-version')}&$skiptoken=${skip + 2}` : null;
      return json(res, 200, { value: page.map(([n, s]) => ({ ...bundle(n, s, false), id: `${base}/secrets/${n}` })), nextLink: next });
    }
    if (collection === 'secrets' && name) {
      const s = secrets.get(name);
      if (req.method === 'GET') return s && !s.deleted ? json(res, 200, bundle(name, s)) : notFound(res, name);
      if (req.method === 'PUT') {
        if (s?.deleted) return json(res, 409, { error: { code: 'Conflict', message: `Secret ${name} is currently in a deleted but recoverable state.` } });
        const body = JSON.parse(req.body) as { value?: string; tags?: Record<string, string>; contentType?: string };
        if (typeof body.value !== 'string') return json(res, 400, { error: { code: 'BadParameter', message: 'value is required' } });
        const stored: Stored = { value: body.value, version: randomBytes(16).toString('hex'), tags: body.tags, contentType: body.contentType };
        secrets.set(name, stored);
        return json(res, 200, bundle(name, stored));
      }
      if (req.method === 'DELETE') {
        if (!s || s.deleted) return notFound(res, name);
        s.deleted = true;
        return json(res, 200, { ...bundle(name, s, false), recoveryId: `${base}/deletedsecrets/${name}`, deletedDate: 1_700_000_100, scheduledPurgeDate: 1_707_776_100 });
      }
    }
    if (collection === 'deletedsecrets' && name) {
      const s = secrets.get(name);
      if (!s?.deleted) return json(res, 404, { error: { code: 'SecretNotFound', message: `Deleted Secret not found: ${name}` } });
      if (req.method === 'GET') return json(res, 200, { ...bundle(name, s, false), recoveryId: `${base}/deletedsecrets/${name}`, deletedDate: 1_700_000_100 });
      if (req.method === 'DELETE') {
        secrets.delete(name);
        res.writeHead(204).end();
        return;
      }
    }
    return json(res, 404, { error: { code: 'NotFound', message: 'no such route in the mock' } });
  });
  base = server.url;
  return Object.defineProperties(server, { secrets: { value: secrets }, challenges: { get: () => counters.challenges } }) as MockAzure;
}

export interface MockEntra extends MockServer {
  /** Token requests answered, and refused (wrong client id or secret). */
  issued: number;
  refused: number;
}

/**
 * A local stand-in for the Microsoft Entra ID v2.0 endpoints MSAL's client-credentials flow
 * calls: GET /{tenant}/v2.0/.well-known/openid-configuration and POST /{tenant}/oauth2/v2.0/token
 * (form body: client_id, client_secret, scope, grant_type=client_credentials). A wrong secret
 * gets Entra's 401 `invalid_client` (AADSTS7000215). MSAL calls an authority only over https,
 * so this runs with a certificate (test/mock-secrets/tls.ts).
 */
export async function startMockEntra(opts: { tenantId: string; clientId: string; clientSecret: string; accessToken: string; tls: { cert: string; key: string } }): Promise<MockEntra> {
  const counters = { issued: 0, refused: 0 };
  let base = '';
  const server = await startMockServer((req, res) => {
    const url = new URL(req.url, 'https://entra');
    const t = opts.tenantId;
    if (req.method === 'GET' && url.pathname === `/${t}/v2.0/.well-known/openid-configuration`) {
      return json(res, 200, {
        issuer: `${base}/${t}/v2.0`,
        authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
        end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
        jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.method === 'POST' && url.pathname === `/${t}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(req.body);
      if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== opts.clientId || form.get('client_secret') !== opts.clientSecret) {
        counters.refused++;
        return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
      }
      counters.issued++;
      return json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: opts.accessToken });
    }
    return json(res, 404, { error: 'not_found', error_description: `no route ${url.pathname} in the mock` });
  }, { tls: opts.tls });
  base = server.url;
  return Object.defineProperties(server, { issued: { get: () => counters.issued }, refused: { get: () => counters.refused } }) as MockEntra;
}
