/**
 * The data directory holds master.key and the SQLite database: only its owner may read it.
 * A new one is created 0700; an existing one that others can read is tightened, and the
 * caller says so (a directory made by hand, or by an old version, with a loose umask).
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';

/** Creates or tightens the directory; returns a warning to show when it had to change (or could not). */
export function ensureDataDir(dir: string): string | null {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return null; // modes do not apply; ACLs are the operator's
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  const was = `0${mode.toString(8)}`;
  try {
    chmodSync(dir, 0o700);
    return `the data directory ${dir} was readable by others (mode ${was}); it holds master.key, so it is now 0700`;
  } catch {
    return `the data directory ${dir} is readable by others (mode ${was}) and could not be tightened; it holds master.key: run chmod 700 ${dir}`;
  }
}
