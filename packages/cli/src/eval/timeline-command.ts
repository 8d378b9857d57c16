import { readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { readWav } from "@voxpipe/core";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { CliUsageError } from "../options/flux.js";
import { checkSidecar } from "./dataset.js";
import type { Dataset, DatasetFile, LabelledTurn } from "./dataset.js";
import { renderSvg, timelineSpec } from "./report/charts.js";
import { escapeHtml } from "./report/html.js";
import { svgToPng } from "./report/png.js";
import { addRunOptions, reportFailures, runWithTarget, settingsOf } from "./run-options.js";
import type { RunFlags } from "./run-options.js";

/** The flags of `voxpipe timeline <wav>`. */
export interface TimelineFlags extends RunFlags {
  out?: string;
  png: boolean;
}

/**
 * Reads one WAV as a one-file dataset: its sidecar `name.json` is used when it is there
 * (validated like a dataset's), else the file has no labels.
 * @throws {CliUsageError} when the file is missing, unreadable, or its sidecar is invalid.
 */
export async function singleFileDataset(wav: string): Promise<Dataset> {
  const wavPath = resolve(wav);
  let pcm;
  try {
    pcm = await readWav(wavPath);
  } catch (error) {
    throw new CliUsageError(
      `${wav}: ${error instanceof Error ? error.message : String(error)} (a WAV file is needed)`,
    );
  }
  const duration = pcm.audio.byteLength / 2 / pcm.numChannels / pcm.sampleRate;
  const name = basename(wavPath).replace(/\.wav$/i, "");
  const sidecarPath = join(dirname(wavPath), `${name}.json`);
  let turns: LabelledTurn[] = [];
  let tags: string[] = [];
  if (await stat(sidecarPath).catch(() => undefined)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(sidecarPath, "utf8"));
    } catch (error) {
      throw new CliUsageError(
        `${name}.json: is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const issues = checkSidecar(parsed, `${name}.json`, duration);
    if (issues.length > 0) {
      throw new CliUsageError(
        issues.map((i) => `${i.file}${i.field ? `: ${i.field}` : ""}: ${i.message}`).join("\n"),
      );
    }
    const sidecar = parsed as { turns: LabelledTurn[]; tags?: string[] };
    turns = sidecar.turns.map((t) => ({ ...t, transcript: t.transcript ?? "" }));
    tags = sidecar.tags ?? [];
  }
  const file: DatasetFile = {
    name,
    wavPath,
    sidecarPath,
    duration,
    sampleRate: pcm.sampleRate,
    channels: pcm.numChannels,
    turns,
    tags,
  };
  return { dir: dirname(wavPath), files: [file] };
}

/**
 * Registers `voxpipe timeline <wav>`: one live run of a file against a Flux target (one row
 * per setting), drawn as the report's turn timeline into an HTML page (and a PNG with
 * `--png`); every EndOfTurn is also printed. Labels come from `name.json` beside the WAV
 * when there is one. Exit codes as `eval`.
 */
export function registerTimelineCommand(
  program: Command,
  io: CliIO,
  done: (code: number) => void,
): Command {
  const command = program
    .command("timeline")
    .description(
      "Draw the turn timeline of one live run: waveform, labels (name.json, if any), Flux's EOT confidence and every event as it arrived",
    )
    .argument("<wav>", "a WAV file (any rate, channels, bit depth)");
  addRunOptions(command, [0.7])
    .option("--out <file>", "the HTML page to write (default: <name>.timeline.html here)")
    .option("--png", "also write the timeline as PNG next to the page", false)
    .addHelpText(
      "after",
      `
Examples:
  voxpipe timeline call.wav                                   # Deepgram with a key, else local
  voxpipe timeline call.wav --target local --eot-threshold 0.5,0.8 --eager-eot-threshold 0.4 --png`,
    );
  command.action(async (wav: string, flags: TimelineFlags) => {
    done(await drawTimeline(wav, flags, io));
  });
  return command;
}

async function drawTimeline(wav: string, flags: TimelineFlags, io: CliIO): Promise<number> {
  const settings = settingsOf(flags, io);
  const dataset = await singleFileDataset(wav);
  const results = await runWithTarget(dataset, settings, { ...flags, concurrency: 1 }, io);
  const [file] = results.files;
  for (const run of file.runs) {
    for (const e of run.events ?? []) {
      if (e.event === "EndOfTurn") {
        io.stdout.write(
          `${run.setting}  ${e.time.toFixed(2).padStart(7)} s  EndOfTurn (${e.trigger ?? "model"})  ${e.transcript}\n`,
        );
      }
    }
  }
  const svg = await renderSvg(timelineSpec(file, { settings: results.settings }));
  const out = flags.out ?? `${file.name}.timeline.html`;
  await writeFile(
    out,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(file.name)} — voxpipe timeline</title></head><body style="font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px">${svg}<p style="color:#555;font-size:12px">${escapeHtml(results.target.shown)} · ${results.pace} pace · ${results.createdAt}</p></body></html>\n`,
  );
  const written = [out];
  if (flags.png) {
    const png = out.replace(/\.html?$/i, "") + ".png";
    await writeFile(png, svgToPng(svg));
    written.push(png);
  }
  note(io, `wrote ${written.join(", ")}`);
  return reportFailures(results, io);
}
