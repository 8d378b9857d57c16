import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { readWav } from "@voxpipe/core";

/**
 * One labelled turn of a dataset file. Times in **seconds of the file's audio**.
 * A pause inside a turn is simply inside `[start, end]`: an `EndOfTurn` there is premature.
 */
export interface LabelledTurn {
  /** Start of the turn's first word, s. */
  readonly start: number;
  /** End of the turn's last word, s: end-of-turn latency is measured from here. */
  readonly end: number;
  /** What was said (reference for WER). May be empty when only timing is labelled. */
  readonly transcript: string;
}

/**
 * The JSON sidecar `name.json` of `name.wav`: `{"turns": [{"start", "end", "transcript"}]}`,
 * optionally `"tags": ["noisy", "phone"]` (metrics are also reported per tag).
 */
export interface Sidecar {
  readonly turns: readonly LabelledTurn[];
  readonly tags?: readonly string[];
}

/** A validated dataset file. */
export interface DatasetFile {
  /** File name without `.wav`. */
  readonly name: string;
  /** Absolute path of the WAV. */
  readonly wavPath: string;
  /** Absolute path of the sidecar JSON. */
  readonly sidecarPath: string;
  /** Duration of the audio, s. */
  readonly duration: number;
  /** The WAV's own rate (Hz) and channels; audio is sent as 16 kHz mono linear16. */
  readonly sampleRate: number;
  readonly channels: number;
  /** Turns in time order. */
  readonly turns: readonly LabelledTurn[];
  readonly tags: readonly string[];
}

/** A validated dataset folder. */
export interface Dataset {
  /** Absolute path of the folder. */
  readonly dir: string;
  readonly files: readonly DatasetFile[];
}

/** One problem in a dataset: the file, the field (JSON path) and what is wrong. */
export interface DatasetIssue {
  readonly file: string;
  /** e.g. `turns[2].end`; empty for the file as a whole. */
  readonly field: string;
  readonly message: string;
}

/** Thrown by {@link loadDataset}: every problem found, each naming the file and the field. */
export class DatasetError extends Error {
  readonly issues: readonly DatasetIssue[];
  constructor(issues: readonly DatasetIssue[]) {
    const lines = issues.map((i) => `${i.file}${i.field ? `: ${i.field}` : ""}: ${i.message}`);
    super(
      `the dataset has ${issues.length} problem${issues.length === 1 ? "" : "s"}:\n  ${lines.join("\n  ")}`,
    );
    this.name = "DatasetError";
    this.issues = issues;
  }
}

/** Slack allowed past the end of the audio for a turn's `end` (label rounding), s. */
const END_SLACK_S = 0.05;

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Validates a parsed sidecar against the audio's `duration` (s). Returns the problems
 * (empty when valid): a missing or non-array `turns`, a turn without numeric `start`/`end`,
 * a negative start, `end` not after `start`, a turn beyond the audio, turns out of order or
 * overlapping, a `transcript` that is not a string, `tags` that are not strings.
 */
export function checkSidecar(value: unknown, file: string, duration: number): DatasetIssue[] {
  const issues: DatasetIssue[] = [];
  const issue = (field: string, message: string): void => {
    issues.push({ file, field, message });
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    issue("", 'must be a JSON object {"turns": [...]}');
    return issues;
  }
  const { turns, tags } = value as { turns?: unknown; tags?: unknown };
  if (!Array.isArray(turns)) {
    issue("turns", `must be an array of {start, end, transcript}, got ${describe(turns)}`);
    return issues;
  }
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === "string"))) {
    issue("tags", `must be an array of strings, got ${describe(tags)}`);
  }
  let previousEnd = -Infinity;
  turns.forEach((turn: unknown, i) => {
    const at = `turns[${i}]`;
    if (typeof turn !== "object" || turn === null) {
      issue(at, `must be an object {start, end, transcript}, got ${describe(turn)}`);
      return;
    }
    const { start, end, transcript } = turn as Record<string, unknown>;
    if (!isNumber(start))
      issue(`${at}.start`, `must be a number of seconds, got ${describe(start)}`);
    if (!isNumber(end)) issue(`${at}.end`, `must be a number of seconds, got ${describe(end)}`);
    if (transcript !== undefined && typeof transcript !== "string") {
      issue(`${at}.transcript`, `must be a string, got ${describe(transcript)}`);
    }
    if (!isNumber(start) || !isNumber(end)) return;
    if (start < 0) issue(`${at}.start`, `is ${start}: must be ≥ 0`);
    if (end <= start) issue(`${at}.end`, `is ${end}, not after start ${start}`);
    if (end > duration + END_SLACK_S) {
      issue(`${at}.end`, `is ${end} s, beyond the audio (${duration.toFixed(3)} s long)`);
    }
    if (start < previousEnd) {
      issue(
        `${at}.start`,
        `is ${start}: overlaps turns[${i - 1}] (ends at ${previousEnd}); turns must be in time order and must not overlap`,
      );
    }
    previousEnd = Math.max(previousEnd, end);
  });
  return issues;
}

