import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Option } from "commander";
import type { Logger } from "@voxpipe/core";
import type { Command } from "commander";
import { ENGINE_DESCRIPTIONS, engineNames, startFluxServer } from "@voxpipe/flux-server";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { LOG_LEVELS, setupLogging } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { parseEngineOptions } from "../options/engine.js";
import { CliUsageError, parseInteger } from "../options/flux.js";
import { importLocalSageMakerEndpoint } from "../sagemaker.js";

interface FluxServerFlags {
  port: number;
  host: string;
  engine: string;
  engineOptions?: Record<string, unknown>;
  apiKey?: string;
  idleTimeoutMs?: number;
  maxSessions?: number;
  sagemakerPort?: number;
  sagemakerTls: boolean;
  logLevel: LogLevel;
}

/**
 * Starts the local SageMaker runtime endpoint in front of the Flux server and says how to use
 * it: the endpoint override, the generated certificate (written to a file for AWS_CA_BUNDLE),
 * and the test credentials (public test values, accepted by this endpoint only).
 */
async function startSageMaker(
  fluxUrl: string,
  port: number,
  flags: FluxServerFlags,
  io: CliIO,
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
  const { startLocalSageMakerEndpoint } = await importLocalSageMakerEndpoint("--sagemaker-port");
  const endpoint = await startLocalSageMakerEndpoint({
    fluxUrl,
    port,
    host: flags.host,
    tls: flags.sagemakerTls,
    logger: logger.child({ component: "sagemaker-endpoint" }),
  });
  const env = [
    `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=${endpoint.url}`,
    `AWS_REGION=${endpoint.region}`,
    `AWS_ACCESS_KEY_ID=${endpoint.credentials.accessKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${endpoint.credentials.secretAccessKey}`,
  ];
  let caFile: string | undefined;
  if (endpoint.ca !== undefined) {
    const dir = await mkdtemp(join(tmpdir(), "voxpipe-sagemaker-"));
    caFile = join(dir, "local-endpoint-ca.pem");
    await writeFile(caFile, endpoint.ca);
    env.push(`AWS_CA_BUNDLE=${caFile}`);
  }
  note(
    io,
    `SageMaker runtime endpoint (local, any endpoint name) on ${endpoint.url}, bridged to ${fluxUrl}/v2/listen. To use it (test credentials):\n  export ${env.join(" ")}\n  voxpipe transcribe call.wav --url sagemaker:local-flux`,
  );
  return {
    async close() {
      await endpoint.close();
      if (caFile !== undefined) await rm(dirname(caFile), { recursive: true, force: true });
    },
  };
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
    .addOption(
      new Option(
        "--engine-options <json>",
        'the engine\'s options as a JSON object, e.g. for local \'{"search":"fast"}\' (see Engines below)',
      ).argParser(parseEngineOptions("--engine-options")),
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
      new Option(
        "--sagemaker-port <port>",
        "also serve a local Amazon SageMaker runtime endpoint (InvokeEndpointWithBidirectionalStream over HTTP/2, SigV4 with test credentials) bridged to this server",
      ).argParser(parseInteger("--sagemaker-port")),
    )
    .option(
      "--no-sagemaker-tls",
      "serve the SageMaker endpoint as h2c (HTTP/2 without TLS) instead of HTTPS with a generated certificate",
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

More concurrent calls per core from the local engine (its search prunes harder: ≈20 % less
decoder CPU for a few words on some voices; @voxpipe/speech-local README, "CPU"):
  voxpipe flux-server --engine local --engine-options '{"search":"fast"}'

Point any Flux client at it, e.g.:
  voxpipe flux-server --port 8787 &
  voxpipe transcribe call.wav --url ws://127.0.0.1:8787

As Flux on Amazon SageMaker (prints the environment a client needs):
  voxpipe flux-server --sagemaker-port 8443`,
    )
    .action(async (flags: FluxServerFlags) => {
      const logger = setupLogging(flags.logLevel);
      if (flags.port < 0 || flags.port > 65535)
        throw new CliUsageError(`--port must be from 0 to 65535, got ${flags.port}`);
      if (flags.maxSessions !== undefined && flags.maxSessions < 1) {
        throw new CliUsageError(`--max-sessions must be at least 1, got ${flags.maxSessions}`);
      }
      if (
        flags.sagemakerPort !== undefined &&
        (flags.sagemakerPort < 0 || flags.sagemakerPort > 65535)
      ) {
        throw new CliUsageError(
          `--sagemaker-port must be from 0 to 65535, got ${flags.sagemakerPort}`,
        );
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
        ...(flags.engineOptions !== undefined && { engineOptions: flags.engineOptions }),
        logger: logger.child({ component: "flux-server" }),
        ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
        ...(flags.idleTimeoutMs !== undefined && { idleTimeoutMs: flags.idleTimeoutMs }),
        ...(flags.maxSessions !== undefined && { maxSessions: flags.maxSessions }),
      });
      note(
        io,
        `Flux server (${flags.engine} engine) listening on ${server.url}/v2/listen${flags.apiKey !== undefined ? " (auth required)" : ""}; Ctrl-C to stop`,
      );
      const sagemaker =
        flags.sagemakerPort !== undefined
          ? await startSageMaker(server.url, flags.sagemakerPort, flags, io, logger)
          : undefined;
      await stop();
      await sagemaker?.close();
      await server.close();
      note(io, `stopped after ${server.counters().sessions} session(s)`);
      done(0);
    });
}
