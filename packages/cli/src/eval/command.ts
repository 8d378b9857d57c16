import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { CliUsageError } from "../options/flux.js";
import { DatasetError, loadDataset } from "./dataset.js";
import { resultsToJson } from "./run.js";
import type { EvalResults } from "./run.js";
import { addRunOptions, reportFailures, runWithTarget, settingsOf } from "./run-options.js";
import type { RunFlags } from "./run-options.js";
import { formatResults } from "./text-report.js";
import { registerLabelCommands } from "./label-command.js";
import { renderCharts, renderHtml } from "./report/html.js";
import { svgToPng } from "./report/png.js";

/** The sweep of `eot_threshold` when `--eot-threshold` is not given (Flux's 0.5–0.9 range in 0.1 steps). */
export const DEFAULT_EOT_SWEEP = [0.5, 0.6, 0.7, 0.8, 0.9];

/** The flags of `voxpipe eval <dataset>` as commander parses them. */
export interface EvalFlags extends RunFlags {
  out?: string;
  png: boolean;
  json: boolean;
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
    // `eval label …` and `eval import …` have flags of the same names: eval's own flags
    // are read only before a subcommand's name.
    .enablePositionalOptions()
    .description(
      "Measure turn-taking on your own labelled audio, Flux's way: EOT latency percentiles (false ends of turn = ∞), precision/recall, WER, eager figures — per threshold",
    )
    .argument(
      "<dataset>",
      'folder of name.wav + name.json sidecars ({"turns": [{"start", "end", "transcript"}]}, seconds)',
    );
  addRunOptions(command, DEFAULT_EOT_SWEEP)
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
  registerLabelCommands(command, io, done);
  return command;
}

async function evaluate(datasetDir: string, flags: EvalFlags, io: CliIO): Promise<number> {
  if (flags.png && flags.out === undefined) throw new CliUsageError("--png needs --out <dir>");
  const settings = settingsOf(flags, io);
  let dataset;
  try {
    dataset = await loadDataset(datasetDir);
  } catch (error) {
    if (error instanceof DatasetError) throw new CliUsageError(error.message);
    throw error;
  }
  const results = await runWithTarget(dataset, settings, flags, io);
  io.stdout.write(flags.json ? `${resultsToJson(results, true)}\n` : formatResults(results));
  if (flags.out !== undefined) {
    const written = await writeOutputs(results, flags.out, flags.png);
    note(
      io,
      `wrote ${written.length > 3 ? `${written.slice(0, 2).join(", ")} and ${written.length - 2} PNG files` : written.join(", ")}`,
    );
  }
  return reportFailures(results, io);
}
