import { Option } from "commander";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { FLUX_MODELS, validateSettings } from "@voxpipe/flux-protocol";
import type { FluxModel } from "@voxpipe/flux-protocol";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { LOG_LEVELS, setupLogging } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { CliUsageError, parseInteger } from "../options/flux.js";
import type { Dataset } from "./dataset.js";
import { runEval, settingLabel } from "./run.js";
import type { EvalResults } from "./run.js";
import type { EvalSetting } from "./session.js";
import { openTarget } from "./target.js";

/** The flags every command that streams files to a Flux target shares (eval, timeline, label). */
export interface RunFlags {
  target?: string;
  eotThreshold: number[];
  eagerEotThreshold?: number[];
  eotTimeoutMs?: number[];
  model: FluxModel;
  keyterm: string[];
  concurrency: number;
  fast: boolean;
  logLevel: LogLevel;
  localEngine: string;
}

/** A commander parser for a comma-separated list of numbers; the error names the flag and the item. */
export function parseNumberList(flag: string) {
  return (raw: string): number[] => {
    const items = raw.split(",").map((s) => s.trim());
    return items.map((item) => {
      const value = Number(item);
      if (item === "" || !Number.isFinite(value)) {
        throw new CliUsageError(
          `${flag} must be a comma-separated list of numbers (e.g. 0.5,0.7,0.9), got ${JSON.stringify(item)} in ${JSON.stringify(raw)}`,
        );
      }
      return value;
    });
  };
}

/**
 * Adds `--target`, the swept Flux settings (`--eot-threshold`, `--eager-eot-threshold`,
 * `--eot-timeout-ms` lists), `--model`, `--keyterm`, `--concurrency`, `--fast`,
 * `--log-level` (and the hidden `--local-engine`) to `command`.
 */
export function addRunOptions(command: Command, defaultEot: readonly number[]): Command {
  return command
    .option(
      "--target <target>",
      "Flux target: deepgram (needs DEEPGRAM_API_KEY), local (offline engine in this process), a ws(s)://…/v2/listen URL, or sagemaker:<endpoint-name> (AWS credentials and region from the environment) (default: deepgram with a key, else local)",
    )
    .addOption(
      new Option("--eot-threshold <list>", "eot_threshold values, comma-separated (0.5–1.0)")
        .argParser(parseNumberList("--eot-threshold"))
        .default(defaultEot, defaultEot.join(",")),
    )
    .addOption(
      new Option(
        "--eager-eot-threshold <list>",
        "eager_eot_threshold values (0.3–0.9, ≤ eot); turns on EagerEndOfTurn/TurnResumed",
      ).argParser(parseNumberList("--eager-eot-threshold")),
    )
    .addOption(
      new Option("--eot-timeout-ms <list>", "eot_timeout_ms values (500–60000)").argParser(
        parseNumberList("--eot-timeout-ms"),
      ),
    )
    .addOption(
      new Option("--model <name>", "Flux model").choices(FLUX_MODELS).default("flux-general-en"),
    )
    .addOption(
      new Option("--keyterm <term>", "boost a term (repeatable)")
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([]),
    )
    .addOption(
      new Option("--concurrency <n>", "sessions streamed at once")
        .argParser(parseInteger("--concurrency"))
        .default(2),
    )
    .option(
      "--fast",
      "send audio as fast as the target answers (local and ws:// targets only)",
      false,
    )
    .addOption(
      new Option(
        "--log-level <level>",
        "structured logs on stderr (failures are in the results either way)",
      )
        .choices(LOG_LEVELS)
        .default("silent"),
    )
    .addOption(
      new Option("--local-engine <name>", "engine of the local target").default("local").hideHelp(),
    );
}

/**
 * Every combination of the swept values, each validated with `@voxpipe/flux-protocol`'s
 * rules (the ranges Flux documents). A combination with `eager_eot_threshold` above
 * `eot_threshold` is skipped (Flux refuses it) and reported in `skipped`.
 * @throws {CliUsageError} naming the flag and the value out of range, or when every combination is skipped.
 */
