/**
 * The token counter's tables are built at start-up when a served provider reports no stream
 * usage (so no request pays the 0.5-3 s), and not at all otherwise. Its own file: the encoder
 * is per process, and the first case needs it unbuilt.
 */
import { describe, expect, it } from 'vitest';
import { startTestGateway } from '../../test/support/gateway.js';
import { tokenCounterWarm } from './token-count.js';

describe('token counter warm-up', () => {
  it('is left alone when every served provider reports stream usage, built at start when one does not', async () => {
    const plain = await startTestGateway({ label: 'token-warm-openai', env: { KEY_MODE: 'server', OPENAI_API_KEY: 'sk-test-warm-0000000000000000' } });
    try {
      expect(tokenCounterWarm()).toBe(false);
    } finally {
      await plain.stop();
    }
    // Mistral streams no usage: its answers are counted here.
    const mistral = await startTestGateway({ label: 'token-warm-mistral', env: { KEY_MODE: 'server', MISTRAL_API_KEY: 'mk-test-warm-0000000000000000' } });
    try {
      expect(tokenCounterWarm()).toBe(true);
    } finally {
      await mistral.stop();
    }
  });
});
