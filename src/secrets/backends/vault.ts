/**
 * HashiCorp Vault KV v2 over HTTP (undici). Token or AppRole auth, Enterprise namespaces,
 * custom CA / insecure TLS, token renewal before expiry and re-login on 403.
 * Logical name `openai` is stored at `{mount}/data/{prefix}openai` as `{ data: { value } }`.
 */
import { readFileSync } from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { SecretString } from '../../crypto/secret-string.js';
import { assertSecretName, type SecretBackend, type SecretBackendCapabilities } from '../backend.js';
import { SecretBackendError, SecretNotFoundError, describeCause, type SecretOperation } from '../errors.js';

export interface VaultAppRole {
  roleId: string;
  secretId: string | SecretString;
  /** Auth mount, default `approle`. */
  mount?: string;
}

export interface VaultBackendOptions {
  /** e.g. https://vault.internal:8200 */
  url: string;
  token?: string | SecretString;
  appRole?: VaultAppRole;
  /** Vault Enterprise / HCP namespace, sent as X-Vault-Namespace. */
  namespace?: string;
  /** KV v2 mount, default `secret`. */
  mount?: string;
  /** Path prefix for keygate's secrets, default `keygate/`. */
  prefix?: string;
  /** Field of the KV data that holds the value, default `value`. */
  field?: string;
  tls?: { caFile?: string; ca?: string | Buffer; insecureSkipVerify?: boolean };
  timeoutMs?: number;
  /** Tests and custom proxies; by default an undici Agent built from `tls`. */
  dispatcher?: Dispatcher;
  now?: () => number;
}

interface VaultAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
}

export class VaultBackend implements SecretBackend {
  readonly name = 'vault';
  readonly capabilities: SecretBackendCapabilities = { read: true, write: true, delete: true, list: true };
  readonly #opts: VaultBackendOptions;
  readonly #base: string;
  readonly #mount: string;
  readonly #prefix: string;
  readonly #field: string;
  readonly #now: () => number;
  #dispatcher: Dispatcher | undefined;
  #token: SecretString | undefined;
  /** When to renew the token (ms epoch); undefined = never (root / non-expiring). */
  #renewAt: number | undefined;
  #renewable = false;

  constructor(opts: VaultBackendOptions) {
    if (!opts.url) throw new TypeError('vault backend: url is required');
    if (!opts.token && !opts.appRole) throw new TypeError('vault backend: set token or appRole { roleId, secretId }');
    this.#opts = opts;
    this.#base = opts.url.replace(/\/+$/, '');
    this.#mount = trimSlashes(opts.mount ?? 'secret');
    this.#prefix = opts.prefix === undefined ? 'keygate/' : opts.prefix.replace(/^\/+/, '');
    this.#field = opts.field ?? 'value';
    this.#now = opts.now ?? Date.now;
    this.#dispatcher = opts.dispatcher;
    if (opts.token) this.#token = typeof opts.token === 'string' ? SecretString.from(opts.token) : opts.token;
  }

