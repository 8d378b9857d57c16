import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { Argument, Option } from "commander";
import type { Command } from "commander";
import { readWav } from "@voxpipe/core";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { CliUsageError, parseNumber } from "../options/flux.js";
import { checkSidecar, formatSidecar } from "./dataset.js";
import type { DatasetFile, LabelledTurn } from "./dataset.js";
import { AnnotationError, fromAudacityLabels, parseRttm, turnsFromRttm } from "./importers.js";
import { addRunOptions, reportFailures, runWithTarget, settingsOf } from "./run-options.js";
import type { RunFlags } from "./run-options.js";
import type { FileRun } from "./run.js";

/** The flags of `voxpipe eval label`. */
export interface LabelFlags extends RunFlags {
  force: boolean;
}

/** The flags of `voxpipe eval import`. */
export interface ImportFlags {
  wav: string;
  speaker?: string;
  joinGap: number;
  out?: string;
  force: boolean;
}

/**
 * Draft turns from one run: one turn per EndOfTurn Flux decided or forced, from its first
 * word's start to its last word's end (Flux's word times; else the turn's audio window),
 * with its final transcript. A draft for a person to correct, not ground truth.
 */
export function draftTurns(run: FileRun, duration: number): LabelledTurn[] {
  const turns: LabelledTurn[] = [];
  for (const e of run.events ?? []) {
    if (e.event !== "EndOfTurn" || e.transcript.trim() === "") continue;
    const speech = e.speech ?? { start: e.time, end: e.time };
    const start = Math.max(speech.start, turns.at(-1)?.end ?? 0);
    const end = Math.min(Math.max(speech.end, start + 0.01), duration);
    if (end > start) turns.push({ start, end, transcript: e.transcript });
  }
  return turns;
}

/** The WAVs `inputs` name: files, or every `.wav` of a folder. */
async function wavsOf(inputs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info === undefined) throw new CliUsageError(`${input}: no such file or folder`);
    if (info.isDirectory()) {
      const names = (await readdir(input)).filter((n) => /\.wav$/i.test(n)).sort();
      out.push(...names.map((n) => resolve(input, n)));
    } else out.push(resolve(input));
  }
  return out;
}

async function asDatasetFile(wavPath: string): Promise<DatasetFile> {
  let pcm;
  try {
    pcm = await readWav(wavPath);
  } catch (error) {
    throw new CliUsageError(
      `${wavPath}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const name = basename(wavPath).replace(/\.wav$/i, "");
  return {
    name,
    wavPath,
    sidecarPath: wavPath.replace(/\.wav$/i, ".json"),
    duration: pcm.audio.byteLength / 2 / pcm.numChannels / pcm.sampleRate,
    sampleRate: pcm.sampleRate,
    channels: pcm.numChannels,
    turns: [],
    tags: [],
  };
}

/**
 * Registers `voxpipe eval label <wav|folder…>` (drafts sidecars from a run) and
 * `voxpipe eval import audacity|rttm <file> --wav <wav>` (converts annotations) under `eval`.
 */
export function registerLabelCommands(
  evalCommand: Command,
  io: CliIO,
  done: (code: number) => void,
): void {
  const label = evalCommand
    .command("label")
    .description(
      "Draft name.json sidecars from a run (one turn per EndOfTurn, Flux's word times and transcript), for a person to correct",
    )
    .argument("<inputs...>", "WAV files or folders of WAV files");
  addRunOptions(label, [0.7])
    .option("--force", "overwrite existing sidecars", false)
    .addHelpText(
      "after",
      `
The draft is what the target heard: check every turn's start, end and transcript (e.g. in
Audacity) before using it as ground truth, or the evaluation measures the target against itself.`,
    );
  label.action(async (inputs: string[], flags: LabelFlags) => {
    const wavs = await wavsOf(inputs);
    const files: DatasetFile[] = [];
    for (const wav of wavs) {
      const exists = await stat(wav.replace(/\.wav$/i, ".json")).catch(() => undefined);
      if (exists && !flags.force) note(io, `${basename(wav)}: has a sidecar; --force to redraft`);
      else files.push(await asDatasetFile(wav));
    }
    if (files.length === 0) {
      done(0);
      return;
    }
    const settings = settingsOf(flags, io).slice(0, 1);
    const results = await runWithTarget({ dir: resolve("."), files }, settings, flags, io);
    for (const [i, file] of results.files.entries()) {
      const run = file.runs[0];
      if (run.error !== undefined) continue;
      const turns = draftTurns(run, file.duration);
      await writeFile(files[i].sidecarPath, formatSidecar({ turns }));
      note(
        io,
        `drafted ${files[i].sidecarPath} (${turns.length} turns): check it before evaluating`,
      );
    }
    done(reportFailures(results, io));
  });

  evalCommand
    .command("import")
    .description("Convert annotations to a dataset sidecar: an Audacity label track or RTTM")
    .addArgument(new Argument("<format>", "annotation format").choices(["audacity", "rttm"]))
    .argument(
      "<file>",
      "the annotation file (Audacity: File → Export → Labels; RTTM: SPEAKER records)",
    )
    .requiredOption("--wav <wav>", "the WAV the annotations belong to (the sidecar goes beside it)")
    .option(
      "--speaker <id>",
      "RTTM: the speaker whose turns Flux should end (needed when there are several)",
    )
    .addOption(
      new Option("--join-gap <seconds>", "RTTM: join segments closer than this into one turn")
        .argParser(parseNumber("--join-gap"))
        .default(0),
    )
    .option("--out <file>", "where to write the sidecar (default: name.json beside the WAV)")
    .option("--force", "overwrite an existing sidecar", false)
    .action(async (format: "audacity" | "rttm", file: string, flags: ImportFlags) => {
      done(await importAnnotations(format, file, flags, io));
    });
}

async function importAnnotations(
  format: "audacity" | "rttm",
  file: string,
  flags: ImportFlags,
  io: CliIO,
): Promise<number> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new CliUsageError(`${file}: cannot be read`);
  });
  const wav = await asDatasetFile(resolve(flags.wav));
  let turns: LabelledTurn[];
  try {
    if (format === "audacity") turns = fromAudacityLabels(text, basename(file));
    else {
      const segments = parseRttm(text, basename(file));
      const speakers = [...new Set(segments.map((s) => s.speaker))];
      const speaker = flags.speaker ?? (speakers.length === 1 ? speakers[0] : undefined);
      if (speaker === undefined || !speakers.includes(speaker)) {
        throw new CliUsageError(
          `${basename(file)}: ${flags.speaker === undefined ? "has several speakers" : `has no speaker ${JSON.stringify(flags.speaker)}`}: choose the one whose turns Flux should end with --speaker (${speakers.join(", ") || "none found"})`,
        );
      }
      turns = turnsFromRttm(segments, speaker, flags.joinGap);
    }
  } catch (error) {
    if (error instanceof AnnotationError) throw new CliUsageError(error.message);
    throw error;
  }
  const out = flags.out ?? wav.sidecarPath;
  const issues = checkSidecar({ turns }, basename(out), wav.duration);
  if (issues.length > 0) {
    throw new CliUsageError(
      issues.map((i) => `${basename(file)} → ${i.field}: ${i.message}`).join("\n"),
    );
  }
  if (!flags.force && (await stat(out).catch(() => undefined))) {
    throw new CliUsageError(`${out} exists: --force to overwrite it`);
  }
  await writeFile(out, formatSidecar({ turns }));
  note(
    io,
    `wrote ${out} (${turns.length} turns${format === "rttm" ? ", no transcripts: RTTM has none" : ""})`,
  );
  return 0;
}
