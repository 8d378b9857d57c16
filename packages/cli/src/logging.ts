import { pino } from "pino";
import type { Logger } from "pino";
import { setRootLogger } from "@voxpipe/core";

/** Log levels the CLI accepts. */
export const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Routes voxpipe's structured logs (pino JSON) to stderr at `level`, so stdout carries only
 * the command's output (the transcript view or `--json` lines). Transcripts appear in logs
 * only at `debug`.
 */
export function setupLogging(level: LogLevel): Logger {
  const logger = pino({ name: "voxpipe", level }, pino.destination({ fd: 2, sync: true }));
  setRootLogger(logger);
  return logger;
}
