/**
 * IP allow and deny lists with CIDR ranges, IPv4 and IPv6.
 *
 * Semantics: a deny match refuses (deny wins over allow); when an allow list is present, an
 * address must match it; with no rules everything passes. An IPv4-mapped IPv6 address
 * (`::ffff:1.2.3.4`, as a dual-stack socket reports IPv4 clients) is the IPv4 address: IPv4
 * rules match it, and IPv6 rules inside `::ffff:0:0/96` are turned into IPv4 rules. Other IPv6
 * rules, `::/0` included, match IPv6 clients only. An address that cannot be parsed is refused
 * whenever any rule exists (fail closed).
 *
 * Rules are compiled once into sorted, disjoint integer ranges; a check parses the client
 * address once and does a binary search. We do not use node:net BlockList because it cannot
 * say which rule matched and its IPv4-mapped handling differs across Node versions.
 */
import { GatewayError } from '../core/errors.js';

export class IpRuleError extends GatewayError {
  constructor(message: string, param = 'ip') {
    super(400, 'invalid_request_error', 'invalid_ip_rule', message, { param });
    this.name = 'IpRuleError';
  }
}

export type ParsedIp = { v: 4; n: number } | { v: 6; n: bigint };

// ---------------------------------------------------------------------------------------------
// Parsing (strict: no leading zeros in IPv4 octets, which some parsers read as octal).

/** Parses dotted-quad IPv4 to an unsigned 32-bit number, or -1. */
export function parseIPv4(s: string): number {
  const len = s.length;
  if (len < 7 || len > 15) return -1;
  let out = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return -1;
      out = out * 256 + octet;
      octet = 0;
      digits = 0;
      if (++dots > 3) return -1;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return out * 256 + octet;
}

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Parses IPv6 text (compressed, full, or with an IPv4 tail) to a 128-bit bigint, or null. */
export function parseIPv6(s: string): bigint | null {
  if (s.length < 2 || s.length > 45) return null;
  let groups: number[] = [];
  let tail = s;
  // An embedded IPv4 tail counts as two groups.
  let v4: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.indexOf('.', lastColon) > 0) {
    v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 < 0) return null;
    tail = s.slice(0, lastColon + 1);
    // "::1.2.3.4" keeps its "::"; "1:2:3:4:5:6:1.2.3.4" drops the separator.
    if (!tail.endsWith('::')) tail = tail.slice(0, -1);
  }
  const want = v4 === null ? 8 : 6;
  const dbl = tail.indexOf('::');
  if (dbl >= 0) {
    if (tail.indexOf('::', dbl + 1) >= 0) return null;
    const head = tail.slice(0, dbl);
    const rest = tail.slice(dbl + 2);
    const h = head === '' ? [] : head.split(':');
    const r = rest === '' ? [] : rest.split(':');
    if (h.length + r.length >= want) return null;
    for (const g of [...h, ...r]) if (!HEX_GROUP.test(g)) return null;
    groups = [...h.map((g) => parseInt(g, 16)), ...new Array<number>(want - h.length - r.length).fill(0), ...r.map((g) => parseInt(g, 16))];
  } else {
    const parts = tail === '' ? [] : tail.split(':');
    if (parts.length !== want) return null;
    for (const g of parts) if (!HEX_GROUP.test(g)) return null;
    groups = parts.map((g) => parseInt(g, 16));
  }
  if (v4 !== null) groups.push(v4 >>> 16, v4 & 0xffff);
  // Two 64-bit halves keep the bigint work to a few operations.
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 4; i++) hi = (hi << 16n) | BigInt(groups[i]);
  for (let i = 4; i < 8; i++) lo = (lo << 16n) | BigInt(groups[i]);
  return (hi << 64n) | lo;
}

// The top 96 bits of ::ffff:a.b.c.d.
const MAPPED_PREFIX = 0xffffn;
const LOW32 = 0xffffffffn;

/**
 * Parses a client address. IPv4-mapped IPv6 becomes IPv4; a zone id (`fe80::1%eth0`) is
 * dropped, since rules cannot name zones. Returns null for anything else.
 */
