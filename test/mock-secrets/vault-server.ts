/**
 * A local stand-in for HashiCorp Vault that implements the documented KV v2 and auth APIs
 * the VaultBackend uses: GET/POST /v1/{mount}/data/{path}, DELETE /v1/{mount}/metadata/{path},
 * LIST (or GET ?list=true) /v1/{mount}/metadata/{prefix}, POST /v1/auth/approle/login,
 * GET /v1/auth/token/lookup-self, POST /v1/auth/token/renew-self. Error shapes: `{ errors: [...] }`
 * with 403 for a bad token, 404 with `errors: []` for a missing path, as Vault answers.
 */
import { randomBytes } from 'node:crypto';
import { json, startMockServer, type MockServer } from './http-util.js';

export interface MockVaultOptions {
  mount?: string;
  namespace?: string;
  rootToken: string;
  appRole?: { roleId: string; secretId: string; ttlSeconds: number };
  /** Serve HTTPS with this certificate. */
  tls?: { cert: string; key: string };
}

export interface MockVault extends MockServer {
  /** path under the mount -> KV data */
  kv: Map<string, Record<string, unknown>>;
  tokens: Set<string>;
  /** Invalidates every token except the root one (as if their leases ran out). */
  expireTokens(): void;
  logins: number;
  renewals: number;
}

export async function startMockVault(opts: MockVaultOptions): Promise<MockVault> {
  const mount = opts.mount ?? 'secret';
  const kv = new Map<string, Record<string, unknown>>();
  const tokens = new Set<string>([opts.rootToken]);
  const counters = { logins: 0, renewals: 0 };

  const server = await startMockServer((req, res) => {
    const url = new URL(req.url, 'http://vault');
    const path = url.pathname;
    if (opts.namespace && req.headers['x-vault-namespace'] !== opts.namespace) {
      // Vault answers a path in the wrong namespace as if the mount did not exist.
      return json(res, 404, { errors: [`no handler for route "${path.replace(/^\/v1\//, '')}". route entry not found.`] });
    }
    if (path === '/v1/auth/approle/login' && req.method === 'POST') {
      const body = JSON.parse(req.body || '{}') as { role_id?: string; secret_id?: string };
      if (!opts.appRole || body.role_id !== opts.appRole.roleId || body.secret_id !== opts.appRole.secretId) {
        return json(res, 400, { errors: ['invalid role or secret ID'] });
      }
      const token = `hvs.${randomBytes(12).toString('hex')}`;
      tokens.add(token);
      counters.logins++;
      return json(res, 200, { auth: { client_token: token, lease_duration: opts.appRole.ttlSeconds, renewable: true, policies: ['keygate'] } });
    }
    const token = req.headers['x-vault-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return json(res, 403, { errors: ['permission denied'] });
    if (path === '/v1/auth/token/lookup-self' && req.method === 'GET') {
      return json(res, 200, { data: { ttl: token === opts.rootToken ? 0 : 3600, renewable: token !== opts.rootToken } });
    }
    if (path === '/v1/auth/token/renew-self' && req.method === 'POST') {
      counters.renewals++;
      return json(res, 200, { auth: { client_token: token, lease_duration: opts.appRole?.ttlSeconds ?? 3600, renewable: true } });
    }
    const dataPrefix = `/v1/${mount}/data/`;
    const metaPrefix = `/v1/${mount}/metadata/`;
    if (path.startsWith(dataPrefix)) {
      const key = decodeURIComponent(path.slice(dataPrefix.length));
      if (req.method === 'GET') {
        const data = kv.get(key);
        if (!data) return json(res, 404, { errors: [] });
        return json(res, 200, { data: { data, metadata: { version: 1, deletion_time: '', destroyed: false } } });
      }
      if (req.method === 'POST' || req.method === 'PUT') {
        const body = JSON.parse(req.body) as { data?: Record<string, unknown> };
        if (!body.data || typeof body.data !== 'object') return json(res, 400, { errors: ['no data provided'] });
        kv.set(key, body.data);
        return json(res, 200, { data: { version: 1, created_time: new Date().toISOString() } });
      }
      if (req.method === 'DELETE') {
        kv.delete(key);
        res.writeHead(204).end();
        return;
      }
    }
    if (path.startsWith(metaPrefix)) {
      const key = decodeURIComponent(path.slice(metaPrefix.length));
      const isList = req.method === 'LIST' || (req.method === 'GET' && url.searchParams.get('list') === 'true');
      if (isList) {
        const children = new Set<string>();
        for (const k of kv.keys()) {
          if (!k.startsWith(key)) continue;
          const rest = k.slice(key.length);
          const slash = rest.indexOf('/');
          children.add(slash < 0 ? rest : rest.slice(0, slash + 1));
        }
        if (children.size === 0) return json(res, 404, { errors: [] });
        return json(res, 200, { data: { keys: [...children].sort() } });
      }
      if (req.method === 'DELETE') {
        kv.delete(key);
        res.writeHead(204).end();
        return;
      }
    }
    return json(res, 404, { errors: [`no handler for route "${path}"`] });
  }, { tls: opts.tls });

  // defineProperties (not Object.assign) so the counters stay live getters.
  return Object.defineProperties(server, {
    kv: { value: kv },
    tokens: { value: tokens },
    expireTokens: {
      value: () => {
        for (const t of [...tokens]) if (t !== opts.rootToken) tokens.delete(t);
      },
    },
    logins: { get: () => counters.logins },
    renewals: { get: () => counters.renewals },
  }) as MockVault;
}
