import { pino } from "pino";
import type { Logger, LoggerOptions } from "pino";

/** The logger type every voxpipe package takes (pino's). */
export type { Logger } from "pino";

/**
 * Level used when neither the options nor `VOXPIPE_LOG_LEVEL` say otherwise.
 * Tests run silent by default (vitest sets `VITEST`), so expected errors in
 * negative tests don't flood the output.
 */
function defaultLevel(): string {
  const env = process.env.VOXPIPE_LOG_LEVEL;
  if (env !== undefined && env !== "") return env;
  return process.env.VITEST !== undefined ? "silent" : "info";
}

let root: Logger | undefined;

/**
 * Create a structured pino logger for a voxpipe component.
 *
 * Level: `options.level`, else env `VOXPIPE_LOG_LEVEL`, else `info` (`silent` under vitest).
 * Rules of the project (design.md "Conventions"): never log secrets, API keys or URLs
 * with query strings; transcripts only at `debug`.
 *
 * @param name component name, becomes the `name` field of every line.
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  return pino({ name, level: defaultLevel(), ...options });
}

/** The shared root logger of voxpipe (created lazily). Use `.child({...})` for components. */
export function rootLogger(): Logger {
  root ??= createLogger("voxpipe");
  return root;
}

/** Replace the shared root logger, e.g. to route logs to a file or raise the level. */
export function setRootLogger(logger: Logger): void {
  root = logger;
}
