import { InvalidArgumentError, Option } from "commander";
import type { Command } from "commander";
import { FLUX_MODELS, validateSettings } from "@voxpipe/flux-protocol";
import type { FluxModel, FluxSettingsIssue } from "@voxpipe/flux-protocol";

/** The Flux flags as commander parses them (before validation). */
export interface FluxFlagValues {
  model: FluxModel;
  eotThreshold?: number;
  eagerEotThreshold?: number;
  eotTimeoutMs?: number;
  keyterm: string[];
  languageHint: string[];
  minConfidence?: number;
  url?: string;
  region?: string;
}

/** Flux settings chosen on the command line, validated. */
export interface FluxCliSettings {
  model: FluxModel;
  eotThreshold?: number;
  eagerEotThreshold?: number;
  eotTimeoutMs?: number;
  keyterms: string[];
  languageHints: string[];
  /** Client-side filter: end-of-turn transcripts whose mean word confidence is lower are dropped (0–1). */
  minConfidence?: number;
  /**
   * Flux endpoint (`wss://…`, `ws://…`, or `sagemaker:<endpoint-name>` for Flux on Amazon
   * SageMaker); unset = Deepgram with a key, else the embedded local server.
   */
  url?: string;
  /** AWS region for a `sagemaker:` endpoint (default: AWS_REGION / the profile). */
  region?: string;
}

/** Thrown when a flag value is refused. The message names the flag, the value and what is allowed. */
export class CliUsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliUsageError";
  }
}

/** A commander parser for a number flag; the error names the flag and the value. */
export function parseNumber(flag: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`${flag} must be a number, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

/** A commander parser for an integer flag; the error names the flag and the value. */
export function parseInteger(flag: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(value)) {
      throw new InvalidArgumentError(`${flag} must be an integer, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Adds every Flux setting as a flag to `command` (names follow the query parameters of
 * `/v2/listen`, protocol reference §1.3), plus `--min-confidence` (client-side) and `--url`.
 * Ranges are checked by {@link resolveFluxFlags} through `@voxpipe/flux-protocol`'s validation,
 * the same rules the service and the local server apply.
 */
export function addFluxOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--model <name>", "Flux model").choices(FLUX_MODELS).default("flux-general-en"),
    )
    .addOption(
      new Option(
        "--eot-threshold <n>",
        "end-of-turn confidence threshold, 0.5–1.0 (Flux default 0.7)",
      ).argParser(parseNumber("--eot-threshold")),
    )
    .addOption(
      new Option(
        "--eager-eot-threshold <n>",
        "eager end-of-turn threshold, 0.3–0.9 and ≤ --eot-threshold; turns on ~ eager events",
      ).argParser(parseNumber("--eager-eot-threshold")),
    )
    .addOption(
      new Option(
        "--eot-timeout-ms <ms>",
        "force end of turn after this much silence, 500–60000 ms (Flux default 5000)",
      ).argParser(parseNumber("--eot-timeout-ms")),
    )
    .addOption(
      new Option("--keyterm <term>", "boost a term (repeatable, ≤100 terms)")
        .argParser(collect)
        .default([]),
    )
    .addOption(
      new Option(
        "--language-hint <code>",
        "expected language, flux-general-multi only (repeatable: en es fr de hi ru pt ja it nl)",
      )
        .argParser(collect)
        .default([]),
    )
    .addOption(
      new Option(
        "--min-confidence <n>",
        "drop final transcripts whose mean word confidence is not above this, 0–1",
      ).argParser(parseNumber("--min-confidence")),
    )
    .addOption(
      new Option(
        "--url <url>",
        "Flux endpoint, e.g. wss://api.deepgram.com, ws://127.0.0.1:8080 or sagemaker:<endpoint-name> (default: Deepgram with DEEPGRAM_API_KEY, else an embedded local server)",
      ),
    )
    .addOption(
      new Option(
        "--region <region>",
        "AWS region of a sagemaker:<endpoint-name> URL (default: AWS_REGION or the profile's)",
      ),
    );
}

/**
 * Validates the parsed flags. Issues are reported with the flag names the user typed.
 * @throws {CliUsageError} listing every refused value.
 */
export function resolveFluxFlags(values: FluxFlagValues): FluxCliSettings {
  const settings: FluxCliSettings = {
    model: values.model,
    keyterms: values.keyterm,
    languageHints: values.languageHint,
    ...(values.eotThreshold !== undefined && { eotThreshold: values.eotThreshold }),
    ...(values.eagerEotThreshold !== undefined && { eagerEotThreshold: values.eagerEotThreshold }),
    ...(values.eotTimeoutMs !== undefined && { eotTimeoutMs: values.eotTimeoutMs }),
    ...(values.minConfidence !== undefined && { minConfidence: values.minConfidence }),
    ...(values.url !== undefined && { url: values.url }),
    ...(values.region !== undefined && { region: values.region }),
  };
  const problems = validateSettings({
    model: settings.model,
    eotThreshold: settings.eotThreshold,
    eagerEotThreshold: settings.eagerEotThreshold,
    eotTimeoutMs: settings.eotTimeoutMs,
    keyterms: settings.keyterms,
    languageHints: settings.languageHints,
  }).map(toFlagMessage);
  if (
    settings.eotThreshold === undefined &&
    settings.eagerEotThreshold !== undefined &&
    problems.some((p) => p.startsWith("--eager-eot-threshold") && p.includes("--eot-threshold"))
  ) {
    problems.push(
      `--eager-eot-threshold=${settings.eagerEotThreshold} is above the default end-of-turn threshold: set --eot-threshold to at least ${settings.eagerEotThreshold}`,
    );
  }
  if (
    settings.minConfidence !== undefined &&
    (settings.minConfidence < 0 || settings.minConfidence > 1)
  ) {
    problems.push(
      `--min-confidence=${settings.minConfidence} is out of range: allowed a number 0–1`,
    );
  }
  if (settings.url !== undefined) {
    let protocol = "";
    try {
      protocol = new URL(settings.url).protocol;
    } catch {
      protocol = "";
    }
    if (!["ws:", "wss:", "http:", "https:", "sagemaker:"].includes(protocol)) {
      problems.push(
        `--url must be a ws://, wss://, http:// or https:// URL, or sagemaker:<endpoint-name>`,
      );
    } else if (new URL(settings.url).search !== "") {
      problems.push(
        "--url must not carry a query string: give Flux settings as flags (--model, --eot-threshold, --keyterm, …)",
      );
    }
  }
  if (settings.region !== undefined && !settings.url?.startsWith("sagemaker:")) {
    problems.push(`--region applies only to --url sagemaker:<endpoint-name>`);
  }
  if (problems.length) throw new CliUsageError(problems.join("\n"));
  return settings;
}

/** The flag the user types for a Flux query field (`eot_threshold` → `--eot-threshold`). */
const flagOf = (field: string): string => `--${field.replace(/_/g, "-")}`;

/**
 * Rewrites a protocol issue (`eot_threshold=…`) in terms of the flags the user typed
 * (`--eot-threshold=…`), including fields the message mentions (`<= eot_threshold`).
 */
function toFlagMessage(issue: FluxSettingsIssue): string {
  const flag = flagOf(issue.field);
  const text = issue.message.startsWith(issue.field)
    ? `${flag}${issue.message.slice(issue.field.length)}`
    : `${flag}: ${issue.message}`;
  return text.replace(/(?<![-\w])(eager_eot_threshold|eot_threshold|eot_timeout_ms)\b/g, flagOf);
}
