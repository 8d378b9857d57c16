/**
 * Debian's Chromium for the browser tests and benchmarks, driven by playwright-core (never a
 * downloaded browser). The flags keep it offline and quiet: this machine's network is closed,
 * so background networking and component updates would only fail.
 */
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";

/** Flags every headless run here needs; add test-specific ones through `launchChromium`. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
] as const;

/** Launches `/usr/bin/chromium` (Debian package `chromium`) with {@link CHROMIUM_ARGS} + `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}
