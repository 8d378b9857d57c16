/**
 * Importers from common annotation formats into the dataset's sidecar turns.
 *
 * - **Audacity label tracks** (File → Export → Labels): one label per line,
 *   `start<TAB>end<TAB>text` in seconds; a line starting with `\` continues the label
 *   above with its frequency range (spectral selection) and is skipped; a point label
 *   (start = end) marks no turn and is refused.
 * - **RTTM** (NIST Rich Transcription Time Marked, the diarization format of pyannote and
 *   DIHARD): `SPEAKER <file> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>`;
 *   other record types are skipped. RTTM marks speech by speaker, not turns and not words:
 *   the caller chooses the speaker whose turns Flux should end, segments of that speaker
 *   closer than `joinGapSeconds` are one turn, and transcripts are empty (timing only).
 */
import type { LabelledTurn } from "./dataset.js";

/** A problem in an annotation file: the line (1-based) and what is wrong. */
export class AnnotationError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = "AnnotationError";
  }
}

const number = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

/**
 * Turns from an Audacity label track (text of the exported file). Labels are sorted by start.
 * @throws {AnnotationError} naming the line for a malformed label or a point label.
 */
export function fromAudacityLabels(text: string, file: string): LabelledTurn[] {
  const turns: LabelledTurn[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("\\")) return;
    const [a, b, ...rest] = line.split("\t");
    const start = number(a);
    const end = number(b);
    if (!Number.isFinite(start) || !Number.isFinite(end)) {
      throw new AnnotationError(
        file,
        i + 1,
        `expected "start<TAB>end<TAB>text" in seconds, got ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    if (end <= start) {
      throw new AnnotationError(
        file,
        i + 1,
        `label at ${start} s has no length (end ${end}): mark each turn as a region from its first word to its last`,
      );
    }
    turns.push({ start, end, transcript: rest.join("\t").trim() });
  });
  return turns.sort((x, y) => x.start - y.start);
}

/** One speech segment of an RTTM file. */
export interface RttmSegment {
  readonly file: string;
  readonly speaker: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The `SPEAKER` records of an RTTM file.
 * @throws {AnnotationError} naming the line for a malformed `SPEAKER` record.
 */
export function parseRttm(text: string, file: string): RttmSegment[] {
  const segments: RttmSegment[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== "SPEAKER") return;
    const onset = number(fields[3]);
    const duration = number(fields[4]);
    if (fields.length < 8 || !Number.isFinite(onset) || !(duration > 0)) {
      throw new AnnotationError(
        file,
        i + 1,
        `expected "SPEAKER <file> <channel> <onset> <duration> <NA> <NA> <speaker> …", got ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    segments.push({ file: fields[1], speaker: fields[7], start: onset, end: onset + duration });
  });
  return segments;
}

/**
 * Turns of one speaker from RTTM segments: sorted, and segments separated by less than
 * `joinGapSeconds` of silence joined into one turn (the pause is inside it).
 */
export function turnsFromRttm(
  segments: readonly RttmSegment[],
  speaker: string,
  joinGapSeconds: number,
): LabelledTurn[] {
  const mine = segments.filter((s) => s.speaker === speaker).sort((a, b) => a.start - b.start);
  const turns: Array<{ start: number; end: number; transcript: string }> = [];
  for (const s of mine) {
    const last = turns.at(-1);
    if (last && s.start - last.end < joinGapSeconds) last.end = Math.max(last.end, s.end);
    else turns.push({ start: s.start, end: s.end, transcript: "" });
  }
  return turns;
}
