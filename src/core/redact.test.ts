import { describe, expect, it } from 'vitest';
import { maskSecret, redactJson, redactText } from './redact.js';

describe('redactText', () => {
  it('masks every credential shape it knows, keeping the family prefix and last four', () => {
    const samples = [
      'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
      'sk-ant-api03-abcdefghijklmnopqrstuvwxyz01',
      'kg-abcdefghijklmnopqrstuvwxyz0123456789abcdefg',
      'gsk_abcdefghijklmnopqrstuvwxyz0123456789',
      'AIzaSyabcdefghijklmnopqrstuvwxyz0123456',
      'AKIAABCDEFGHIJKLMNOP',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789AB',
      'xoxb-1234567890-abcdefghij',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.abcdefghijklmnop',
    ];
    for (const s of samples) {
      const out = redactText(`error: key ${s} was refused`);
      expect(out).not.toContain(s);
      expect(out).toContain(s.slice(-4));
    }
  });

  it('masks any bearer value, even without a known prefix (a Mistral key)', () => {
    expect(redactText('Authorization: Bearer AbCdEfGh1234567890AbCdEfGh123456')).toBe('Authorization: Bearer ...3456');
  });

  it('masks the password of a URL with credentials, and leaves URLs without one alone', () => {
    expect(redactText('cannot reach postgres://app:s3cr3t-Pa55@db.internal:5432/keygate')).toBe('cannot reach postgres://app:***@db.internal:5432/keygate');
    expect(redactText('redis://:hunter2hunter2@127.0.0.1:6379 refused')).toBe('redis://:***@127.0.0.1:6379 refused');
    expect(redactText('see https://example.com/a@b and postgres://postgres@127.0.0.1/test')).toBe('see https://example.com/a@b and postgres://postgres@127.0.0.1/test');
  });

  it('masks extra secrets given by the caller', () => {
    expect(redactText('upstream said: wrong key plainvalue123456', ['plainvalue123456'])).not.toContain('plainvalue123456');
  });

  it('leaves ordinary text alone', () => {
    const text = 'GET /v1/chat/completions 200 in 12 ms for key_abc123 (task-list, risk-free)';
    expect(redactText(text)).toBe(text);
  });

  it('walks JSON values', () => {
    expect(JSON.stringify(redactJson({ a: ['x', { b: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345' }] }))).not.toContain('abcdefghij');
    expect(maskSecret('short')).toBe('***');
  });
});
