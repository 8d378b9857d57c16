import { Option } from "commander";
import type { Command } from "commander";
import { FLUX_MODELS } from "@voxpipe/flux-protocol";
import { TOOLS, spawnTool } from "@voxpipe/transports";
import { FluxError } from "@voxpipe/deepgram";
import type { CliIO } from "../io.js";
import { processIO } from "../io.js";
import { LOG_LEVELS, setupLogging } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { CliUsageError, parseInteger, parseNumber } from "../options/flux.js";
import { importSageMaker } from "../sagemaker.js";
import { resolveStressOptions } from "./options.js";
import type { StressFlagValues } from "./options.js";
import { formatReport } from "./report.js";
import { runStress } from "./run.js";

const ENDPOINT_HELP =
  "Flux endpoint: `deepgram` (default; needs DEEPGRAM_API_KEY), `local` (a local Flux server in this process), sagemaker:<endpoint-name> (Flux on Amazon SageMaker; AWS credentials from the standard chain), or any ws(s)://…/v2/listen URL (self-hosted, regional, a running `voxpipe flux-server`)";

/** The flags both modes share. */
function addCommonOptions(command: Command): Command {
  return command
    .argument("[endpoint]", ENDPOINT_HELP)
    .addOption(
      new Option("--connections <n>", "concurrent Flux connections")
        .argParser(parseInteger("--connections"))
        .default(1),
    )
    .addOption(
      new Option("--model <name>", "Flux model").choices(FLUX_MODELS).default("flux-general-en"),
    )
    .addOption(
      new Option(
        "--eot-threshold <n>",
        "end-of-turn confidence threshold (Flux default 0.7)",
      ).argParser(parseNumber("--eot-threshold")),
    )
    .addOption(
      new Option(
        "--eager-eot-threshold <n>",
        "eager end-of-turn threshold, ≤ --eot-threshold; turns on ~ eager events",
      ).argParser(parseNumber("--eager-eot-threshold")),
    )
    .addOption(
      new Option(
        "--eot-timeout-ms <ms>",
        "end a turn after this much silence (Flux default 5000)",
      ).argParser(parseInteger("--eot-timeout-ms")),
    )
    .option("--keyterms <terms>", "comma-separated terms to boost, e.g. Acme,refund (≤100)")
    .addOption(
      new Option("--duration <seconds>", "stop after this many seconds").argParser(
        parseNumber("--duration"),
      ),
    )
    .addOption(
      new Option(
        "--configure-every <seconds>",
        "send a Configure (eot_threshold ±0.01) on every connection this often, to measure Configure round trips",
      ).argParser(parseNumber("--configure-every")),
    )
    .addOption(
      new Option("--log-level <level>", "structured logs on stderr")
        .choices(LOG_LEVELS)
        .default("warn"),
    )
    .option(
      "--region <region>",
      "AWS region of a sagemaker: endpoint (default: AWS_REGION or the profile's)",
    )
    .option("--json", "print the summary as JSON on stdout (live output goes to stderr)");
}

/** Flags of `stress list-endpoints`. */
interface ListEndpointsFlags {
  region?: string;
  status?: string;
  logLevel?: string;
  json?: boolean;
}

/**
 * `voxpipe stress list-endpoints`: SageMaker endpoints of a region, as Deepgram's
 * `flux_stress.py list-endpoints` shows them (name, status, created, last modified).
 * @returns the exit code: 0 listed (even none), 1 the call failed (the error says why).
 */