export function parseIp(input: string): ParsedIp | null {
  if (typeof input !== 'string') return null;
  if (input.indexOf(':') < 0) {
    const n = parseIPv4(input);
    return n < 0 ? null : { v: 4, n };
  }
  const pct = input.indexOf('%');
  const n = parseIPv6(pct >= 0 ? input.slice(0, pct) : input);
  if (n === null) return null;
  if (n >> 32n === MAPPED_PREFIX) return { v: 4, n: Number(n & LOW32) };
  return { v: 6, n };
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text: lowercase, longest run (>= 2) of zero groups as `::`. */
export function formatIPv6(n: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an address (mapped IPv6 as IPv4, IPv6 per RFC 5952), or null. */
export function normalizeIp(input: string): string | null {
  const p = parseIp(input);
  if (!p) return null;
  return p.v === 4 ? formatIPv4(p.n) : formatIPv6(p.n);
}

// ---------------------------------------------------------------------------------------------
// Rules

interface Range<N> {
  start: N;
  end: N;
  rule: string;
}

const V6_ALL = (1n << 128n) - 1n;

/** Parses one rule entry into an IPv4 or IPv6 range; throws IpRuleError naming the entry. */
export function parseCidr(entry: unknown, where: string): { v: 4; range: Range<number> } | { v: 6; range: Range<bigint> } {
  if (typeof entry !== 'string') throw new IpRuleError(`${where}: expected a string like "10.0.0.0/8" or "2001:db8::/32".`);
  const text = entry.trim();
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  if (prefixText !== null && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) {
    throw new IpRuleError(`${where}: ${shown} has an invalid prefix length; write /0 to /32 for IPv4 or /0 to /128 for IPv6.`);
  }
  if (addr.includes('%')) throw new IpRuleError(`${where}: ${shown}: zone ids (%eth0) are not supported in rules.`);
  const isV6 = addr.includes(':');
  const bits = isV6 ? 128 : 32;
  const prefix = prefixText === null ? bits : Number(prefixText);
  if (prefix > bits) throw new IpRuleError(`${where}: ${shown}: the prefix /${prefix} is longer than ${bits} bits.`);

  if (!isV6) {
    const n = parseIPv4(addr);
    if (n < 0) throw new IpRuleError(`${where}: ${shown} is not a valid IPv4 or IPv6 address (IPv4 octets 0-255, no leading zeros).`);
    const size = 2 ** (32 - prefix);
    const start = Math.floor(n / size) * size;
    if (start !== n) throw new IpRuleError(`${where}: ${shown} has host bits set; did you mean ${formatIPv4(start)}/${prefix}?`);
    return { v: 4, range: { start, end: start + size - 1, rule: text } };
  }
  const n = parseIPv6(addr);
  if (n === null) throw new IpRuleError(`${where}: ${shown} is not a valid IPv6 address.`);
  const hostMask = (1n << BigInt(128 - prefix)) - 1n;
  const start = n & (V6_ALL ^ hostMask);
  if (start !== n) throw new IpRuleError(`${where}: ${shown} has host bits set; did you mean ${formatIPv6(start)}/${prefix}?`);
  // Inside ::ffff:0:0/96: an IPv4 rule written in IPv6 form.
  if (prefix >= 96 && n >> 32n === MAPPED_PREFIX) {
    const v4 = Number(n & LOW32);
    return { v: 4, range: { start: v4, end: v4 + 2 ** (128 - prefix) - 1, rule: text } };
  }
  return { v: 6, range: { start, end: start | hostMask, rule: text } };
}

/** Sorted, disjoint ranges. CIDR blocks are nested or disjoint, so dropping nested ones suffices. */
class RangeSet<N extends number | bigint> {
  readonly starts: N[] = [];
  readonly ends: N[] = [];
  readonly rules: string[] = [];

  constructor(ranges: Range<N>[]) {
    const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
    for (const r of sorted) {
      const last = this.ends.length - 1;
      if (last >= 0 && r.start <= this.ends[last]) continue;
      this.starts.push(r.start);
      this.ends.push(r.end);
      this.rules.push(r.rule);
    }
  }

  get size(): number {
    return this.starts.length;
  }

  /** The rule covering `n`, or undefined. */
  find(n: N): string | undefined {
    const { starts, ends } = this;
    let lo = 0;
    let hi = starts.length - 1;
    let idx = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= n) {
        idx = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return idx >= 0 && n <= ends[idx] ? this.rules[idx] : undefined;
  }
}

class CompiledList {
  readonly v4: RangeSet<number>;
  readonly v6: RangeSet<bigint>;

  constructor(entries: readonly unknown[], where: string) {
    const v4: Range<number>[] = [];
    const v6: Range<bigint>[] = [];
    entries.forEach((e, i) => {
      const parsed = parseCidr(e, `${where}[${i}]`);
      if (parsed.v === 4) v4.push(parsed.range);
      else v6.push(parsed.range);
    });
    this.v4 = new RangeSet(v4);
    this.v6 = new RangeSet(v6);
  }

  find(ip: ParsedIp): string | undefined {
    return ip.v === 4 ? this.v4.find(ip.n) : this.v6.find(ip.n);
  }
}

export interface IpRulesConfig {
  allow?: readonly string[];
  deny?: readonly string[];
}

export type IpDecisionReason = 'no_rules' | 'allowed' | 'denied' | 'not_in_allow_list' | 'invalid_address' | 'no_deny_match';

export interface IpDecision {
  allowed: boolean;
  /** The configured entry that decided, as written. */
  rule?: string;
  /** Which list that entry is in. */
  list?: 'allow' | 'deny';
  reason: IpDecisionReason;
}

export interface IpRules {
  check(ip: string): IpDecision;
  /** For a caller that already parsed the address (e.g. global and per-key rules in a row). */
  checkParsed(ip: ParsedIp | null): IpDecision;
  /** True when no rule is configured, so the check can be skipped entirely. */
  readonly empty: boolean;
}

const NO_RULES: IpDecision = Object.freeze({ allowed: true, reason: 'no_rules' });
const INVALID: IpDecision = Object.freeze({ allowed: false, reason: 'invalid_address' });
const NOT_LISTED: IpDecision = Object.freeze({ allowed: false, reason: 'not_in_allow_list' });
const NO_DENY_MATCH: IpDecision = Object.freeze({ allowed: true, reason: 'no_deny_match' });

/**
 * Compiles allow/deny lists once (start-up, or when a key's record is loaded). Throws
 * IpRuleError naming the bad entry, e.g. `ipRules.deny[2]: "10.0.0.300" is not a valid ...`.
 * An empty `allow` list counts as absent.
 */
export function compileIpRules(config: IpRulesConfig = {}, name = 'ipRules'): IpRules {
  for (const list of ['allow', 'deny'] as const) {
    const v = config[list];
    if (v !== undefined && !Array.isArray(v)) throw new IpRuleError(`${name}.${list} must be a list of addresses or CIDR ranges.`);
  }
  const allow = config.allow && config.allow.length > 0 ? new CompiledList(config.allow, `${name}.allow`) : null;
  const deny = config.deny && config.deny.length > 0 ? new CompiledList(config.deny, `${name}.deny`) : null;
  const empty = allow === null && deny === null;

  const checkParsed = (ip: ParsedIp | null): IpDecision => {
    if (empty) return NO_RULES;
    if (ip === null) return INVALID;
    if (deny) {
      const rule = deny.find(ip);
      if (rule !== undefined) return { allowed: false, rule, list: 'deny', reason: 'denied' };
    }
    if (!allow) return NO_DENY_MATCH;
    const rule = allow.find(ip);
    return rule === undefined ? NOT_LISTED : { allowed: true, rule, list: 'allow', reason: 'allowed' };
  };
  return {
    empty,
    checkParsed,
    check: (ip: string) => (empty ? NO_RULES : checkParsed(parseIp(ip))),
  };
}
