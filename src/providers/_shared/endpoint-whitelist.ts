/**
 * Per-provider endpoint whitelists for native pass-through. An endpoint is an exact method
 * and path pattern: literal segments and typed parameters (`{model}`, `{id}`) matched by a
 * strict pattern, never a prefix, so `/v1/messages/batches` is not `/v1/messages`. The raw
 * path is checked for traversal and smuggling shapes before any matching.
 */
import type { SseEvent } from '../../core/provider.js';
import type { Usage } from '../../core/openai-types.js';
import type { AccountWideRef } from './account-wide.js';

export type NativeMethod = 'GET' | 'POST';

/** How a whitelisted call streams: never, when the body says `stream: true`, always. */
export type StreamMode = 'never' | 'body-flag' | 'body-flag-default-on' | 'always';

export interface NativeEndpoint {
  /** Short name, for usage records and messages (e.g. 'messages'). */
  name: string;
  method: NativeMethod;
  /** `/v1/messages`, `/v1beta/models/{model}:generateContent`. */
  path: string;
  /** Query parameters allowed, with their allowed values (a list or a pattern); anything else is refused. */
  query?: Readonly<Record<string, readonly string[] | RegExp>>;
  /** Account-wide endpoints belong to a group that is off unless enabled in config. */
  group?: string;
  /** Where the model name is: the JSON body's `model`, or the `{model}` path parameter. */
  model?: 'body' | 'path';
  /** Set on endpoints that generate an answer (limits reserve its budget); absent on the rest. */
  stream?: StreamMode;
}

/** What a provider declares for its native routes. */
export interface NativeProviderSpec {
  /** The route prefix and the config key: `anthropic` serves `/anthropic/*`. */
  id: string;
  /** Registry id of the upstream (the base URL and server key), when it differs from `id`. */
  upstreamId?: string;
  /** A version prefix the configured base URL already ends with (OpenAI's `/v1`). */
  versionInBaseUrl?: string;
  /** Headers the provider's SDK sends its key in (lower case): they carry the keygate key, or the client's own key in passthrough. */
  keyHeaders: readonly string[];
  /** Prefix SafeAPI-Bridge's relative `endpoint` field is read under (`/chat/completions` -> `/v1/chat/completions`). */
  bridgePrefix: string;
  /** SSE or NDJSON. */
  streamFormat: 'sse' | 'ndjson';
  endpoints: readonly NativeEndpoint[];
  /** Body fields and headers that reach account-wide data on default-open endpoints: refused unless their group is enabled. */
  accountWide?: readonly AccountWideRef[];
  /** Client headers forwarded upstream (besides content-type and accept), with their value shape. */
  forwardHeaders?: Readonly<Record<string, RegExp>>;
  /** Usage from a JSON answer. */
  usageFromJson(body: unknown): Usage | null;
  /** A per-stream usage reader, fed every event. */
  usageTap(): UsageTap;
  /** The provider's own error body shape, so its SDK reads our errors as its own. */
  errorBody(e: NativeError): unknown;
  /** An error told in-band once a stream has started. */
  streamErrorEvent(e: NativeError): string;
}

/** An error to tell a native client: our catalogue's status, type and code, a masked message. */
export interface NativeError {
  status: number;
  type: string;
  code: string | null;
  message: string;
}

export interface UsageTap {
  event(ev: SseEvent): void;
  usage(): Usage | null;
}

const PARAM_PATTERNS: Readonly<Record<string, string>> = {
  // A model id is one segment: letters and digits first, then . _ - (no ':' so `{model}:verb` stays exact).
  model: '[A-Za-z0-9][A-Za-z0-9._-]{0,127}',
  // Resource ids (file-abc, msgbatch_01..., batch_...).
  id: '[A-Za-z0-9][A-Za-z0-9_-]{0,127}',
};

export interface CompiledEndpoint extends NativeEndpoint {
  readonly regex: RegExp;
}

export function compileEndpoints(endpoints: readonly NativeEndpoint[]): CompiledEndpoint[] {
  return endpoints.map((e) => ({ ...e, regex: compilePattern(e.path) }));
}

function compilePattern(pattern: string): RegExp {
  let src = '';
  let last = 0;
  for (const m of pattern.matchAll(/\{([a-z]+)\}/g)) {
    const type = PARAM_PATTERNS[m[1]];
    if (!type) throw new Error(`endpoint pattern ${pattern}: unknown parameter {${m[1]}}`);
    src += escapeRegex(pattern.slice(last, m.index)) + `(?<${m[1]}>${type})`;
    last = m.index + m[0].length;
  }
  src += escapeRegex(pattern.slice(last));
  return new RegExp(`^${src}$`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Why a raw path (with its query) is refused before matching, or null. Percent-encoding is
 * refused outright in the path: no whitelisted path needs it, and it is how `..` and `/`
 * are smuggled past a matcher (`%2e%2e`, `%2f`, `%5c`, `%00`).
 */
export function refusePathShape(raw: string): string | null {
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return 'control characters';
  if (path.includes('\\')) return 'a backslash';
  if (path.includes('%')) return 'percent-encoding';
  if (path.includes('//')) return 'an empty segment';
  if (path.includes('..')) return 'a dot-dot';
  if (path.split('/').some((s) => s === '.')) return 'a dot segment';
  if (/(^|[&;])[^=&;]*key=/i.test(query) || /key%3d/i.test(query)) return 'a key in the query';
  if (raw.includes('#')) return 'a fragment';
  return null;
}

export type MatchResult =
  | { kind: 'match'; endpoint: CompiledEndpoint; params: Readonly<Record<string, string>>; query: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'method_not_allowed'; allow: NativeMethod[] }
  | { kind: 'not_found' };

/**
 * Matches `method` and the raw provider path (`/v1/messages?x=y`, prefix removed) against a
 * whitelist. The returned query is rebuilt from the declared parameters only.
 */
export function matchEndpoint(endpoints: readonly CompiledEndpoint[], method: string, raw: string): MatchResult {
  const refused = refusePathShape(raw);
  if (refused) return { kind: 'refused', reason: refused };
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  const allow: NativeMethod[] = [];
  for (const e of endpoints) {
    const m = e.regex.exec(path);
    if (!m) continue;
    if (e.method !== method) {
      allow.push(e.method);
      continue;
    }
    const query = checkQuery(params, e.query ?? {});
    if (query === null) return { kind: 'refused', reason: 'a query parameter this endpoint does not take' };
    return { kind: 'match', endpoint: e, params: { ...m.groups }, query };
  }
  return allow.length ? { kind: 'method_not_allowed', allow } : { kind: 'not_found' };
}

function checkQuery(params: URLSearchParams, allowed: Readonly<Record<string, readonly string[] | RegExp>>): string | null {
  const out = new URLSearchParams();
  const seen = new Set<string>();
  for (const [k, v] of params) {
    const rule = Object.hasOwn(allowed, k) ? allowed[k] : undefined;
    const ok = rule instanceof RegExp ? rule.test(v) : rule?.includes(v) === true;
    if (seen.has(k) || !ok) return null;
    seen.add(k);
    out.append(k, v);
  }
  const s = out.toString();
  return s ? `?${s}` : '';
}

/** The endpoint groups a provider declares, to validate config at start-up. */
export function endpointGroups(endpoints: readonly NativeEndpoint[]): Set<string> {
  return new Set(endpoints.flatMap((e) => (e.group ? [e.group] : [])));
}
