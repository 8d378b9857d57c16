import type { Logger } from "@voxpipe/core";
import type { FluxModel } from "@voxpipe/flux-protocol";
import { pcmToMulaw } from "@voxpipe/core";
import { decodeWavFile } from "../stress/pcm-input.js";
import type { Dataset, DatasetFile, LabelledTurn } from "./dataset.js";
import { aggregate } from "./metrics.js";
import type { EvalMetrics } from "./metrics.js";
import { scoreSession } from "./score.js";
import type { FileScore, RecordedEvent } from "./score.js";
import { EVAL_SAMPLE_RATE, runSession } from "./session.js";
import type { EvalAudioFormat, EvalSetting, EvalTarget, SessionRecord } from "./session.js";
import { waveformEnvelope } from "./waveform.js";

/** Results format version (bumped on a breaking change of {@link EvalResults}). */
export const RESULTS_VERSION = 1;

/** One session of a run: one file at one setting. */
export interface FileRun {
  /** {@link settingLabel} of the setting. */
  readonly setting: string;
  readonly wallSeconds: number;
  readonly reconnects: number;
  readonly violations: number;
  /** Scores; absent when the session failed. */
  readonly score?: FileScore;
  readonly error?: string;
  /** Every TurnInfo as it arrived (omitted from `--json`). */
  readonly events?: readonly RecordedEvent[];
}

/** One file of the dataset with its runs. */
export interface FileResult {
  readonly name: string;
  readonly duration: number;
  readonly tags: readonly string[];
  readonly turns: readonly LabelledTurn[];
  /** Min/max sample pairs (−1…1) over equal slices of the audio, for the timeline. Omitted from `--json`. */
  readonly waveform?: readonly number[];
  readonly runs: readonly FileRun[];
}

/** One setting's figures over the dataset, and per tag. */
export interface SettingResult {
  readonly label: string;
  readonly setting: EvalSetting;
  readonly metrics: EvalMetrics;
  readonly byTag: Readonly<Record<string, EvalMetrics>>;
}

/**
 * Everything a run measured (`results.json`; `--json` prints it without events and waveforms).
 * Latencies are audio ms; `Infinity` (a false or missed end of turn) is written as the string
 * `"Infinity"` and a figure with nothing to measure as `null` (see {@link resultsToJson}).
 */
export interface EvalResults {
  readonly version: typeof RESULTS_VERSION;
  readonly createdAt: string;
  readonly dataset: { dir: string; files: number; turns: number; audioSeconds: number };
  /** Where the sessions went: kind and address (never a key or a query string). */
  readonly target: { kind: string; shown: string };
  readonly model: FluxModel;
  readonly pace: "real-time" | "fast";
  readonly concurrency: number;
  /** Wall time of the whole run, s. */
  readonly wallSeconds: number;
  readonly settings: readonly SettingResult[];
  readonly files: readonly FileResult[];
}

