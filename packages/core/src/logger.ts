import { pino } from "pino";
import type { DestinationStream, Level, Logger, LoggerOptions } from "pino";

/** The logger type every voxpipe package takes (pino's). */
export type { Logger } from "pino";

/**
 * Any application logger with the four usual methods — `console`, winston, a custom
 * function table. Each method receives the message and the structured fields of the line
 * (`name`, `component`, `requestId`, `err`…).
 */
export interface LogSink {
  error(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
  debug(message: string, fields: Record<string, unknown>): void;
}

/**
 * Level used when neither the options nor `VOXPIPE_LOG_LEVEL` say otherwise: `warn` — a
 * library reports only what needs the application's attention. Tests run silent (vitest sets
 * `VITEST`), so expected errors in negative tests don't flood the output.
 */
function defaultLevel(): string {
  const env = process.env.VOXPIPE_LOG_LEVEL;
  if (env !== undefined && env !== "") return env;
  return process.env.VITEST !== undefined ? "silent" : "warn";
}

let root: Logger | undefined;

/**
 * Create a structured pino logger for a voxpipe component, writing JSON lines to **stderr**
 * (file descriptor 2, synchronously, so nothing is lost at exit) — never to stdout, which
 * belongs to the application.
 *
 * Level: `options.level`, else env `VOXPIPE_LOG_LEVEL`, else `warn` (`silent` under vitest).
 * Rules of the project (design.md "Conventions"): never log secrets, API keys or URLs
 * with query strings; transcripts only at `debug`.
 *
 * @param name component name, becomes the `name` field of every line.
 * @param destination where lines go. Default: stderr.
 */
export function createLogger(
  name: string,
  options: LoggerOptions = {},
  destination: DestinationStream = pino.destination({ fd: 2, sync: true }),
): Logger {
  return pino({ name, level: defaultLevel(), ...options }, destination);
}

/**
 * The shared root logger of voxpipe (created lazily: warnings and errors, to stderr). Every
 * package logs through `.child({...})` of it unless an option passes a logger explicitly.
 */
export function rootLogger(): Logger {
  root ??= createLogger("voxpipe");
  return root;
}

/** pino numeric level → the {@link LogSink} method (fatal → error, trace → debug). */
function sinkMethod(level: number): keyof LogSink {
  if (level >= 50) return "error";
  if (level >= 40) return "warn";
  if (level >= 30) return "info";
  return "debug";
}

/**
 * A pino logger that hands every line to `sink` (message + fields), so voxpipe's logs go
 * wherever the application's own logger goes.
 * @param level lowest level passed on. Default `warn` (or `VOXPIPE_LOG_LEVEL`).
 */
export function loggerFromSink(sink: LogSink, level?: Level | "silent"): Logger {
  const destination: DestinationStream = {
    write(line: string): void {
      const fields = JSON.parse(line) as Record<string, unknown>;
      const { msg, level: numeric, time: _time, ...rest } = fields;
      sink[sinkMethod(Number(numeric))](typeof msg === "string" ? msg : "", rest);
    },
  };
  return createLogger("voxpipe", level === undefined ? {} : { level }, destination);
}

/**
 * Plug in the application's logger — **the one way to route voxpipe's logs**. Call it once at
 * startup, before creating pipelines, clients or servers (they take their child loggers
 * when constructed).
 *
 * - a pino `Logger`: used as is (its level and destination decide);
 * - any other logger ({@link LogSink}: `console`, winston…): gets warnings and errors
 *   (`VOXPIPE_LOG_LEVEL` or {@link loggerFromSink}'s `level` to change).
 *
 * @example
 * ```ts
 * setRootLogger(pino({ level: "info" }));   // your pino
 * setRootLogger(console);                   // or any logger with error/warn/info/debug
 * ```
 */
export function setRootLogger(logger: Logger | LogSink): void {
  root = isPino(logger) ? logger : loggerFromSink(logger);
}

function isPino(logger: Logger | LogSink): logger is Logger {
  return typeof (logger as Partial<Logger>).child === "function" && "levels" in logger;
}
