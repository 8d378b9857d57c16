import { defineConfig } from "vitest/config";

/**
 * One vitest run covers every package, the cross-package tests in `test/` and the
 * examples. Workspace packages resolve to their TypeScript sources through the
 * `@voxpipe/source` export condition, so tests never need a prior build.
 */
export default defineConfig({
  resolve: { conditions: ["@voxpipe/source"] },
  ssr: { resolve: { conditions: ["@voxpipe/source"], externalConditions: ["@voxpipe/source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Socket-heavy suites share two cores; forks isolate native addons (pocketsphinx, onnxruntime).
    pool: "forks",
    maxWorkers: 2,
  },
});
