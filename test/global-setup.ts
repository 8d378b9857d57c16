import { ensureFixtures } from "./fixtures/make-fixtures.js";

/**
 * vitest global setup: builds the labelled audio set once, before any worker starts, so
 * test files that share it never generate it concurrently.
 */
export default async function setup(): Promise<void> {
  await ensureFixtures();
}
