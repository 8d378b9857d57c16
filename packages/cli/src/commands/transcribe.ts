import { Option } from "commander";
import type { Command } from "commander";
import { Pipeline, PipelineTask } from "@voxpipe/core";
import type { Logger } from "@voxpipe/core";
import {
  DeepgramFluxSTTService,
  FLUX_TARGETS,
  resolveFluxEndpoint,
  type FluxEndpoint,
  type FluxTarget,
} from "@voxpipe/deepgram";
import { runFluxTask, watchTurnEvents } from "../flux-events.js";
import { createInput } from "../inputs.js";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { LOG_LEVELS, setupLogging } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { addFluxOptions, CliUsageError, parseInteger, resolveFluxFlags } from "../options/flux.js";
import { importSageMaker } from "../sagemaker.js";
import type { FluxCliSettings, FluxFlagValues } from "../options/flux.js";
import { toJsonLine } from "../view/json-view.js";
import { TerminalTurnView } from "../view/terminal-view.js";
import type { TranscriptViewEvent } from "../view/turn-event.js";

/** Flags `voxpipe transcribe` and `voxpipe agent` share: Flux settings, input, output mode, logs. */
export interface FluxRunFlags extends FluxFlagValues {
  json: boolean;
  fast: boolean;
  rawSampleRate: number;
  rawChannels: number;
  micDevice?: string;
  logLevel: LogLevel;
  localEngine: string;
}

/** Flags of `voxpipe transcribe`. */
type TranscribeFlags = FluxRunFlags;

/**
 * The Flux service for the CLI's flags (16 kHz linear16 — Flux's recommended input — unless
 * `audio` says otherwise: a phone call's 8 kHz μ-law goes to Flux as is).
 * `--fast` input needs no setting of its own: the client streams silence only once Flux
 * has answered the audio sent, and waits on close for a Flux still answering a backlog.
 */
export function sttFor(
  flux: FluxCliSettings,
  endpoint: FluxEndpoint,
  audio: { encoding: "linear16" | "mulaw" | "alaw"; sampleRate: number } = {
    encoding: "linear16",
    sampleRate: 16000,
  },
  options: { audioPassthrough?: boolean } = {},
): DeepgramFluxSTTService {
  return new DeepgramFluxSTTService({
    ...(options.audioPassthrough !== undefined && { audioPassthrough: options.audioPassthrough }),
    ...(endpoint.url !== undefined && { url: endpoint.url }),
    ...(endpoint.apiKey !== undefined && { apiKey: endpoint.apiKey }),
    ...(endpoint.carrier !== undefined && { carrier: endpoint.carrier }),
    settings: {
      model: flux.model,
      encoding: audio.encoding,
      sampleRate: audio.sampleRate,
      ...(flux.eotThreshold !== undefined && { eotThreshold: flux.eotThreshold }),
      ...(flux.eagerEotThreshold !== undefined && { eagerEotThreshold: flux.eagerEotThreshold }),
      ...(flux.eotTimeoutMs !== undefined && { eotTimeoutMs: flux.eotTimeoutMs }),
      ...(flux.keyterms.length > 0 && { keyterm: flux.keyterms }),
      ...(flux.languageHints.length > 0 && { languageHints: flux.languageHints }),
      ...(flux.minConfidence !== undefined && { minConfidence: flux.minConfidence }),
    },
  });
}

/**
 * What `transcribe` and `agent` both set up first: logging, the validated Flux flags, the
 * input transport for `<file|url|-|mic>` (fast input is paced by the Flux STT's own
 * backpressure through the pipeline: no flow control to wire here).
 * @throws {CliUsageError} for a bad Flux flag or an input that does not exist.
 */
export function prepareInput(inputSpec: string, flags: FluxRunFlags, io: CliIO) {
  const logger = setupLogging(flags.logLevel);
  if (inputSpec === "-" && io.stdinIsTTY === true) {
    note(
      io,
      `waiting for raw PCM s16le on stdin (${flags.rawSampleRate} Hz, ${flags.rawChannels} channel${flags.rawChannels === 1 ? "" : "s"}); pipe audio in, e.g. arecord -f S16_LE -r 16000 -c 1 -t raw | voxpipe transcribe -`,
    );
  }
  const flux = resolveFluxFlags(flags);
  let input: ReturnType<typeof createInput>;
  try {
    input = createInput(inputSpec, {
      fast: flags.fast,
      rawSampleRate: flags.rawSampleRate,
      rawChannels: flags.rawChannels,
      micDevice: flags.micDevice,
    });
  } catch (error) {
    // The transports name their options; the user typed flags.
    if (!(error instanceof RangeError)) throw error;
    throw new CliUsageError(
      error.message
        .replace(/^inputChannels\b/, "--raw-channels")
        .replace(/^inputSampleRate\b/, "--raw-sample-rate"),
    );
  }
  return { logger, flux, input };
}

/**
 * What `transcribe` and `agent` both start with: the Flux endpoint for the flags (an
 * embedded local server when there is neither `--url` nor `DEEPGRAM_API_KEY`, announced on
 * stderr) and the terminal turn view on stdout. The caller closes both.
 */
