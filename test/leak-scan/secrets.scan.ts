/**
 * Runs after the whole suite (`npm test` runs it second). Every secret a test handed the
 * gateway was recorded; every log line, client-visible body and stored record (audit log,
 * threats, usage, webhook deliveries) the gateway produced was kept.
 * Any secret found in any of them fails the run. It also fails if there is nothing to scan,
 * so it cannot pass by reading an empty folder.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR } from '../support/artifacts.js';

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('no secret in anything the gateway logged or answered during the suite', () => {
  const secretsFile = join(ARTIFACTS_DIR, 'secrets.txt');
  const secrets = existsSync(secretsFile) ? [...new Set(readFileSync(secretsFile, 'utf8').split('\n').filter((s) => s.length >= 8))] : [];
  const logs = filesUnder(join(ARTIFACTS_DIR, 'logs'));
  const outputs = filesUnder(join(ARTIFACTS_DIR, 'outputs'));

  it('has material to scan', () => {
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    expect(logs.length).toBeGreaterThanOrEqual(5);
    expect(outputs.length).toBeGreaterThanOrEqual(1);
    // Stored records (audit log, threats, usage) are dumped by each test gateway on stop.
    expect(outputs.some((f) => /db-audit_log/.test(f))).toBe(true);
    // Every test gateway's /metrics exposition, and the errors the backend unit tests provoked.
    expect(outputs.some((f) => /[/\\]metrics\.txt$/.test(f))).toBe(true);
    expect(outputs.some((f) => /backend-unit-errors/.test(f))).toBe(true);
    const lines = logs.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').length, 0);
    expect(lines).toBeGreaterThan(50);
  });

  it('finds no secret, nor its distinctive middle, in any log line or response body', () => {
    const hits: string[] = [];
    for (const file of [...logs, ...outputs]) {
      const text = readFileSync(file, 'utf8');
      for (const s of secrets) {
        // The middle third catches a secret that was only partly masked or re-encoded.
        const middle = s.slice(Math.floor(s.length / 3), Math.floor((2 * s.length) / 3));
        if (text.includes(s) || (middle.length >= 8 && text.includes(middle))) hits.push(`${file}: ${s.slice(0, 6)}...`);
      }
    }
    expect(hits).toEqual([]);
  });
});
