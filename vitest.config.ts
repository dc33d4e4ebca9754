// Tests run as root against the real kernel; files run in separate processes so a
// crash or a leaked namespace in one cannot take down the others.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    setupFiles: ['test/harness/setup.ts'],
  },
});