/** Options of {@link runEval}. */
export interface EvalRunOptions {
  readonly dataset: Dataset;
  readonly settings: readonly EvalSetting[];
  readonly target: EvalTarget & { kind: string; shown: string };
  readonly model: FluxModel;
  readonly keyterms?: readonly string[];
  readonly fast: boolean;
  /** Sessions streamed at once, ≥ 1. */
  readonly concurrency: number;
  /**
   * Send files recorded at 8 kHz as a phone line delivers them — G.711 μ-law at 8 kHz
   * (`encoding=mulaw&sample_rate=8000`; a μ-law WAV goes out byte for byte) — instead of
   * resampled to 16 kHz linear16, so the target knows it hears telephone audio. Default false.
   */
  readonly telephoneAsMulaw?: boolean;
  /** Progress: seconds of audio sent over all sessions so far, and sessions finished. */
  readonly onProgress?: (audioSeconds: number, sessionsDone: number) => void;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/** How a setting is named in tables, charts and `FileRun.setting`: `eot 0.7 · eager 0.4 · timeout 3000 ms`. */
export function settingLabel(s: EvalSetting): string {
  return [
    `eot ${s.eotThreshold}`,
    ...(s.eagerEotThreshold !== undefined ? [`eager ${s.eagerEotThreshold}`] : []),
    ...(s.eotTimeoutMs !== undefined ? [`timeout ${s.eotTimeoutMs} ms`] : []),
  ].join(" · ");
}

/**
 * Runs every file of the dataset at every setting, `concurrency` sessions at a time, and
 * scores them (see `score.ts` for the method). A failed session is reported in its
 * {@link FileRun.error} and counted in `failedSessions`; the others still run.
 * @throws Error when a WAV cannot be decoded (the dataset was validated before).
 */
export async function runEval(options: EvalRunOptions): Promise<EvalResults> {
  const started = performance.now();
  const { dataset, settings } = options;
  const jobs = dataset.files.flatMap((file, f) =>
    settings.map((setting, s) => ({ file, f, setting, s })),
  );
  const records: SessionRecord[][] = dataset.files.map(() => []);
  const audio = new Map<DatasetFile, Promise<Uint8Array>>();
  const sent = new Array<number>(jobs.length).fill(0);
  let done = 0;
  const report = (): void =>
    options.onProgress?.(
      sent.reduce((a, b) => a + b, 0),
      done,
    );
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && options.signal?.aborted !== true) {
      const j = next++;
      const { file, f, setting, s } = jobs[j];
      const telephone = options.telephoneAsMulaw === true && file.sampleRate === 8000;
      const format: EvalAudioFormat = telephone
        ? { encoding: "mulaw", sampleRate: 8000 }
        : { encoding: "linear16", sampleRate: EVAL_SAMPLE_RATE };
      let pcm = audio.get(file);
      if (pcm === undefined) {
        pcm = telephone
          ? decodeWavFile(file.wavPath, 8000).then(pcmToMulaw)
          : decodeWavFile(file.wavPath, EVAL_SAMPLE_RATE);
        audio.set(file, pcm);
      }
      records[f][s] = await runSession({
        target: options.target,
        setting,
        model: options.model,
        ...(options.keyterms !== undefined && { keyterms: options.keyterms }),
        audio: await pcm,
        format,
        fast: options.fast,
        onProgress: (seconds) => {
          sent[j] = seconds;
          report();
        },
        ...(options.logger !== undefined && { logger: options.logger }),
        ...(options.signal !== undefined && { signal: options.signal }),
      });
      sent[j] = file.duration;
      done += 1;
      report();
      // Every setting of this file done: its audio is no longer needed.
      if (records[f].filter(Boolean).length === settings.length) audio.delete(file);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, jobs.length) }, worker));

  const files: FileResult[] = await Promise.all(
    dataset.files.map(async (file, f) => ({
      name: file.name,
      duration: file.duration,
      tags: file.tags,
      turns: file.turns,
      waveform: waveformEnvelope(await decodeWavFile(file.wavPath, EVAL_SAMPLE_RATE)),
      runs: settings.map((setting, s): FileRun => {
        const record = records[f][s] ?? {
          events: [],
          audioSeconds: file.duration,
          wallSeconds: 0,
          reconnects: 0,
          violations: 0,
          error: "not run (interrupted)",
        };
        return {
          setting: settingLabel(setting),
          wallSeconds: record.wallSeconds,
          reconnects: record.reconnects,
          violations: record.violations,
          ...(record.error === undefined && { score: scoreSession(file.turns, record.events) }),
          ...(record.error !== undefined && { error: record.error }),
          events: record.events,
        };
      }),
    })),
  );
  const tags = [...new Set(dataset.files.flatMap((f) => f.tags))].sort();
  const sessionsOf = (s: number, filter: (f: FileResult) => boolean) =>
    files.filter(filter).map((file) => ({
      score: file.runs[s].score,
      audioSeconds: file.duration,
      reconnects: file.runs[s].reconnects,
      violations: file.runs[s].violations,
    }));
  return {
    version: RESULTS_VERSION,
    createdAt: new Date().toISOString(),
    dataset: {
      dir: dataset.dir,
      files: dataset.files.length,
      turns: dataset.files.reduce((t, f) => t + f.turns.length, 0),
      audioSeconds: dataset.files.reduce((t, f) => t + f.duration, 0),
    },
    target: { kind: options.target.kind, shown: options.target.shown },
    model: options.model,
    pace: options.fast ? "fast" : "real-time",
    concurrency: options.concurrency,
    wallSeconds: (performance.now() - started) / 1000,
    settings: settings.map((setting, s) => ({
      label: settingLabel(setting),
      setting,
      metrics: aggregate(sessionsOf(s, () => true)),
      byTag: Object.fromEntries(
        tags.map((tag) => [tag, aggregate(sessionsOf(s, (f) => f.tags.includes(tag)))]),
      ),
    })),
    files,
  };
}

/**
 * Serialises results as JSON: `Infinity` → `"Infinity"` (a false or missed end of turn),
 * `NaN` → `null` (nothing to measure). `figuresOnly` drops events and waveforms (`--json`).
 */
export function resultsToJson(results: EvalResults, figuresOnly = false): string {
  const shown = figuresOnly
    ? {
        ...results,
        files: results.files.map(({ waveform: _w, runs, ...file }) => ({
          ...file,
          runs: runs.map(({ events: _e, ...run }) => run),
        })),
      }
    : results;
  return JSON.stringify(
    shown,
    (_key, value: unknown) =>
      typeof value === "number" && !Number.isFinite(value)
        ? Number.isNaN(value)
          ? null
          : value > 0
            ? "Infinity"
            : "-Infinity"
        : value,
    2,
  );
}

/** Reads results back from {@link resultsToJson}: restores `Infinity` (`null` figures stay `null`). */
export function resultsFromJson(text: string): EvalResults {
  return JSON.parse(text, (key, value: unknown) =>
    key === "transcript"
      ? value
      : value === "Infinity"
        ? Infinity
        : value === "-Infinity"
          ? -Infinity
          : value,
  ) as EvalResults;
}
