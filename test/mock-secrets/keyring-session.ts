/**
 * A private Secret Service for keyring tests on Linux: a session D-Bus (dbus-daemon) and an
 * unlocked gnome-keyring-daemon in a throw-away HOME, both children of this process, both
 * killed by stop(). The test process then talks to it through DBUS_SESSION_BUS_ADDRESS.
 * Equivalent shell: dbus-run-session -- sh -c 'echo pw | gnome-keyring-daemon --unlock --components=secrets; ...'
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyringSession {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Why a real keyring cannot be started here, or undefined when it can. */
export function keyringUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `the keyring harness targets Linux Secret Service; this is ${process.platform}`;
  for (const bin of ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
      return `${bin} is not installed (apt-get install -y gnome-keyring dbus-daemon dbus-bin libsecret-tools)`;
    }
  }
  return undefined;
}

function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl).trim());
    });
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}: ${err.trim().slice(0, 300)}`)));
    child.on('error', reject);
  });
}

export async function startKeyringSession(): Promise<KeyringSession> {
  const home = mkdtempSync(join(tmpdir(), 'kg-keyring-'));
  const runtime = join(home, 'run');
  const baseEnv = { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: join(home, 'config') };
  spawnSync('mkdir', ['-m', '700', '-p', runtime]);
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const address = await firstLine(bus, 'dbus-daemon');
  const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address } as Record<string, string>;
  // --unlock reads the login keyring password from stdin and creates that keyring unlocked.
  const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  keyring.stdin?.end('keygate-test-keyring-password\n');
  let keyringErr = '';
  keyring.stderr?.on('data', (c: Buffer) => (keyringErr += c.toString()));
  keyring.stdout?.resume();
  // In --foreground mode it prints nothing; it is ready once it owns org.freedesktop.secrets.
  // (Readiness polling only; no test asserts on time.)
  for (let i = 0; ; i++) {
    const q = spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { env, encoding: 'utf8' });
    if (q.stdout?.includes('boolean true')) break;
    if (keyring.exitCode !== null || i >= 100) {
      keyring.kill();
      bus.kill();
      throw new Error(`gnome-keyring-daemon did not register on the session bus: ${keyringErr.trim().slice(0, 300)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async (): Promise<void> => {
    for (const child of [keyring, bus]) {
      if (child.exitCode === null && child.pid) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await exited;
      }
    }
    rmSync(home, { recursive: true, force: true });
  };
  return { env: { DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtime }, stop };
}
