import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
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
import { DatasetError, loadDataset } from "./dataset.js";
import { resultsToJson, runEval, settingLabel } from "./run.js";
import type { EvalResults } from "./run.js";
import type { EvalSetting } from "./session.js";
import { openTarget } from "./target.js";
import { formatResults } from "./text-report.js";
import { renderCharts, renderHtml } from "./report/html.js";
import { svgToPng } from "./report/png.js";

/** The sweep of `eot_threshold` when `--eot-threshold` is not given (Flux's 0.5–0.9 range in 0.1 steps). */
export const DEFAULT_EOT_SWEEP = [0.5, 0.6, 0.7, 0.8, 0.9];

/** The flags of `voxpipe eval <dataset>` as commander parses them. */
export interface EvalFlags {
  target?: string;
  eotThreshold: number[];
  eagerEotThreshold?: number[];
  eotTimeoutMs?: number[];
  model: FluxModel;
  keyterm: string[];
  concurrency: number;
  fast: boolean;
  out?: string;
  png: boolean;
  json: boolean;
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
 * Writes the run into `dir` (created if needed): `results.json`, the self-contained
 * `report.html`, and with `png` the charts as PNG (`png/latency.png`, `png/tradeoff.png`,
 * `png/timeline-<file>.png`). Returns the paths written.
 */
export async function writeOutputs(
  results: EvalResults,
  dir: string,
  png = false,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, "results.json");
  await writeFile(json, `${resultsToJson(results)}\n`);
  const charts = await renderCharts(results);
  const html = join(dir, "report.html");
  await writeFile(html, renderHtml(results, charts));
  const written = [json, html];
  if (png) {
    const pngDir = join(dir, "png");
    await mkdir(pngDir, { recursive: true });
    const images: Array<[string, string]> = [
      ["latency.png", charts.latency],
      ["tradeoff.png", charts.tradeoff],
      ...charts.timelines.map((t): [string, string] => [`timeline-${t.name}.png`, t.svg]),
    ];
    for (const [name, svg] of images) {
      const path = join(pngDir, name);
      await writeFile(path, svgToPng(svg));
      written.push(path);
    }
  }
  return written;
}

/**
 * Registers `voxpipe eval <dataset>` on `program`. Reports the exit code through `done`:
 * 0 every session ran, 1 some session failed (the figures of the others are still printed
 * and written). A bad dataset or flag is thrown as `CliUsageError` (exit 2).
 */
export function registerEvalCommand(
  program: Command,
  io: CliIO,
  done: (code: number) => void,
): Command {
  const command = program
    .command("eval")
    .description(
      "Measure turn-taking on your own labelled audio, Flux's way: EOT latency percentiles (false ends of turn = ∞), precision/recall, WER, eager figures — per threshold",
    )
    .argument(
      "<dataset>",
      'folder of name.wav + name.json sidecars ({"turns": [{"start", "end", "transcript"}]}, seconds)',
    )
    .option(
      "--target <target>",
      "Flux target: deepgram (needs DEEPGRAM_API_KEY), local (offline engine in this process), a ws(s)://…/v2/listen URL, or sagemaker:<endpoint-name> (AWS credentials and region from the environment) (default: deepgram with a key, else local)",
    )
    .addOption(
      new Option(
        "--eot-threshold <list>",
        "eot_threshold values to sweep, comma-separated (0.5–1.0)",
      )
        .argParser(parseNumberList("--eot-threshold"))
        .default(DEFAULT_EOT_SWEEP, DEFAULT_EOT_SWEEP.join(",")),
    )
    .addOption(
      new Option(
        "--eager-eot-threshold <list>",
        "eager_eot_threshold values to sweep (0.3–0.9, ≤ eot); turns on EagerEndOfTurn/TurnResumed",
      ).argParser(parseNumberList("--eager-eot-threshold")),
    )
    .addOption(
      new Option("--eot-timeout-ms <list>", "eot_timeout_ms values to sweep (500–60000)").argParser(
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
    .option(
      "--out <dir>",
      "write report.html (charts, every figure, a turn timeline per file) and results.json (every event) into this folder",
    )
    .option(
      "--png",
      "with --out: also write the charts as PNG (png/*.png) for READMEs and issues",
      false,
    )
    .option("--json", "print the figures as JSON on stdout (no events, no waveforms)", false)
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
    )
    .addHelpText(
      "after",
      `
Latency is audio time from the end of a turn's last word to the EndOfTurn that ends it; a
turn cut by an EndOfTurn inside it, or never ended, counts as infinite latency, so a
percentile can be ∞ (Deepgram's method for Flux). Audio goes out as 16 kHz mono linear16
in 80 ms chunks, at real-time pace unless --fast.

Examples:
  voxpipe eval calls/ --target local --eot-threshold 0.5,0.7,0.9 --concurrency 4 --out report/
  voxpipe eval calls/ --target deepgram --eager-eot-threshold 0.4,0.5 --json > figures.json`,
    );
  command.action(async (datasetDir: string, flags: EvalFlags) => {
    done(await evaluate(datasetDir, flags, io));
  });
  return command;
}

async function evaluate(datasetDir: string, flags: EvalFlags, io: CliIO): Promise<number> {
  if (flags.png && flags.out === undefined) throw new CliUsageError("--png needs --out <dir>");
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
  let dataset;
  try {
    dataset = await loadDataset(datasetDir);
  } catch (error) {
    if (error instanceof DatasetError) throw new CliUsageError(error.message);
    throw error;
  }
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
    for (const s of skipped) note(io, `skipped ${s}: eager_eot_threshold must be ≤ eot_threshold`);
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
    let results: EvalResults;
    try {
      results = await runEval({
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
    io.stdout.write(flags.json ? `${resultsToJson(results, true)}\n` : formatResults(results));
    if (flags.out !== undefined) {
      const written = await writeOutputs(results, flags.out, flags.png);
      note(
        io,
        `wrote ${written.length > 3 ? `${written.slice(0, 2).join(", ")} and ${written.length - 2} PNG files` : written.join(", ")}`,
      );
    }
    const failed = results.settings.reduce((t, s) => t + s.metrics.failedSessions, 0);
    if (failed > 0) {
      const first = results.files.flatMap((f) => f.runs.filter((r) => r.error)).at(0);
      io.stderr.write(
        `voxpipe: error: ${failed} of ${sessions} sessions failed (first: ${first?.error ?? "?"}); their files are not in the figures\n`,
      );
      return 1;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await target.close();
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}
