/**
 * Who is the client? By default the socket's peer address, full stop: `X-Forwarded-For` is
 * a header anyone can write. Only with `trustProxy` configured is it read, and then from the
 * right: each trusted proxy appends the address it received the request from, so the
 * rightmost address that is not one of our proxies is the client. The leftmost entry is
 * whatever the client chose to send and is never believed on its own.
 *
 * trustProxy:
 *   false / undefined / 0  the socket address is the client (default)
 *   n (a number)           n proxies in front of us: the socket and the n-1 rightmost
 *                          X-Forwarded-For entries are proxies; the next one is the client
 *   list of CIDRs          addresses in these ranges are proxies (also the presets
 *                          `loopback`, `private`, `linklocal`); a comma-separated string works too
 *   true                   refused: it would let any client choose its address
 */
import { compileIpRules, formatIPv4, formatIPv6, parseIp, type IpRules, type ParsedIp } from './ip-rules.js';

export type TrustProxyConfig = boolean | number | string | readonly string[] | undefined;

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What `clientIp` returns when no valid address can be determined; IP rules refuse it. */
export const UNKNOWN_CLIENT = 'unknown';

const PRESETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
};

export class TrustProxyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustProxyError';
  }
}

export interface TrustedProxies {
  /** False when forwarded headers are never read. */
  readonly enabled: boolean;
  /** Canonical client address (IPv4-mapped shown as IPv4), or UNKNOWN_CLIENT. */
  clientIp(remoteAddress: string | undefined, headers: HeaderBag): string;
  /**
   * True only when the socket peer is a trusted proxy and every X-Forwarded-Proto value is
   * `https`. Proxies should overwrite that header; one that appends yields "https, http" for a
   * plain-HTTP client that forged "https", which is refused.
   */
  isForwardedHttps(headers: HeaderBag, remoteAddress: string | undefined): boolean;
  /** Whether the socket peer is a trusted proxy. */
  isTrustedPeer(remoteAddress: string | undefined): boolean;
}

function headerValues(headers: HeaderBag, name: string): string[] {
  const raw = headers[name];
  if (raw === undefined) return [];
  const joined = typeof raw === 'string' ? raw : raw.join(',');
  return joined.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** One X-Forwarded-For entry: an address, `[v6]:port` or `v4:port` (some proxies add ports). */
function parseForwardedEntry(entry: string): ParsedIp | null {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return null;
    const rest = entry.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return parseIp(entry.slice(1, close));
  }
  const colon = entry.indexOf(':');
  if (colon > 0 && colon === entry.lastIndexOf(':') && entry.includes('.')) {
    if (!/^\d{1,5}$/.test(entry.slice(colon + 1))) return null;
    return parseIp(entry.slice(0, colon));
  }
  return parseIp(entry);
}

const format = (ip: ParsedIp): string => (ip.v === 4 ? formatIPv4(ip.n) : formatIPv6(ip.n));

interface Peer {
  ip: ParsedIp;
  text: string;
}

// Socket addresses, parsed and formatted once: a kept-alive client sends many requests from
// one address, and an IPv6 or IPv4-mapped one (`::ffff:10.0.0.7`, what a dual-stack listener
// sees) costs ~1.5 us to parse and format. Bounded; dropped whole when full.
const peers = new Map<string, Peer | null>();
const MAX_PEERS = 4096;

function peerOf(remoteAddress: string): Peer | null {
  let p = peers.get(remoteAddress);
  if (p === undefined) {
    if (peers.size >= MAX_PEERS) peers.clear();
    const ip = parseIp(remoteAddress);
    p = ip === null ? null : { ip, text: format(ip) };
    peers.set(remoteAddress, p);
  }
  return p;
}

function normalizeConfig(config: TrustProxyConfig): false | number | string[] {
  if (config === undefined || config === false || config === 0) return false;
  if (config === true) {
    throw new TrustProxyError(
      'trustProxy: true would believe any X-Forwarded-For a client sends. Give the number of proxies in front of keygate, or their addresses/CIDR ranges.',
    );
  }
  if (typeof config === 'number') {
    if (!Number.isInteger(config) || config < 0 || config > 32) throw new TrustProxyError('trustProxy as a hop count must be a whole number from 0 to 32.');
    return config;
  }
  const list = typeof config === 'string' ? config.split(',') : [...config];
  const cidrs: string[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') throw new TrustProxyError('trustProxy entries must be strings (addresses, CIDR ranges or presets).');
    const entry = raw.trim();
    if (entry === '') continue;
    cidrs.push(...(PRESETS[entry] ?? [entry]));
  }
  if (cidrs.length === 0) return false;
  return cidrs;
}

