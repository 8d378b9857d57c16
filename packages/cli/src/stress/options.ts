import { FLUX_LISTEN_PATH, validateSettings } from "@voxpipe/flux-protocol";
import type { FluxModel, FluxSettingsIssue } from "@voxpipe/flux-protocol";
import { LOG_LEVELS } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { CliUsageError } from "../options/flux.js";

/** Deepgram's Flux endpoint, used when `<endpoint>` is omitted or `deepgram`. */
export const DEEPGRAM_FLUX_URL = "wss://api.deepgram.com/v2/listen";

/** Most connections one run may open (a guard against a mistyped `--connections 50000`). */
export const MAX_CONNECTIONS = 5000;

/** Where the connections go. */
export type StressEndpoint =
  /** Deepgram's cloud endpoint (needs `DEEPGRAM_API_KEY`). */
  | { kind: "deepgram"; url: string }
  /** Any other Flux endpoint: self-hosted, regional, a local server started elsewhere. */
  | { kind: "url"; url: string }
  /** A local Flux server started in this process. */
  | { kind: "local" }
  /**
   * Flux on Amazon SageMaker (`sagemaker:<endpoint-name>`), through SageMaker's bidirectional
   * streams; AWS credentials, region and endpoint override from the standard AWS settings.
   */
  | { kind: "sagemaker"; endpointName: string; region?: string };

/** The flags of `stress file` and `stress microphone` as commander parsed them. */
export interface StressFlagValues {
  connections?: number;
  model?: string;
  eotThreshold?: number;
  eagerEotThreshold?: number;
  eotTimeoutMs?: number;
  /** Comma-separated. */
  keyterms?: string;
  loop?: boolean;
  /** `file` mode with `--loop`: connections start at evenly spread points of the file. */
  stagger?: boolean;
  duration?: number;
  /** Seconds between `Configure` messages on each connection. */
  configureEvery?: number;
  logLevel?: string;
  json?: boolean;
  /** `file` mode. */
  file?: string;
  /** `microphone` mode, Hz. */
  sampleRate?: number;
  /** `microphone` mode. */
  device?: string;
  /** AWS region of a `sagemaker:` endpoint. */
  region?: string;
}

/** Flux settings of every connection (TS names; wire names in `@voxpipe/flux-protocol`). */
export interface StressFluxSettings {
  model: FluxModel;
  eotThreshold?: number;
  eagerEotThreshold?: number;
  eotTimeoutMs?: number;
  keyterms: string[];
}

/** A validated `voxpipe stress` run. */
export interface StressOptions {
  endpoint: StressEndpoint;
  /** Concurrent connections, 1–{@link MAX_CONNECTIONS}. */
  connections: number;
  flux: StressFluxSettings;
  source:
    | {
        kind: "file";
        path: string;
        loop: boolean;
        /**
         * Connection i of N starts its copy of the looped file (i − 1)/N of the way in, so
         * turns end at different moments, as in independent calls; otherwise every
         * connection plays the file in lockstep (the worst case: every turn ends at once).
         */
        stagger: boolean;
      }
    | { kind: "microphone"; sampleRate: number; device?: string };
  /** Stop after this many seconds; unset = when the file ends (file mode) or on Ctrl-C. */
  durationSeconds?: number;
  /**
   * Every this many seconds each connection sends a `Configure` nudging `eot_threshold` by
   * ±0.01 around its value (alternating), to measure Configure round trips under load.
   */
  configureEverySeconds?: number;
  logLevel: LogLevel;
  /** Print the summary as JSON on stdout (live output goes to stderr). */
  json: boolean;
}

/** Default microphone capture rate: Flux's recommended 16 kHz (protocol reference §1.4). */
export const DEFAULT_MICROPHONE_SAMPLE_RATE = 16000;

/**
 * Resolves `<endpoint>`: omitted or `deepgram` → Deepgram; `local` → an in-process local server;
 * `sagemaker:<endpoint-name>` → Flux on Amazon SageMaker; otherwise a `ws://` or `wss://` URL whose path ends in `/v2/listen`, without a query string
 * (settings come from the flags; a query could also carry secrets, so it is never echoed).
 * @throws {CliUsageError} for anything else.
 */
