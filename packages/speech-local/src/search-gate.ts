import type { VadFrame } from "./vad.js";

/**
 * Options of {@link SearchGate}: when the recognizer's search stops and starts again on the
 * VAD's word. Defaults were measured on the held-out tune half (speech-local README, "CPU").
 */
export interface SearchGateOptions {
  /**
   * VAD speech probability at or above which a frame counts as speech: it opens the gate,
   * and keeps it open. Default 0.3, below the VAD's speech threshold (0.5) so a soft onset or
   * a word's fading end still counts. Allowed 0–1.
   */
  threshold?: number;
  /**
   * Audio after the end of the last speech frame that is still searched before the gate
   * closes, ms (the VAD itself holds "speech" 70–300 ms past a word's end, and the gate
   * closes only at the end of a chunk). Default 100. Allowed ≥ 0.
   */
  closeAfterMs?: number;
  /**
   * Audio before the first speech frame that is searched when the gate opens, ms: the VAD
   * hears an onset ≈80 ms late, and the search needs some silence before a word (measured on
   * the tune half: 300 changed LibriVox words at sentence starts, 500 did not). Default 500.
   * Allowed 0–1500 (the recognizer keeps 2 s of audio).
   */
  lookBackMs?: number;
}

/** What the recognizer's search should do now (see {@link SearchGate.update}). */
export type SearchGateCommand =
  | { kind: "close" }
  /** Search again from `from`, seconds of stream audio (the look-back before the onset). */
  | { kind: "open"; from: number };

/**
 * Decides, from the VAD's frames, which audio the recognizer's search decodes: speech plus
 * margins. Long non-speech stretches are skipped (`RecognizerStream.pauseSearch`); at the
 * next speech the search resumes with a look-back (`RecognizerStream.resumeSearch`), so an
 * onset the VAD heard late is still decoded. Word times stay in stream time; a skip ends the
 * recognizer's utterance only once it is as long as pocketsphinx's own endpoint silence
 * (`-vad_postspeech`, 0.5 s), shorter skips join the two pieces into one utterance. Two
 * states: open (searching) and closed; it starts open.
 */
export class SearchGate {
  private readonly threshold: number;
  private readonly closeAfter: number;
  private readonly lookBack: number;
  /** The search is running. */
  open = true;
  /** End of the latest speech frame, s (0 before any). */
  private lastSpeechEnd = 0;

  /** @throws RangeError naming the option when a value is outside what is allowed. */
  constructor(options: SearchGateOptions = {}) {
    this.threshold = checked("threshold", options.threshold ?? 0.3, 0, 1);
    this.closeAfter = checked("closeAfterMs", options.closeAfterMs ?? 100, 0, Infinity) / 1000;
    this.lookBack = checked("lookBackMs", options.lookBackMs ?? 500, 0, 1500) / 1000;
  }

  /**
   * The VAD frames of one chunk, and the stream time the recognizer has received audio up
   * to, s. Returns the command to send the recognizer, if any.
   */
  update(frames: readonly VadFrame[], audioTime: number): SearchGateCommand | undefined {
    let onset: number | undefined;
    for (const f of frames) {
      if (f.probability < this.threshold) continue;
      onset ??= f.start;
      this.lastSpeechEnd = f.end;
    }
    if (!this.open) {
      if (onset === undefined) return undefined;
      this.open = true;
      return { kind: "open", from: Math.max(0, onset - this.lookBack) };
    }
    if (audioTime - this.lastSpeechEnd < this.closeAfter) return undefined;
    this.open = false;
    return { kind: "close" };
  }
}

function checked(name: string, value: number, min: number, max: number): number {
  if (!(value >= min && value <= max))
    throw new RangeError(
      `searchGate.${name} must be within ${min}–${max === Infinity ? "∞" : max}, got ${String(value)}`,
    );
  return value;
}
