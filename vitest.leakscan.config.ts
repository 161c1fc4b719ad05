import { defineConfig } from 'vitest/config';

// Runs after the main suite (see `npm test`): reads what the whole suite logged and answered.
export default defineConfig({
  test: {
    include: ['test/leak-scan/**/*.scan.ts'],
    testTimeout: 60_000,
  },
});