  async get(name: string): Promise<SecretString> {
    assertSecretName(name);
    const res = await this.#call('get', 'GET', this.#dataPath(name), undefined, name);
    if (isMissing(res)) throw new SecretNotFoundError(this.name, name);
    this.#expect(res, [200], 'get', name);
    const data = (res.body?.data as { data?: Record<string, unknown> } | undefined)?.data;
    const value = data?.[this.#field];
    if (typeof value !== 'string') {
      throw new SecretBackendError(this.name, 'get', `the secret has no string field '${this.#field}'`, { secretName: name, code: 'bad_shape' });
    }
    return SecretString.from(value);
  }

  async put(name: string, value: SecretString): Promise<void> {
    assertSecretName(name);
    const body = value.use((plain) => JSON.stringify({ data: { [this.#field]: plain } }));
    const res = await this.#call('put', 'POST', this.#dataPath(name), body, name, [value]);
    this.#expect(res, [200, 204], 'put', name);
  }

  async delete(name: string): Promise<void> {
    assertSecretName(name);
    // KV v2 returns 204 for a delete of a missing path, so look first to report "not found".
    const head = await this.#call('delete', 'GET', this.#dataPath(name), undefined, name);
    if (isMissing(head)) throw new SecretNotFoundError(this.name, name);
    this.#expect(head, [200], 'delete', name);
    // The metadata endpoint removes every version, so a deleted key cannot be undeleted by mistake.
    const res = await this.#call('delete', 'DELETE', `/v1/${this.#mount}/metadata/${this.#prefix}${name}`, undefined, name);
    this.#expect(res, [200, 204], 'delete', name);
  }

  async list(): Promise<string[]> {
    // GET ?list=true is Vault's documented equivalent of the LIST verb, which some proxies
    // (and Node's own HTTP parser) refuse.
    const res = await this.#call('list', 'GET', `/v1/${this.#mount}/metadata/${this.#prefix}?list=true`, undefined);
    if (isMissing(res)) return [];
    this.#expect(res, [200], 'list');
    const keys = (res.body?.data as { keys?: unknown } | undefined)?.keys;
    if (!Array.isArray(keys)) return [];
    return keys.filter((k): k is string => typeof k === 'string' && !k.endsWith('/')).sort();
  }

  async validate(): Promise<void> {
    const res = await this.#call('validate', 'GET', '/v1/auth/token/lookup-self', undefined);
    this.#expect(res, [200], 'validate');
    this.#learnLease(res.body?.data as { ttl?: number; renewable?: boolean } | undefined);
    await this.list();
  }

  #dataPath(name: string): string {
    return `/v1/${this.#mount}/data/${this.#prefix}${name}`;
  }

  #expect(res: VaultAnswer, ok: number[], op: SecretOperation, name?: string): void {
    if (ok.includes(res.status)) return;
    const errs = Array.isArray(res.body?.errors) ? (res.body.errors as unknown[]).map(String).join('; ') : '';
    const hint = res.status === 403 ? ' (token invalid or expired, or its policy does not allow this path)' : '';
    throw new SecretBackendError(this.name, op, `HTTP ${res.status}${hint}${errs ? `: ${errs.slice(0, 200)}` : ''}`, {
      secretName: name,
      code: res.status,
    });
  }

  /** One request with auth; on 403 under AppRole, logs in again and retries once. */
  async #call(op: SecretOperation, method: string, path: string, body: string | undefined, name?: string, secrets: SecretString[] = []): Promise<VaultAnswer> {
    await this.#ensureToken(op);
    let res = await this.#send(op, method, path, body, name, secrets);
    if (res.status === 403 && this.#opts.appRole) {
      this.#token = undefined;
      await this.#ensureToken(op);
      res = await this.#send(op, method, path, body, name, secrets);
    }
    return res;
  }

  async #ensureToken(op: SecretOperation): Promise<void> {
    if (this.#token && (this.#renewAt === undefined || this.#now() < this.#renewAt)) return;
    if (this.#token && this.#renewable) {
      const res = await this.#send(op, 'POST', '/v1/auth/token/renew-self', '{}', undefined, []);
      if (res.status === 200) {
        this.#learnLease(res.body?.auth as { lease_duration?: number; renewable?: boolean } | undefined);
        return;
      }
    }
    if (this.#opts.appRole) await this.#login(op);
    else this.#renewAt = undefined; // a static token cannot be replaced; keep it, a 403 will say so
  }

  async #login(op: SecretOperation): Promise<void> {
    const role = this.#opts.appRole;
    if (!role) return;
    const secretId = typeof role.secretId === 'string' ? SecretString.from(role.secretId) : role.secretId;
    const body = secretId.use((s) => JSON.stringify({ role_id: role.roleId, secret_id: s }));
    const res = await this.#send(op, 'POST', `/v1/auth/${trimSlashes(role.mount ?? 'approle')}/login`, body, undefined, [secretId], true);
    const auth = res.body?.auth as { client_token?: unknown; lease_duration?: number; renewable?: boolean } | undefined;
    if (res.status !== 200 || typeof auth?.client_token !== 'string') {
      throw new SecretBackendError(this.name, 'auth', `AppRole login failed with HTTP ${res.status} (check role_id / secret_id and the auth mount)`, { code: res.status });
    }
    this.#token = SecretString.from(auth.client_token);
    this.#learnLease(auth);
  }

  #learnLease(info: { ttl?: number; lease_duration?: number; renewable?: boolean } | undefined): void {
    const ttl = info?.lease_duration ?? info?.ttl;
    this.#renewable = info?.renewable === true;
    // Renew at 2/3 of the lease so a slow Vault still answers before expiry.
    this.#renewAt = typeof ttl === 'number' && ttl > 0 ? this.#now() + (ttl * 1000 * 2) / 3 : undefined;
  }

  async #send(
    op: SecretOperation,
    method: string,
    path: string,
    body: string | undefined,
    name: string | undefined,
    secrets: SecretString[],
    noToken = false,
  ): Promise<VaultAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#opts.namespace) headers['x-vault-namespace'] = this.#opts.namespace;
    if (!noToken && this.#token) headers['x-vault-token'] = this.#token.reveal();
    const known = [...secrets.map((s) => s.reveal()), ...(this.#token ? [this.#token.reveal()] : [])];
    try {
      const res = await request(this.#base + path, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        dispatcher: this.#getDispatcher(),
        headersTimeout: this.#opts.timeoutMs ?? 5000,
        bodyTimeout: this.#opts.timeoutMs ?? 5000,
      });
      const text = await res.body.text();
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, body: parsed };
    } catch (err) {
      if (err instanceof SecretBackendError) throw err;
      throw new SecretBackendError(this.name, op, `cannot reach Vault at ${this.#base}: ${describeCause(err, known)}`, { secretName: name, code: 'unreachable', secrets: known });
    }
  }

  #getDispatcher(): Dispatcher {
    if (this.#dispatcher) return this.#dispatcher;
    const tls = this.#opts.tls ?? {};
    let ca: string | Buffer | undefined = tls.ca;
    if (!ca && tls.caFile) {
      try {
        ca = readFileSync(tls.caFile);
      } catch (err) {
        throw new SecretBackendError(this.name, 'validate', `cannot read the Vault CA file ${tls.caFile}: ${describeCause(err)}`, { code: 'tls_config' });
      }
    }
    this.#dispatcher = new Agent({ connect: { ca, rejectUnauthorized: tls.insecureSkipVerify !== true } });
    return this.#dispatcher;
  }

  /** Closes the connection pool this backend created. */
  async close(): Promise<void> {
    if (this.#dispatcher && !this.#opts.dispatcher) await this.#dispatcher.close();
  }
}

/**
 * A missing secret is a 404 with an empty `errors` list; a 404 with a message ("no handler for
 * route") means a wrong mount or namespace, which is a configuration error, not "not found".
 */
function isMissing(res: VaultAnswer): boolean {
  if (res.status !== 404) return false;
  const errs = res.body?.errors;
  return !Array.isArray(errs) || errs.length === 0;
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}
