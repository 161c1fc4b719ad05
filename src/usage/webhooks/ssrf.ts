/**
 * Checks a webhook URL before each delivery: scheme, then every address its host resolves
 * to. All addresses must pass (one private answer among public ones is still a way in),
 * and the caller connects to the returned address only, so a second DNS answer cannot
 * switch the target between check and connect (DNS rebinding).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { inCidr, isBlockedIp, parseCidr, parseIp, unwrapV4, type Cidr } from './ip.js';

export interface TargetPolicy {
  /** Allow loopback, private and link-local targets (development, in-cluster receivers). */
  allowPrivateTargets?: boolean;
  /** CIDRs allowed even though they are private, e.g. ['10.20.0.0/16']. */
  allowCidrs?: readonly string[];
  /** Allow plain http:// targets. */
  allowHttp?: boolean;
}

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export class TargetRefused extends Error {
  override readonly name = 'TargetRefused';
}

export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Static checks that need no DNS: used when an endpoint is created or changed. */
export function checkUrlShape(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('webhook url is not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new TargetRefused(policy.allowHttp ? 'webhook url must be http or https' : 'webhook url must use https');
  }
  if (url.username || url.password) throw new TargetRefused('webhook url must not contain credentials');
  const literal = parseIp(url.hostname);
  if (literal && !addressAllowed(literal, policy)) throw new TargetRefused(`webhook target ${url.hostname} is a private or reserved address`);
  return url;
}

export async function checkTarget(raw: string, policy: TargetPolicy, resolve: Resolver = systemResolver): Promise<CheckedTarget> {
  const url = checkUrlShape(raw, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const answers = parseIp(host) ? [{ address: host, family: host.includes(':') ? 6 : 4 }] : await resolveOrRefuse(host, resolve);
  if (answers.length === 0) throw new TargetRefused(`webhook host ${host} has no address`);
  for (const a of answers) {
    const ip = parseIp(a.address);
    if (!ip || !addressAllowed(ip, policy)) throw new TargetRefused(`webhook host ${host} resolves to a private or reserved address (${a.address})`);
  }
  const first = answers[0];
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/**
 * The host did not resolve (now): refused for a new endpoint, but for a delivery a passing
 * DNS failure (SERVFAIL, a timeout, a resolver restart) is retried like a network error.
 */
export class TargetUnresolved extends TargetRefused {}

async function resolveOrRefuse(host: string, resolve: Resolver): Promise<Array<{ address: string; family: number }>> {
  let answers: Array<{ address: string; family: number }>;
  try {
    answers = await resolve(host);
  } catch (err) {
    throw new TargetUnresolved(`webhook host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (answers.length === 0) throw new TargetUnresolved(`webhook host ${host} has no address`);
  return answers;
}

const cidrCache = new Map<string, Cidr>();

function addressAllowed(ip: Uint8Array, policy: TargetPolicy): boolean {
  if (policy.allowPrivateTargets) return true;
  if (!isBlockedIp(ip)) return true;
  const v = unwrapV4(ip);
  return (policy.allowCidrs ?? []).some((c) => {
    let cidr = cidrCache.get(c);
    if (!cidr) cidrCache.set(c, (cidr = parseCidr(c)));
    return inCidr(v, cidr) || inCidr(ip, cidr);
  });
}