export async function openTurnView(
  flux: FluxCliSettings,
  localEngine: string,
  io: CliIO,
  logger: Logger,
): Promise<{ endpoint: FluxEndpoint; terminal: TerminalTurnView }> {
  const endpoint = await resolveFluxEndpoint({
    url: flux.url,
    engine: localEngine,
    env: io.env,
    notify: (text) => note(io, text),
    logger,
    targets: await fluxTargets(flux),
  });
  const terminal = new TerminalTurnView({
    write: (t) => io.stdout.write(t),
    writeErr: (t) => io.stderr.write(t),
    interactive: io.stdout.isTTY === true,
    columns: () => io.stdout.columns,
  });
  return { endpoint, terminal };
}

/**
 * The Flux targets for the flags: `sagemaker:<endpoint-name>` first when asked for (its
 * package, with the AWS SDK, is loaded only then), then the defaults.
 */
async function fluxTargets(flux: FluxCliSettings): Promise<readonly FluxTarget[]> {
  if (!flux.url?.startsWith("sagemaker:")) return FLUX_TARGETS;
  const { sagemakerTarget } = await importSageMaker(`--url ${flux.url}`);
  return [
    sagemakerTarget(flux.region !== undefined ? { region: flux.region } : {}),
    ...FLUX_TARGETS,
  ];
}

/** Adds the input-related flags shared by `transcribe` and `agent`. */
export function addInputOptions(command: Command): Command {
  return command
    .option(
      "--fast",
      "send file input as fast as the STT accepts it instead of in real time",
      false,
    )
    .addOption(
      new Option("--raw-sample-rate <hz>", "sample rate of raw PCM s16le on stdin (input -)")
        .argParser(parseInteger("--raw-sample-rate"))
        .default(16000),
    )
    .addOption(
      new Option("--raw-channels <n>", "channels of raw PCM on stdin (input -)")
        .argParser(parseInteger("--raw-channels"))
        .default(1),
    )
    .option("--mic-device <name>", "capture device for input mic (ALSA name, e.g. hw:1,0)")
    .addOption(
      new Option(
        "--log-level <level>",
        "structured logs (pino JSON, with stacks) on stderr; by default none: the view shows errors and reconnects",
      )
        .choices(LOG_LEVELS)
        .default("silent"),
    )
    .addOption(
      new Option("--local-engine <name>", "engine of the embedded local Flux server")
        .default("local")
        .hideHelp(),
    );
}

/**
 * `voxpipe transcribe <file|url|->`: input transport → Flux, with a live view of the turns.
 * Reports the exit code through `done` (0 ok, 1 the run failed); usage errors are thrown.
 */
export function registerTranscribeCommand(
  program: Command,
  io: CliIO,
  done: (code: number) => void,
): void {
  const command = program
    .command("transcribe")
    .description(
      "Transcribe speech turn by turn with Flux: a WAV or any file/URL ffmpeg reads, raw PCM on stdin (-), or the microphone (mic)",
    )
    .argument("<input>", 'file, URL, "-" for raw PCM s16le on stdin, or "mic"')
    .option(
      "--json",
      "print one JSON object per line per turn event, error and reconnect (Flux field names)",
      false,
    )
    .addHelpText(
      "after",
      `
View: "…" interim transcript (interactive terminals), "~" eager end of turn, "… resumed",
"✓" final transcript with words coloured by confidence (≥0.90 green, ≥0.80 yellow,
≥0.70 orange, else red). Without DEEPGRAM_API_KEY (and without --url) an embedded local
Flux server runs in this process.

Examples:
  voxpipe transcribe call.wav
  voxpipe transcribe https://example.com/live.mp3 --eager-eot-threshold 0.5
  arecord -f S16_LE -r 16000 -c 1 -t raw | voxpipe transcribe - --json`,
    );
  addFluxOptions(command);
  addInputOptions(command);
  command.action(async (input: string, flags: TranscribeFlags) => {
    done(await transcribe(input, flags, io));
  });
}

async function transcribe(inputSpec: string, flags: TranscribeFlags, io: CliIO): Promise<number> {
  const { logger, flux, input } = prepareInput(inputSpec, flags, io);
  const { endpoint, terminal } = await openTurnView(flux, flags.localEngine, io, logger);
  const show = flags.json
    ? (event: TranscriptViewEvent) => io.stdout.write(`${toJsonLine(event)}\n`)
    : (event: TranscriptViewEvent) => terminal.handle(event);
  try {
    const stt = sttFor(flux, endpoint);
    const task = new PipelineTask(new Pipeline([input.transport, stt]), {
      audioInSampleRate: 16000,
      idleTimeoutMs: null,
    });
    let turns = 0;
    stt.on("endOfTurn", () => turns++);
    watchTurnEvents(stt, task, show);
    const { result, code } = await runFluxTask(task, stt, io);
    terminal.close();
    if (result.reason !== "error") {
      note(
        io,
        `${turns} turn${turns === 1 ? "" : "s"} from ${input.label}${result.reason === "end" ? "" : ` (run ended: ${result.reason})`}`,
      );
    }
    return code;
  } finally {
    terminal.close();
    await endpoint.close();
  }
}
