/** The threat metric's action labels are the shield's own actions: a `log` finding is counted as `log`, not `other`. */
import { describe, expect, it } from 'vitest';
import { createMetrics, THREAT_ACTION_LABELS } from '../../usage/metrics.js';
import { CATEGORIES } from '../types.js';
import { guardActionSchema } from '../policy.js';

describe('keygate_threats_total labels', () => {
  it('has a label for every guard action', () => {
    expect([...THREAT_ACTION_LABELS].sort()).toEqual([...guardActionSchema.options].sort());
  });

  it('counts each category and action under its own name', async () => {
    const m = createMetrics();
    for (const c of CATEGORIES) for (const a of guardActionSchema.options) m.threat(c, a);
    const text = await m.exposition();
    for (const c of CATEGORIES) for (const a of guardActionSchema.options) expect(text).toContain(`keygate_threats_total{category="${c}",action="${a}"} 1`);
  });
});
