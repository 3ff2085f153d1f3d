import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The workspace package comes from this checkout, not from wherever node_modules' link points (a worktree may
  // share another checkout's node_modules).
  resolve: { alias: { '@sympozium/kube-emulator': fileURLToPath(new URL('./packages/kube-emulator/src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: e2e suites start processes and servers, so keep parallelism modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    env: { CI: '1', FORCE_COLOR: '0' },
  },
});
