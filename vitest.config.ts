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
    // test/consumer/project runs in its own npm-installed project (test/consumer/run.sh).
    exclude: ["**/node_modules/**", "**/dist/**", "test/consumer/**"],
    // The labelled audio set (test/fixtures/generated) is built once, before the workers start.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Socket-heavy suites share two cores; forks isolate native addons (pocketsphinx, onnxruntime).
    pool: "forks",
    maxWorkers: 2,
  },
});
