/**
 * What the suite hands the gateway and what the gateway says back, kept on disk for the leak
 * scan (test/leak-scan) that runs after the whole suite: every secret a test uses is recorded
 * with recordSecret(), every log line and every response body the gateway produced is written
 * under .test-artifacts/, and the scan fails on any secret found in any of them.
 */
import { appendFileSync, mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';

// KEYGATE_TEST_ARTIFACTS names another folder, so that runs going on at the same time (global-setup
// empties the folder at the start of each) do not wipe each other's; the leak scan reads the same one.
export const ARTIFACTS_DIR = process.env.KEYGATE_TEST_ARTIFACTS ? resolve(process.env.KEYGATE_TEST_ARTIFACTS) : resolve(import.meta.dirname, '..', '..', '.test-artifacts');
const LOGS = join(ARTIFACTS_DIR, 'logs');
const OUTPUTS = join(ARTIFACTS_DIR, 'outputs');

export function recordSecret(secret: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  appendFileSync(join(ARTIFACTS_DIR, 'secrets.txt'), `${secret}\n`);
  return secret;
}

/** A log destination for one gateway instance; pino writes JSON lines to it. */
export function logSink(label: string): WriteStream & { lines(): string[] } {
  mkdirSync(LOGS, { recursive: true });
  const path = join(LOGS, `${label.replace(/[^a-z0-9_-]/gi, '_')}-${randomUUID().slice(0, 8)}.log`);
  const chunks: string[] = [];
  const stream = createWriteStream(path) as WriteStream & { lines(): string[] };
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  stream.lines = () => chunks.join('').split('\n').filter(Boolean);
  return stream;
}

/** Anything the gateway sent to a client (error bodies, stream text), for the scan. */
export function recordOutput(label: string, text: string): void {
  mkdirSync(OUTPUTS, { recursive: true });
  appendFileSync(join(OUTPUTS, `${label.replace(/[^a-z0-9_-]/gi, '_')}.txt`), `${text}\n`);
}
