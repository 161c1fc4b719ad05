/**
 * Keeps the shield's stored policy overrides (set through the admin API) in the running
 * gateway's policy book: loaded at start, reloaded at once by the replica that changed them,
 * and by every other replica within `intervalMs` (a cheap version query, a full read only
 * when it moved).
 */
import { parseGuardPolicyOverride } from '../guard/policy.js';
import { POLICY_SCOPES, type GuardPolicyBook, type PolicyScope, type StoredOverride } from '../guard/policy-book.js';
import type { GuardPolicyRepository } from '../store/repositories/guard-policies.js';
import type { Logger } from './logger.js';

export async function reloadStoredPolicies(book: GuardPolicyBook, repo: GuardPolicyRepository, logger: Logger): Promise<void> {
  const rows: StoredOverride[] = [];
  for (const r of await repo.list()) {
    try {
      if (!POLICY_SCOPES.includes(r.scope as PolicyScope)) throw new Error(`unknown scope ${r.scope}`);
      rows.push({ scope: r.scope as PolicyScope, subject: r.subject, policy: parseGuardPolicyOverride(JSON.parse(r.policy)) });
    } catch (err) {
      // A row written by another version: skipped (the rest still apply), and said so.
      logger.error({ scope: r.scope, subject: r.subject, err: (err as Error).message }, 'stored shield policy ignored');
    }
  }
  book.setStored(rows);
}

/** Polls for changes made by other replicas; returns a stop function. */
export function watchStoredPolicies(book: GuardPolicyBook, repo: GuardPolicyRepository, logger: Logger, intervalMs = 5_000): () => void {
  let seen = '';
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    repo
      .version()
      .then(async (v) => {
        if (v !== seen) {
          await reloadStoredPolicies(book, repo, logger);
          seen = v;
        }
      })
      .catch((err: unknown) => logger.warn({ err }, 'stored shield policies could not be reloaded'))
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
