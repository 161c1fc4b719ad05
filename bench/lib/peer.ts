/**
 * The peer, @portkey-ai/gateway from npm, installed into bench/.peer on first use so a user's
 * `npm install` stays lean. Any failure is returned as a reason for the table, never thrown.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './build.js';

const PEER_DIR = join(ROOT, 'bench/.peer');
const PKG_DIR = join(PEER_DIR, 'node_modules/@portkey-ai/gateway');
export const PORTKEY_ENTRY = join(PKG_DIR, 'build/start-server.js');

export type PeerInstall = { ok: true; version: string } | { ok: false; reason: string };

export async function ensurePortkey(): Promise<PeerInstall> {
  if (!existsSync(PORTKEY_ENTRY)) {
    process.stderr.write('bench: installing @portkey-ai/gateway into bench/.peer (first run only)...\n');
    mkdirSync(PEER_DIR, { recursive: true });
    try {
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      await promisify(execFile)(npm, ['install', '--prefix', PEER_DIR, '--no-audit', '--no-fund', '@portkey-ai/gateway'], { timeout: 300_000 });
    } catch (err) {
      const msg = (err as { stderr?: string; message?: string }).stderr || (err as Error).message;
      return { ok: false, reason: `npm install failed: ${msg.trim().split('\n').slice(-1)[0]?.slice(0, 160)}` };
    }
    if (!existsSync(PORTKEY_ENTRY)) return { ok: false, reason: 'installed, but build/start-server.js is missing' };
  }
  const version = (JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  return { ok: true, version };
}
