/**
 * Address classification for SSRF checks, on bytes rather than strings so that every
 * spelling of an address (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `0:0:0:0:0:ffff:...`)
 * lands in the same range.
 */
import { isIP } from 'node:net';

export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

export function parseIp(text: string): Uint8Array | null {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v = isIP(s.split('%')[0]);
  if (v === 4) return Uint8Array.from(s.split('.').map(Number));
  if (v === 6) return parseV6(s.split('%')[0]);
  return null;
}

function parseV6(s: string): Uint8Array {
  let tail: number[] = [];
  let text = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const words = (p: string | undefined): number[] => (p ? p.split(':').map((w) => parseInt(w, 16)) : []);
  const hi = words(head);
  const lo = words(rest);
  const all = rest === undefined ? hi : [...hi, ...new Array<number>(8 - hi.length - lo.length).fill(0), ...lo];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

export function parseCidr(text: string): Cidr {
  const [addr, len] = text.split('/');
  const bytes = parseIp(addr);
  if (!bytes) throw new Error(`not a CIDR: ${text}`);
  const prefix = len === undefined ? bytes.length * 8 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8) throw new Error(`not a CIDR: ${text}`);
  return { bytes, prefix };
}

export function inCidr(ip: Uint8Array, cidr: Cidr): boolean {
  if (ip.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (cidr.bytes[i] & mask)) return false;
  }
  return true;
}

/** IPv4 embedded in IPv6 (mapped ::ffff:0:0/96, compatible ::/96, NAT64 64:ff9b::/96): judge the IPv4 part. */
export function unwrapV4(ip: Uint8Array): Uint8Array {
  if (ip.length !== 16) return ip;
  const embedded = EMBEDDING.some((c) => inCidr(ip, c));
  return embedded && !(inCidr(ip, V6_LOOPBACK) || inCidr(ip, V6_UNSPECIFIED)) ? ip.slice(12) : ip;
}

const V6_LOOPBACK = parseCidr('::1/128');
const V6_UNSPECIFIED = parseCidr('::/128');
const EMBEDDING = ['::ffff:0:0/96', '::/96', '64:ff9b::/96'].map(parseCidr);

/** Never a webhook target unless allowed: loopback, private, link-local, shared, reserved, multicast. */
export const BLOCKED_RANGES: readonly Cidr[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
].map(parseCidr);

export function isBlockedIp(ip: Uint8Array): boolean {
  const v = unwrapV4(ip);
  return BLOCKED_RANGES.some((c) => inCidr(v, c));
}
