// Shared vitest settings: tests run against each package's TypeScript source
// through the "@kvmts/source" export condition, so a test never needs a stale dist.
import { defineConfig } from 'vitest/config';

export function packageTestConfig(options: { testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ['@kvmts/source'] },
    ssr: { resolve: { conditions: ['@kvmts/source'] } },
    test: {
      include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 30_000,
      pool: 'forks',
    },
  });
}