async function listEndpoints(flags: ListEndpointsFlags, io: CliIO): Promise<number> {
  setupLogging((flags.logLevel ?? "warn") as LogLevel);
  const { listSageMakerEndpoints } = await importSageMaker("stress list-endpoints");
  const region = flags.region ?? (io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined);
  let list: Awaited<ReturnType<typeof listSageMakerEndpoints>>;
  try {
    list = await listSageMakerEndpoints({
      ...(region !== undefined && { region }),
      ...(flags.status !== undefined && { status: flags.status }),
    });
  } catch (error) {
    // A bad --status is refused before any request: a usage error.
    if (error instanceof FluxError && error.source === "input" && error.code === "INVALID_STATUS") {
      throw new CliUsageError(`--${error.description}`);
    }
    io.stderr.write(
      `voxpipe: error: ListEndpoints failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ region: region ?? null, endpoints: list }, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(formatEndpointTable(list, region));
  return 0;
}

/** The endpoint table (`ENDPOINT NAME  STATUS  CREATED  LAST MODIFIED`, UTC), then a count. */
export function formatEndpointTable(
  list: readonly {
    name: string;
    status: string;
    creationTime: Date | undefined;
    lastModifiedTime: Date | undefined;
  }[],
  region: string | undefined,
): string {
  const time = (d: Date | undefined): string =>
    d === undefined ? "-" : d.toISOString().slice(0, 19).replace("T", " ");
  const nameWidth = Math.max(24, ...list.map((e) => e.name.length + 1));
  const rows = list.map(
    (e) =>
      `${e.name.padEnd(nameWidth)} ${e.status.padEnd(14)} ${time(e.creationTime).padEnd(21)} ${time(e.lastModifiedTime)}`,
  );
  const rule = "-".repeat(nameWidth + 59);
  return [
    `SageMaker Endpoints  [${region ?? "default region"}]`,
    rule,
    `${"ENDPOINT NAME".padEnd(nameWidth)} ${"STATUS".padEnd(14)} ${"CREATED (UTC)".padEnd(21)} LAST MODIFIED (UTC)`,
    rule,
    ...rows,
    rule,
    `${list.length} endpoint(s)`,
    "",
  ].join("\n");
}

/** Prints the capture devices `arecord -l` knows (ALSA, Linux). */
async function listDevices(io: CliIO): Promise<number> {
  const tool = spawnTool(TOOLS.arecord, ["-l"]);
  let text = "";
  tool.stdout.setEncoding("utf8");
  tool.stdout.on("data", (chunk: string) => (text += chunk));
  try {
    await tool.exited;
  } catch (error) {
    io.stderr.write(`voxpipe: error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  io.stdout.write(text.trim() === "" ? "no capture devices found\n" : text);
  return 0;
}

/**
 * Registers `voxpipe stress file <endpoint> --file audio.wav` and
 * `voxpipe stress microphone <endpoint>` on `program`.
 *
 * @param io where output goes and where the environment comes from (default: the process's).
 * @param done receives the exit code: 0 the run completed (errors it met are results, in the
 *   summary), 1 no connection ever reached Flux or the microphone list failed. Usage errors
 *   are thrown as `CliUsageError` (the program prints them and exits 2).
 */
export function registerStressCommand(
  program: Command,
  io: CliIO = processIO(),
  done: (code: number) => void = (code) => {
    process.exitCode = code;
  },
): Command {
  const stress = program
    .command("stress")
    .description(
      "Load-test a Flux endpoint: concurrent connections, live turn events, latency statistics",
    );

  const run = async (
    mode: "file" | "microphone",
    endpoint: string | undefined,
    flags: StressFlagValues,
  ): Promise<void> => {
    const options = resolveStressOptions(mode, endpoint, flags);
    const logger = setupLogging(options.logLevel);
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const report = await runStress(options, { io, logger, signal: abort.signal });
      io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      const reached = report.aggregate.connectMs.count > 0;
      if (!reached) {
        const causes = Object.keys(report.aggregate.errors).join(", ");
        io.stderr.write(
          `voxpipe: error: no connection reached Flux${causes === "" ? "" : ` (${causes})`}\n`,
        );
      }
      done(reached ? 0 : 1);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  };

  addCommonOptions(
    stress.command("file").description("Stream a WAV file on every connection at real-time pace"),
  )
    .requiredOption(
      "--file <path>",
      "WAV file to stream (any rate, channels, bit depth; sent as 16 kHz mono linear16)",
    )
    .option("--loop", "repeat the file until --duration or Ctrl-C")
    .option(
      "--stagger",
      "with --loop: connection i of N starts (i-1)/N of the way into the file, so turns do not all end at once (default: lockstep)",
    )
    .addHelpText(
      "after",
      `
Examples:
  voxpipe stress file local --file call.wav --connections 20 --loop --duration 60
  voxpipe stress file local --file call.wav --connections 10 --loop --stagger --duration 60
  voxpipe stress file wss://api.eu.deepgram.com/v2/listen --file call.wav --connections 50 --eager-eot-threshold 0.5
  voxpipe stress file sagemaker:my-flux-endpoint --region us-east-1 --file call.wav --connections 10`,
    )
    .action((endpoint: string | undefined, flags: StressFlagValues) =>
      run("file", endpoint, flags),
    );

  addCommonOptions(
    stress
      .command("microphone")
      .description("Stream the microphone to every connection (one capture, fanned out)"),
  )
    .addOption(
      new Option(
        "--sample-rate <hz>",
        "capture rate: 8000, 16000, 24000, 44100 or 48000",
      ).argParser(parseInteger("--sample-rate")),
    )
    .option("--device <name>", "capture device (ALSA name such as hw:1,0; see --list-devices)")
    .option("--list-devices", "list capture devices and exit")
    .action(
      async (endpoint: string | undefined, flags: StressFlagValues & { listDevices?: boolean }) => {
        if (flags.listDevices) {
          done(await listDevices(io));
          return;
        }
        const { listDevices: _l, ...rest } = flags;
        await run("microphone", endpoint, rest);
      },
    );

  stress
    .command("list-endpoints")
    .description("List the Amazon SageMaker endpoints of a region (to find a Flux endpoint's name)")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .option(
      "--status <status>",
      "only endpoints in this status: inservice, creating, updating, systemupdating, rollingback, outofservice, deleting, failed, updaterollbackfailed",
    )
    .addOption(
      new Option("--log-level <level>", "structured logs on stderr")
        .choices(LOG_LEVELS)
        .default("warn"),
    )
    .option("--json", "print the endpoints as JSON")
    .addHelpText(
      "after",
      `
Uses @aws-sdk/client-sagemaker ListEndpoints with the standard AWS credentials, region and
endpoint override (AWS_ENDPOINT_URL_SAGEMAKER).

Examples:
  voxpipe stress list-endpoints --region us-west-2 --status inservice`,
    )
    .action(async (flags: ListEndpointsFlags) => {
      done(await listEndpoints(flags, io));
    });

  return stress;
}
