/**
 * One HTTP attempt. The target is checked (ssrf.ts) and the connection is pinned to the
 * checked address through a per-attempt undici Agent whose `lookup` answers only that
 * address; redirects are never followed (undici's request does not follow them).
 */
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { redactText } from '../../core/redact.js';
import { checkTarget, TargetRefused, TargetUnresolved, type Resolver, type TargetPolicy } from './ssrf.js';

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** No point retrying (e.g. the target is refused by policy). */
  permanent: boolean;
}

export interface AttemptOptions {
  policy: TargetPolicy;
  resolve?: Resolver;
  timeoutMs: number;
}

export async function attemptDelivery(url: string, body: string, headers: Record<string, string>, secret: string, opts: AttemptOptions): Promise<AttemptResult> {
  let agent: Agent | null = null;
  try {
    const target = await checkTarget(url, opts.policy, opts.resolve);
    agent = new Agent({ connect: { lookup: pinnedLookup(target.address, target.family), timeout: opts.timeoutMs }, connections: 1, pipelining: 0 });
    const res = await request(target.url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'user-agent': 'keygate-webhooks/1', ...headers },
      body,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined); // the body is not kept: it could hold anything
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return { ok, statusCode: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}`, permanent: false };
  } catch (err) {
    // A policy refusal never changes by retrying; a DNS failure may pass.
    const permanent = err instanceof TargetRefused && !(err instanceof TargetUnresolved);
    return { ok: false, statusCode: null, error: cleanError(err, secret), permanent };
  } finally {
    if (agent) await agent.close().catch(() => undefined);
  }
}

function cleanError(err: unknown, secret: string): string {
  const e = err as { message?: string; code?: string };
  const text = [e.code, e.message].filter(Boolean).join(': ') || String(err);
  return redactText(text.slice(0, 300), [secret]);
}

/** A `lookup` that always answers the address checked before connecting. */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_host: string, options: { all?: boolean } | number | undefined, cb: (...args: unknown[]) => void) => {
    if (typeof options === 'object' && options?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
}
