/**
 * The least of a GatewayContext a stream guard touches, for unit tests: the hash key of the
 * redaction options, and where findings go (collected in `threats`).
 */
import type { GatewayContext } from '../../src/server/context.js';

export function guardTestContext(): { ctx: GatewayContext; threats: Array<Record<string, unknown>> } {
  const threats: Array<Record<string, unknown>> = [];
  const ctx = {
    masterKeys: { current: { deriveKey: () => Buffer.alloc(32, 7) } },
    repos: { threats: { insert: async (row: Record<string, unknown>) => void threats.push(row) } },
    metrics: { threat: () => undefined },
    events: { emit: () => undefined },
    logger: { error: () => undefined },
  } as unknown as GatewayContext;
  return { ctx, threats };
}
