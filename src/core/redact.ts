/**
 * Masking of anything shaped like a credential. Used by the logger, by error bodies relayed
 * from upstreams (which often echo the key they were sent) and by audit excerpts.
 */

/** `sk-proj-abc...wxyz` -> `sk-...wxyz`: keeps the family prefix and the last four characters. */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '***';
  const prefix = /^([a-zA-Z]{2,6}-)/.exec(secret)?.[1] ?? '';
  return `${prefix}...${secret.slice(-4)}`;
}

// One alternation, compiled once. Each branch is anchored on a literal prefix and uses bounded,
// non-overlapping character classes so a scan is linear in the input length.
const KEY_PATTERN = new RegExp(
  [
    String.raw`\b(?:sk|pk|rk)-(?:[A-Za-z0-9]+-){0,3}[A-Za-z0-9_\-]{16,}`, // OpenAI, Anthropic (sk-ant-...), Stripe, generic
    String.raw`\bkg-[A-Za-z0-9_\-]{16,}`, // keygate keys
    String.raw`\bgsk_[A-Za-z0-9]{20,}`, // Groq
    String.raw`\bAIza[0-9A-Za-z_\-]{30,}`, // Google
    String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`, // AWS access key id
    String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`, // GitHub
    String.raw`\bxox[abposr]-[A-Za-z0-9\-]{10,}`, // Slack
    String.raw`\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}`, // JWT
    String.raw`\bgAAAAA[A-Za-z0-9_\-]{40,}={0,2}`, // Fernet tokens (enc: values)
  ].join('|'),
  'g',
);

// Bearer values of any shape, e.g. a Mistral key (32 bare alphanumerics) in an echoed header.
const BEARER_PATTERN = /\b(Bearer\s+)([A-Za-z0-9._~+/\-]{8,}=*)/gi;

// The password of a URL with credentials (postgres://user:pass@host, redis://:pass@host).
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{1,20}:\/\/[^:/@\s]{0,100}:)[^@\s/]{1,200}@/gi;

// Every credential shape above contains one of these: most strings (ids, paths, numbers)
// are cleared by this one cheap test without running the full patterns.
const MAYBE_SECRET = /[spr]k-|kg-|gsk_|AIza|AKIA|ASIA|gh[pousr]_|xox|eyJ|gAAAAA|bearer|:\/\/[^\s]*@/i;

/** Replaces every credential-shaped substring with its mask. */
export function redactText(text: string, extraSecrets: readonly string[] = []): string {
  let out =
    text.length < 8 || !MAYBE_SECRET.test(text)
      ? text
      : text
          .replace(KEY_PATTERN, (m) => maskSecret(m))
          .replace(BEARER_PATTERN, (_m, p: string, v: string) => p + maskSecret(v))
          .replace(URL_PASSWORD, (_m, head: string) => `${head}***@`);
  for (const s of extraSecrets) {
    if (s.length >= 8 && out.includes(s)) out = out.split(s).join(maskSecret(s));
  }
  return out;
}

/** Deep-redacts string leaves of a JSON value (for upstream error bodies passed back). */
export function redactJson<T>(value: T, extraSecrets: readonly string[] = []): T {
  if (typeof value === 'string') return redactText(value, extraSecrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactJson(v, extraSecrets)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactJson(v, extraSecrets);
    return out as T;
  }
  return value;
}