export function compileTrustProxy(config?: TrustProxyConfig): TrustedProxies {
  const normalized = normalizeConfig(config);
  let rules: IpRules | null = null;
  if (Array.isArray(normalized)) {
    try {
      rules = compileIpRules({ allow: normalized }, 'trustProxy');
    } catch (err) {
      throw new TrustProxyError((err as Error).message.replace('trustProxy.allow', 'trustProxy'));
    }
  }
  const hops = typeof normalized === 'number' ? normalized : 0;
  const enabled = normalized !== false;

  // `index` counts from the socket: 0 is the peer, 1 the rightmost X-Forwarded-For entry...
  const trusted = (ip: ParsedIp, index: number): boolean => (rules ? rules.checkParsed(ip).allowed : index < hops);

  const clientIp = (remoteAddress: string | undefined, headers: HeaderBag): string => {
    const peer = remoteAddress === undefined ? null : peerOf(remoteAddress);
    if (peer === null) return UNKNOWN_CLIENT;
    if (!enabled || !trusted(peer.ip, 0)) return peer.text;
    const chain = headerValues(headers, 'x-forwarded-for');
    let last = peer.ip;
    for (let i = chain.length - 1, index = 1; i >= 0; i--, index++) {
      const ip = parseForwardedEntry(chain[i]);
      // Garbage at a position we would have to believe: no address is better than a wrong one.
      if (ip === null) return UNKNOWN_CLIENT;
      if (!trusted(ip, index)) return format(ip);
      last = ip;
    }
    // Every hop was trusted: the leftmost one is as close to the client as we can get.
    return format(last);
  };

  const isTrustedPeer = (remoteAddress: string | undefined): boolean => {
    if (!enabled || remoteAddress === undefined) return false;
    const peer = peerOf(remoteAddress);
    return peer !== null && trusted(peer.ip, 0);
  };

  const isForwardedHttps = (headers: HeaderBag, remoteAddress: string | undefined): boolean => {
    if (!isTrustedPeer(remoteAddress)) return false;
    const protos = headerValues(headers, 'x-forwarded-proto');
    return protos.length > 0 && protos.every((p) => p.toLowerCase() === 'https');
  };

  return { enabled, clientIp, isForwardedHttps, isTrustedPeer };
}

// Compiled forms of list configs, so the convenience functions below do no parsing per call.
const cache = new WeakMap<object, TrustedProxies>();
const stringCache = new Map<string, TrustedProxies>();

function toCompiled(trust: TrustProxyConfig | TrustedProxies): TrustedProxies {
  if (trust !== null && typeof trust === 'object' && 'clientIp' in trust) return trust as TrustedProxies;
  if (Array.isArray(trust)) {
    let compiled = cache.get(trust);
    if (!compiled) {
      compiled = compileTrustProxy(trust as readonly string[]);
      cache.set(trust, compiled);
    }
    return compiled;
  }
  if (typeof trust === 'string') {
    let compiled = stringCache.get(trust);
    if (!compiled) {
      compiled = compileTrustProxy(trust);
      // Config strings are few; the bound only guards against a caller passing header values.
      if (stringCache.size < 100) stringCache.set(trust, compiled);
    }
    return compiled;
  }
  return compileTrustProxy(trust as TrustProxyConfig);
}

/** The client address; see the module comment. Prefer compiling once with compileTrustProxy. */
export function resolveClientIp(remoteAddress: string | undefined, headers: HeaderBag, trustProxy?: TrustProxyConfig | TrustedProxies): string {
  return toCompiled(trustProxy).clientIp(remoteAddress, headers);
}

/** Whether a plain-HTTP request arrived over HTTPS at a trusted proxy in front of us. */
export function isForwardedHttps(headers: HeaderBag, remoteAddress: string | undefined, trustProxy?: TrustProxyConfig | TrustedProxies): boolean {
  return toCompiled(trustProxy).isForwardedHttps(headers, remoteAddress);
}
