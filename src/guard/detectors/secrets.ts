/**
 * Credential patterns. Each is anchored on a literal prefix (or, for prefix-less keys such as
 * Mistral's, on a nearby name) and bounded in length, so scans are linear and the stream
 * redactor knows how far back a secret can start. A pattern's literals are where its matches
 * begin: the stream redactor holds back a delta that ends in part of one (`ht` of a Slack
 * webhook, `postg` of a connection string), so a literal inside the match would let the part
 * before it go out before the secret is recognised.
 */
import type { TextProfile } from '../profile.js';
import type { Pattern } from '../types.js';

const PLACEHOLDER = /^(?:\*+|x+|\.+|password|passwd|pass|secret|pwd|<[^>]*>|\$\{[^}]*\}|\{\{?[^}]*\}?\}|%s|\$[A-Z_]+|\[[^\]]*\])$/i;

// Every secret is a long token, a PEM armour line or a URL with credentials.
const familyGate = (t: TextProfile): boolean => t.longTokens.length > 0 || t.dashes5 || t.scheme;

const CONNECTION_SCHEMES = ['postgres://', 'postgresql://', 'mysql://', 'mariadb://', 'mongodb://', 'mongodb+srv://', 'redis://', 'rediss://', 'amqp://', 'amqps://', 'mssql://', 'sqlserver://', 'jdbc:', 'ftp://', 'sftp://', 'smtp://', 'ldap://'];

const p = (id: string, score: number, literals: readonly string[], src: string, extra: Partial<Pattern> = {}, flags = 'g'): Pattern => ({
  id: `secret.${id}`,
  category: 'secret',
  score,
  re: new RegExp(src, flags),
  gate: familyGate,
  literals,
  lead: 0,
  maxSpan: 260,
  ...extra,
});

export const SECRET_PATTERNS: Pattern[] = [
  p('anthropic', 95, ['sk-ant-'], String.raw`\bsk-ant-(?:api|admin|sid)?\d{0,2}-?[A-Za-z0-9_\-]{20,200}`),
  p('openai', 95, ['sk-'], String.raw`\bsk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,200}`, {
    // Require a digit and a letter so "sk-this-is-a-very-long-word-list" is not a key.
    validate: (m) => /\d/.test(m[0]) && /[A-Za-z]/.test(m[0].slice(3)),
  }),
  p('google', 95, ['AIza'], String.raw`\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])`),
  p('groq', 95, ['gsk_'], String.raw`\bgsk_[A-Za-z0-9]{40,64}\b`),
  p('mistral', 90, ['mistral', 'Mistral', 'MISTRAL'], String.raw`\bmistral[_\s\-]?(?:ai[_\s\-]?)?(?:api[_\s\-]?)?key["']?\s*(?:is\s*|[:=]\s*)["']?([A-Za-z0-9]{32})\b`, { group: 1 }, 'gi'),
  p('aws_access_key', 90, ['AKIA', 'ASIA', 'ABIA', 'ACCA'], String.raw`\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b`),
  p('aws_secret_key', 95, ['aws', 'AWS', 'Aws'], String.raw`\baws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`, { group: 1 }, 'gi'),
  p('github', 95, ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'], String.raw`\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,100}\b|\bgithub_pat_[A-Za-z0-9_]{22,120}\b`),
  p('slack', 90, ['xox'], String.raw`\bxox[abposre]-[A-Za-z0-9\-]{10,120}`),
  p('slack_webhook', 90, ['https://hooks.slack.com/'], String.raw`https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32}`),
  p('stripe', 95, ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'], String.raw`\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,120}\b`),
  p('keygate', 90, ['kg-'], String.raw`\bkg-[A-Za-z0-9_\-]{16,120}`),
  p('private_key', 99, ['-----BEGIN'], String.raw`-----BEGIN[A-Z ]{0,24} PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\r\n\\]{0,8192}(?:-----END[A-Z ]{0,24} PRIVATE KEY(?: BLOCK)?-----)?`, { maxSpan: 48 }),
  p('jwt', 80, ['eyJ'], String.raw`\beyJ[A-Za-z0-9_\-]{8,1000}\.eyJ[A-Za-z0-9_\-]{8,4000}\.[A-Za-z0-9_\-]{8,1000}`),
  p('connection_string', 90, CONNECTION_SCHEMES, String.raw`\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|jdbc:[a-z]+|ftp|sftp|smtp|ldap)://[^\s:/@"'<>]{1,64}:([^\s@/"'<>]{1,128})@[^\s/"'<>]{1,255}`, {
    group: 1,
    validate: (m) => !PLACEHOLDER.test(m[1] ?? ''),
  }),
];

