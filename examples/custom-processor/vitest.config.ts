import { defineConfig } from "vitest/config";

/**
 * This example's own tests (`npm test` / `pnpm test`), inside the voxpipe repository or copied
 * out of it: `@voxpipe/*` resolve to the installed (built) packages. The repository's root
 * vitest run covers them too, on the packages' sources.
 */
export default defineConfig({ test: { include: ["test/**/*.test.ts"], testTimeout: 20_000 } });
