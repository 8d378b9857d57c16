/**
 * Turn-end estimation: how confident are we that the speaker has finished, given how long
 * they have been silent and whether their words so far form a complete sentence?
 *
 * Measured policy (offline-speech-stack reference §6, 26 turn ends: 1 false end of turn,
 * 488 ms mean latency, vs 3 false / 605 ms for a fixed 500 ms silence):
 *
 *   c = clamp((log10 P(</s>) − log10 pIncomplete) / (log10 pComplete − log10 pIncomplete), 0, 1)
 *   T = incompleteMs − (incompleteMs − completeMs)·c          (expected pause before the turn ends)
 *   end_of_turn_confidence = sigmoid((silence_ms − T) / tauMs)
 *
 * So a threshold θ fires after T + tauMs·ln(θ/(1−θ)) ms of silence: with the defaults a
 * complete sentence ends the turn after 250 ms at θ = 0.5, 377 ms at 0.7 and 580 ms at 0.9,
 * an incomplete one ("…go to the") after 1.2–1.5 s — higher `eot_threshold`, later and surer,
 * as on Flux. `eager_eot_threshold` below `eot_threshold` fires tauMs·(logit θ − logit θe)
 * earlier (e.g. 0.4 vs 0.7: 188 ms).
 */
export interface TurnEndOptions {
  /** Pause expected after a complete sentence, ms. Default 250. */
  completeMs?: number;
  /** Pause expected after an incomplete one, ms. Default 1200. */
  incompleteMs?: number;
  /** Softness of the silence → confidence curve, ms. Default 150. */
  tauMs?: number;
  /** P(</s>) at or below which the words count as incomplete. Default 0.01. */
  pIncomplete?: number;
  /** P(</s>) at or above which the words count as complete. Default 0.2. */
  pComplete?: number;
}

const DEFAULTS: Required<TurnEndOptions> = {
  completeMs: 250,
  incompleteMs: 1200,
  tauMs: 150,
  pIncomplete: 0.01,
  pComplete: 0.2,
};

/** Linguistic completeness c in [0, 1] from P(</s> | last words). */
export function completeness(pEndOfSentence: number, options: TurnEndOptions = {}): number {
  const o = { ...DEFAULTS, ...options };
  if (!(pEndOfSentence > 0)) return 0;
  const c =
    (Math.log10(pEndOfSentence) - Math.log10(o.pIncomplete)) /
    (Math.log10(o.pComplete) - Math.log10(o.pIncomplete));
  return Math.min(1, Math.max(0, c));
}

/** Expected pause before the turn ends, ms, given P(</s> | last words). */
export function expectedPauseMs(pEndOfSentence: number, options: TurnEndOptions = {}): number {
  const o = { ...DEFAULTS, ...options };
  return o.incompleteMs - (o.incompleteMs - o.completeMs) * completeness(pEndOfSentence, o);
}

/**
 * `end_of_turn_confidence` in [0, 1] after `silenceMs` of silence following words whose
 * sentence-end probability is `pEndOfSentence`. While the user speaks, pass `silenceMs = 0`.
 */
export function endOfTurnConfidence(
  silenceMs: number,
  pEndOfSentence: number,
  options: TurnEndOptions = {},
): number {
  const o = { ...DEFAULTS, ...options };
  const x = (silenceMs - expectedPauseMs(pEndOfSentence, o)) / o.tauMs;
  return 1 / (1 + Math.exp(-x));
}

/** Options of {@link SpeechActivity}. */
export interface SpeechActivityOptions {
  /** Probability at or above which a frame is speech. Default 0.5 (Silero's own). */
  positiveThreshold?: number;
  /** Probability below which a frame is silence (between the two: unchanged). Default 0.35. */
  negativeThreshold?: number;
  /** Speech needed before a turn may start, ms (rejects clicks). Default 90. */
  minSpeechMs?: number;
}

/**
 * Hysteresis over per-frame VAD probabilities: is the user speaking, and since when silent?
 * Times are seconds of stream audio.
 */
export class SpeechActivity {
  private readonly pos: number;
  private readonly neg: number;
  private readonly minSpeech: number;
  private speechRun = 0;
  /** True while frames are speech (after the hysteresis). */
  speaking = false;
  /** End of the last speech frame, s; undefined before any confirmed speech. */
  lastSpeechEnd: number | undefined;
  /** Start of the current (or last) run of speech, s. */
  speechStart: number | undefined;

  constructor(options: SpeechActivityOptions = {}) {
    this.pos = options.positiveThreshold ?? 0.5;
    this.neg = options.negativeThreshold ?? 0.35;
    this.minSpeech = (options.minSpeechMs ?? 90) / 1000;
  }

  /** Feed one frame's probability. */
  update(start: number, end: number, probability: number): void {
    if (probability >= this.pos || (this.speaking && probability >= this.neg)) {
      if (this.speechRun === 0) this.speechStart = start;
      this.speechRun += end - start;
      if (this.speechRun >= this.minSpeech - 1e-9) {
        this.speaking = true;
        this.lastSpeechEnd = end;
      }
    } else {
      this.speaking = false;
      this.speechRun = 0;
    }
  }

  /** Silence since the last speech frame at stream time `now` (s), ms; 0 while speaking or before speech. */
  silenceMs(now: number): number {
    if (this.speaking || this.lastSpeechEnd === undefined) return 0;
    return Math.max(0, (now - this.lastSpeechEnd) * 1000);
  }
}
