/**
 * Leak-scan hooks for the backend unit tests (src/secrets/**): their keys and credentials are
 * recorded like the e2e tests' (recordSecret), and the messages of the errors they provoke are
 * kept as outputs, so the scan after the suite also checks what a failing backend says.
 */
import { recordOutput, recordSecret } from '../support/artifacts.js';

export { recordSecret };

/** Keeps an error's message for the scan and hands the error back: `.catch(kept)`. */
export function kept(err: unknown): unknown {
  recordOutput('backend-unit-errors', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return err;
}

/** `await expect(keptRejection(p)).rejects...`: the same rejection, its message kept for the scan. */
export function keptRejection<T>(p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    throw kept(err);
  });
}
