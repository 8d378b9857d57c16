import { Option } from "commander";
import type { Command } from "commander";
import { ENGINE_DESCRIPTIONS, engineNames, startFluxServer } from "@voxpipe/flux-server";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { LOG_LEVELS, setupLogging } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { CliUsageError, parseInteger } from "../options/flux.js";

interface FluxServerFlags {
  port: number;
  host: string;
  engine: string;
  apiKey?: string;
  idleTimeoutMs?: number;
  maxSessions?: number;
  logLevel: LogLevel;
}

/** Resolves when SIGINT or SIGTERM arrives (handlers removed afterwards). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/**
 * `voxpipe flux-server`: the local Flux-compatible `/v2/listen` server (`startFluxServer`
 * from `@voxpipe/flux-server`), until Ctrl-C.
 */
export function registerFluxServerCommand(
  program: Command,
  io: CliIO,
  done: (code: number) => void,
  stop: () => Promise<unknown> = untilSignal,
): void {
  program
    .command("flux-server")
    .description(
      "Run a local Deepgram Flux-compatible /v2/listen server (offline speech, or scripted turns for tests)",
    )
    .addOption(
      new Option("--port <port>", "TCP port (0 = any free port)")
        .argParser(parseInteger("--port"))
        .default(8787),
    )
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .addOption(
      new Option("--engine <name>", "turn engine (see Engines below)")
        .choices(engineNames())
        .default("local"),
    )
    .option(
      "--api-key <key>",
      "require clients to send Authorization: Token <key> (default: no auth)",
    )
    .addOption(
      new Option("--idle-timeout-ms <ms>", "close sessions idle this long").argParser(
        parseInteger("--idle-timeout-ms"),
      ),
    )
    .addOption(
      new Option("--max-sessions <n>", "refuse connections beyond this many with 429").argParser(
        parseInteger("--max-sessions"),
      ),
    )
    .addOption(
      new Option("--log-level <level>", "structured logs on stderr")
        .choices(LOG_LEVELS)
        .default("info"),
    )
    .addHelpText(
      "after",
      `
Engines:
${engineNames()
  .map((name) => `  ${name.padEnd(9)} ${ENGINE_DESCRIPTIONS[name] ?? ""}`)
  .join("\n")}

Point any Flux client at it, e.g.:
  voxpipe flux-server --port 8787 &
  voxpipe transcribe call.wav --url ws://127.0.0.1:8787`,
    )
    .action(async (flags: FluxServerFlags) => {
      const logger = setupLogging(flags.logLevel);
      if (flags.port < 0 || flags.port > 65535)
        throw new CliUsageError(`--port must be from 0 to 65535, got ${flags.port}`);
      if (flags.maxSessions !== undefined && flags.maxSessions < 1) {
        throw new CliUsageError(`--max-sessions must be at least 1, got ${flags.maxSessions}`);
      }
      if (flags.idleTimeoutMs !== undefined && flags.idleTimeoutMs < 1000) {
        throw new CliUsageError(
          `--idle-timeout-ms must be at least 1000, got ${flags.idleTimeoutMs}`,
        );
      }
      const server = await startFluxServer({
        port: flags.port,
        host: flags.host,
        engine: flags.engine,
        logger: logger.child({ component: "flux-server" }),
        ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
        ...(flags.idleTimeoutMs !== undefined && { idleTimeoutMs: flags.idleTimeoutMs }),
        ...(flags.maxSessions !== undefined && { maxSessions: flags.maxSessions }),
      });
      note(
        io,
        `Flux server (${flags.engine} engine) listening on ${server.url}/v2/listen${flags.apiKey !== undefined ? " (auth required)" : ""}; Ctrl-C to stop`,
      );
      await stop();
      await server.close();
      note(io, `stopped after ${server.counters().sessions} session(s)`);
      done(0);
    });
}
