/**
 * Runs Python's `cryptography.fernet` (Debian's python3-cryptography) for interop tests.
 * Missing Python is a failure in CI (CI or KEYGATE_REQUIRE_SERVICES=1, which .ci/run sets) and
 * a skip elsewhere: see `pythonFernetGate()`.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const SCRIPT = String.raw`
import base64, json, sys
from cryptography.fernet import Fernet, MultiFernet, InvalidToken
out = []
for op in json.load(sys.stdin):
    try:
        if op["op"] == "generate_key":
            out.append({"ok": Fernet.generate_key().decode()})
        elif op["op"] == "encrypt":
            f = Fernet(op["key"].encode())
            data = base64.b64decode(op["data_b64"])
            tok = f.encrypt_at_time(data, op["now"]) if "now" in op else f.encrypt(data)
            out.append({"ok": tok.decode()})
        elif op["op"] == "decrypt":
            f = Fernet(op["key"].encode())
            ttl = op.get("ttl")
            if "now" in op and ttl is not None:
                pt = f.decrypt_at_time(op["token"].encode(), ttl, op["now"])
            else:
                pt = f.decrypt(op["token"].encode(), ttl)
            out.append({"ok": base64.b64encode(pt).decode()})
        else:
            out.append({"error": "unknown op"})
    except InvalidToken:
        out.append({"error": "InvalidToken"})
json.dump(out, sys.stdout)
`;

export type PyOp =
  | { op: 'generate_key' }
  | { op: 'encrypt'; key: string; data_b64: string; now?: number }
  | { op: 'decrypt'; key: string; token: string; ttl?: number; now?: number };
export type PyResult = { ok: string } | { error: string };

let available: boolean | undefined;

export function pythonFernetAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('python3', ['-c', 'from cryptography.fernet import Fernet'], { stdio: 'ignore', timeout: 15_000 });
    available = r.status === 0;
  }
  return available;
}

/** True where a missing interop dependency must fail the run, not skip: CI, and .ci/run (KEYGATE_REQUIRE_SERVICES=1). */
export function interopRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CI) || env.KEYGATE_REQUIRE_SERVICES === '1';
}

/** Whether interop tests should run; where required they always run (and fail if Python is missing). */
export function pythonFernetGate(): { run: boolean; reason: string } {
  if (pythonFernetAvailable()) return { run: true, reason: '' };
  const reason = 'python3 with the cryptography module is missing (Debian: apt-get install python3-cryptography)';
  return { run: interopRequired(), reason };
}

/** Runs a batch of operations in one Python process. */
export function runPythonFernet(ops: PyOp[]): PyResult[] {
  if (!pythonFernetAvailable()) {
    throw new Error('python3 with the cryptography module is required for the Fernet interop tests in CI');
  }
  const out = execFileSync('python3', ['-c', SCRIPT], { input: JSON.stringify(ops), encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out) as PyResult[];
}

export function pyOk(r: PyResult | undefined): string {
  if (!r || !('ok' in r)) throw new Error(`Python Fernet failed: ${r && 'error' in r ? r.error : 'no result'}`);
  return r.ok;
}