/**
 * Reads and validates a dataset folder: every `name.wav` (any rate, channels, bit depth
 * `wavefile` reads) with its sidecar `name.json` ({@link Sidecar}). Every problem is
 * collected before throwing, so one run shows them all.
 * @throws {DatasetError} listing each problem with its file and field: not a folder, no WAV,
 *   missing sidecar, unreadable WAV, invalid JSON, bad turns (see {@link checkSidecar}).
 */
export async function loadDataset(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new DatasetError([
      {
        file: dir,
        field: "",
        message: "is not a folder (a dataset is a folder of name.wav + name.json)",
      },
    ]);
  }
  const entries = (await readdir(root)).sort();
  const wavs = entries.filter((e) => /\.wav$/i.test(e));
  if (wavs.length === 0) {
    throw new DatasetError([
      {
        file: dir,
        field: "",
        message: "holds no .wav file (a dataset is a folder of name.wav + name.json)",
      },
    ]);
  }
  const issues: DatasetIssue[] = [];
  const files: DatasetFile[] = [];
  for (const wav of wavs) {
    const name = wav.replace(/\.wav$/i, "");
    const sidecarName = `${name}.json`;
    const wavPath = join(root, wav);
    const sidecarPath = join(root, sidecarName);
    if (!entries.includes(sidecarName)) {
      issues.push({
        file: wav,
        field: "",
        message: `has no sidecar ${sidecarName} ({"turns": [{"start", "end", "transcript"}]}; draft one with \`voxpipe eval label\`)`,
      });
      continue;
    }
    let duration: number;
    let sampleRate: number;
    let channels: number;
    try {
      const pcm = await readWav(wavPath);
      sampleRate = pcm.sampleRate;
      channels = pcm.numChannels;
      duration = pcm.audio.byteLength / 2 / channels / sampleRate;
    } catch (error) {
      issues.push({
        file: wav,
        field: "",
        message: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(sidecarPath, "utf8"));
    } catch (error) {
      issues.push({
        file: sidecarName,
        field: "",
        message: `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      });
      continue;
    }
    const problems = checkSidecar(parsed, sidecarName, duration);
    if (problems.length > 0) {
      issues.push(...problems);
      continue;
    }
    const sidecar = parsed as { turns: Array<Record<string, unknown>>; tags?: string[] };
    files.push({
      name,
      wavPath,
      sidecarPath,
      duration,
      sampleRate,
      channels,
      turns: sidecar.turns.map((t) => ({
        start: t.start as number,
        end: t.end as number,
        transcript: typeof t.transcript === "string" ? t.transcript : "",
      })),
      tags: sidecar.tags ?? [],
    });
  }
  if (issues.length > 0) throw new DatasetError(issues);
  return { dir: root, files };
}

/** Serialises a sidecar the way the documentation shows it (2-space JSON, times in s). */
export function formatSidecar(sidecar: Sidecar): string {
  return `${JSON.stringify(
    {
      ...(sidecar.tags !== undefined && sidecar.tags.length > 0 && { tags: sidecar.tags }),
      turns: sidecar.turns.map((t) => ({
        start: round3(t.start),
        end: round3(t.end),
        transcript: t.transcript,
      })),
    },
    null,
    2,
  )}\n`;
}

/** Seconds rounded to the millisecond, as labels are written. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}