export function resolveEndpoint(raw: string | undefined): StressEndpoint {
  if (raw === undefined || raw === "deepgram") return { kind: "deepgram", url: DEEPGRAM_FLUX_URL };
  if (raw === "local") return { kind: "local" };
  // The name is checked against AWS's pattern when the run opens the endpoint.
  if (raw.startsWith("sagemaker:")) return { kind: "sagemaker", endpointName: raw.slice(10) };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliUsageError(
      `<endpoint> must be "deepgram", "local", sagemaker:<endpoint-name> or a ws:// or wss:// URL ending in ${FLUX_LISTEN_PATH}`,
    );
  }
  const where = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new CliUsageError(
      `<endpoint> ${where} has protocol ${url.protocol.replace(/:$/, "")}: allowed ws or wss`,
    );
  }
  if (!url.pathname.replace(/\/+$/, "").endsWith(FLUX_LISTEN_PATH)) {
    throw new CliUsageError(
      `<endpoint> ${where} must end in ${FLUX_LISTEN_PATH} (the Flux endpoint)`,
    );
  }
  if (url.search !== "" || url.username !== "" || url.password !== "") {
    throw new CliUsageError(
      `<endpoint> ${where} must not carry a query string or credentials: settings come from the flags, the key from DEEPGRAM_API_KEY`,
    );
  }
  return { kind: "url", url: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}` };
}

/** Splits `--keyterms a,b,c`: trims each term, drops empty ones. */
export function parseKeyterms(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/**
 * Validates the flags of a run. Flux settings go through `@voxpipe/flux-protocol`'s
 * `validateSettings` (the same rules the STT service and the local server apply), so ranges are
 * defined once; the rest (connections, duration, log level) is checked here.
 * @throws {CliUsageError} listing every refused value with the flag, the value and what is allowed.
 */
export function resolveStressOptions(
  mode: "file" | "microphone",
  endpointArg: string | undefined,
  values: StressFlagValues,
): StressOptions {
  const problems: string[] = [];
  let endpoint: StressEndpoint = { kind: "local" };
  try {
    endpoint = resolveEndpoint(endpointArg);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (values.region !== undefined) {
    if (endpoint.kind === "sagemaker") endpoint = { ...endpoint, region: values.region };
    else problems.push("--region applies to sagemaker:<endpoint-name> endpoints only");
  }

  const connections = values.connections ?? 1;
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_CONNECTIONS) {
    problems.push(
      `--connections=${connections} is out of range: allowed an integer 1–${MAX_CONNECTIONS}`,
    );
  }
  if (values.duration !== undefined && !(values.duration > 0 && Number.isFinite(values.duration))) {
    problems.push(`--duration=${values.duration} is out of range: allowed a number of seconds > 0`);
  }
  if (
    values.configureEvery !== undefined &&
    !(values.configureEvery >= 0.1 && Number.isFinite(values.configureEvery))
  ) {
    problems.push(
      `--configure-every=${values.configureEvery} is out of range: allowed a number of seconds ≥ 0.1`,
    );
  }
  const logLevel = (values.logLevel ?? "warn") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(
      `--log-level=${String(values.logLevel)} is not allowed: allowed ${LOG_LEVELS.join(", ")}`,
    );
  }

  const flux: StressFluxSettings = {
    model: (values.model ?? "flux-general-en") as FluxModel,
    keyterms: parseKeyterms(values.keyterms),
    ...(values.eotThreshold !== undefined && { eotThreshold: values.eotThreshold }),
    ...(values.eagerEotThreshold !== undefined && { eagerEotThreshold: values.eagerEotThreshold }),
    ...(values.eotTimeoutMs !== undefined && { eotTimeoutMs: values.eotTimeoutMs }),
  };
  const sampleRate = values.sampleRate ?? DEFAULT_MICROPHONE_SAMPLE_RATE;
  const issues = validateSettings({
    ...flux,
    // Microphone audio is raw linear16 at the capture rate, so the rate must be one Flux accepts.
    ...(mode === "microphone" && { encoding: "linear16" as const, sampleRate }),
  });
  problems.push(...issues.map(toFlagMessage));
  // Narrower than the protocol's 0.5–1.0 (flux-protocol settings): 1.0 turns model-based end of
  // turn off, so a load test would time nothing but eot_timeout_ms. 0.5–0.9 is the range
  // Deepgram's own Flux load-testing tool offers (issue #7).
  if (
    flux.eotThreshold !== undefined &&
    flux.eotThreshold > STRESS_MAX_EOT_THRESHOLD &&
    !issues.some((i) => i.field === "eot_threshold")
  ) {
    problems.push(
      `--eot-threshold=${flux.eotThreshold} is out of range for a load test: allowed a number from 0.5 to ${STRESS_MAX_EOT_THRESHOLD} (1.0 disables model-based end of turn)`,
    );
  }

  let source: StressOptions["source"];
  if (mode === "file") {
    if (values.file === undefined || values.file === "")
      problems.push("--file <path> is required: the WAV file to stream");
    source = {
      kind: "file",
      path: values.file ?? "",
      loop: values.loop ?? false,
      stagger: values.stagger ?? false,
    };
    if (values.stagger && !values.loop) {
      problems.push(
        "--stagger needs --loop: a connection that starts partway into the file plays the rest of it and then from the beginning",
      );
    }
    if (values.sampleRate !== undefined || values.device !== undefined) {
      problems.push("--sample-rate and --device apply to `stress microphone` only");
    }
  } else {
    source = {
      kind: "microphone",
      sampleRate,
      ...(values.device !== undefined && { device: values.device }),
    };
    if (values.file !== undefined) problems.push("--file applies to `stress file` only");
  }

  if (problems.length > 0) throw new CliUsageError(problems.join("\n"));
  return {
    endpoint,
    connections,
    flux,
    source,
    ...(values.duration !== undefined && { durationSeconds: values.duration }),
    ...(values.configureEvery !== undefined && { configureEverySeconds: values.configureEvery }),
    logLevel,
    json: values.json ?? false,
  };
}

/** Highest `--eot-threshold` a stress run accepts. */
export const STRESS_MAX_EOT_THRESHOLD = 0.9;

/** Flag names of the wire fields, where they differ from `--field-name`. */
const FLAG_OF_FIELD: Record<string, string> = {
  keyterm: "--keyterms",
  sample_rate: "--sample-rate",
};

/** Rewrites a protocol issue (`eot_threshold=0.95 …`) in terms of the flag (`--eot-threshold=0.95 …`). */
function toFlagMessage(issue: FluxSettingsIssue): string {
  const field = issue.field.split("[")[0];
  const flag = FLAG_OF_FIELD[field] ?? `--${field.replace(/_/g, "-")}`;
  return issue.message.startsWith(issue.field)
    ? `${flag}${issue.message.slice(issue.field.length)}`
    : `${flag}: ${issue.message}`;
}