export function sweepSettings(
  model: FluxModel,
  eot: readonly number[],
  eager: readonly number[] | undefined,
  timeout: readonly number[] | undefined,
): { settings: EvalSetting[]; skipped: string[] } {
  const problems = new Set<string>();
  const check = (field: string, flag: string, setting: Record<string, number>) => {
    for (const issue of validateSettings({ model, ...setting })) {
      if (issue.field === field) {
        problems.add(
          issue.message.startsWith(field)
            ? `${flag}${issue.message.slice(field.length)}`
            : `${flag}: ${issue.message}`,
        );
      }
    }
  };
  for (const v of eot) check("eot_threshold", "--eot-threshold", { eotThreshold: v });
  for (const v of eager ?? [])
    check("eager_eot_threshold", "--eager-eot-threshold", { eagerEotThreshold: v });
  for (const v of timeout ?? []) check("eot_timeout_ms", "--eot-timeout-ms", { eotTimeoutMs: v });
  if (problems.size > 0) throw new CliUsageError([...problems].join("\n"));
  const settings: EvalSetting[] = [];
  const skipped: string[] = [];
  for (const e of eot) {
    for (const g of eager ?? [undefined]) {
      for (const t of timeout ?? [undefined]) {
        const setting: EvalSetting = {
          eotThreshold: e,
          ...(g !== undefined && { eagerEotThreshold: g }),
          ...(t !== undefined && { eotTimeoutMs: t }),
        };
        if (g !== undefined && g > e) skipped.push(settingLabel(setting));
        else settings.push(setting);
      }
    }
  }
  if (settings.length === 0) {
    throw new CliUsageError(
      "every combination has --eager-eot-threshold above --eot-threshold (Flux requires eager ≤ eot)",
    );
  }
  return { settings, skipped };
}

/**
 * The validated settings of the flags (skipped combinations are said on stderr).
 * @throws {CliUsageError} for a value out of range or a bad `--concurrency`.
 */
export function settingsOf(flags: RunFlags, io: CliIO): EvalSetting[] {
  if (!Number.isInteger(flags.concurrency) || flags.concurrency < 1) {
    throw new CliUsageError(
      `--concurrency=${flags.concurrency} is out of range: allowed an integer ≥ 1`,
    );
  }
  const { settings, skipped } = sweepSettings(
    flags.model,
    flags.eotThreshold,
    flags.eagerEotThreshold,
    flags.eotTimeoutMs,
  );
  for (const s of skipped) note(io, `skipped ${s}: eager_eot_threshold must be ≤ eot_threshold`);
  return settings;
}

/**
 * Opens the target of the flags, runs every file at every setting with a progress bar (with
 * ETA, on a terminal), and releases the target. Ctrl-C ends the run early: finished sessions
 * keep their figures, the rest are marked as not run.
 * @throws {CliUsageError} for a target that cannot be used (see `openTarget`) or `--fast` on
 *   a target measured at real-time pace.
 */
export async function runWithTarget(
  dataset: Dataset,
  settings: readonly EvalSetting[],
  flags: RunFlags,
  io: CliIO,
): Promise<EvalResults> {
  const logger = setupLogging(flags.logLevel);
  const target = await openTarget(flags.target, {
    env: io.env,
    localEngine: flags.localEngine,
    logger,
    notify: (text) => note(io, text),
  });
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (flags.fast && !target.allowsFast) {
      throw new CliUsageError(
        `--fast is only for servers you run (local, ws://…); ${target.shown} is measured at real-time pace, as a live call streams`,
      );
    }
    const audioSeconds = dataset.files.reduce((t, f) => t + f.duration, 0);
    const sessions = dataset.files.length * settings.length;
    const total = audioSeconds * settings.length;
    note(
      io,
      `${dataset.files.length} files × ${settings.length} settings = ${sessions} sessions, ${total.toFixed(1)} s of audio, ${flags.concurrency} at a time${flags.fast ? ", fast" : ` (≈ ${formatDuration(total / flags.concurrency)} at real-time pace)`}`,
    );
    // cli-progress draws the bar and its ETA on a terminal; elsewhere only the summary lines.
    const bar =
      io.stderr.isTTY === true
        ? new cliProgress.SingleBar(
            {
              stream: io.stderr as NodeJS.WritableStream,
              format:
                "eval |{bar}| {percentage}% · {sessions}/{totalSessions} sessions · ETA {eta_formatted}",
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    bar?.start(Math.max(1, Math.round(total)), 0, { sessions: 0, totalSessions: sessions });
    try {
      return await runEval({
        dataset,
        settings,
        target,
        model: flags.model,
        keyterms: flags.keyterm,
        fast: flags.fast,
        concurrency: flags.concurrency,
        logger,
        signal: abort.signal,
        onProgress: (seconds, finished) => bar?.update(Math.round(seconds), { sessions: finished }),
      });
    } finally {
      bar?.stop();
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await target.close();
  }
}

/** Says on stderr how many sessions failed (with the first error) and returns the exit code: 0 none, 1 some. */
export function reportFailures(results: EvalResults, io: CliIO): number {
  const failed = results.files.flatMap((f) => f.runs.filter((r) => r.error !== undefined));
  if (failed.length === 0) return 0;
  const sessions = results.files.length * results.settings.length;
  io.stderr.write(
    `voxpipe: error: ${failed.length} of ${sessions} sessions failed (first: ${failed[0].error}); their files are not in the figures\n`,
  );
  return 1;
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}
