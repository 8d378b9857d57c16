import type { ProsodicCues } from "./prosody.js";

/**
 * Turn-end estimation: how confident are we that the speaker has finished, given how long
 * they have been silent and whether their words so far form a complete sentence?
 *
 * The policy measured in the offline-speech-stack reference §6 (LM-adaptive pause), with two
 * additions: one for misrecognised speech, one for how the last word sounds:
 *
 *   c  = clamp((log10 P(</s>) − log10 pIncomplete) / (log10 pComplete − log10 pIncomplete), 0, 1)
 *   w  = min(1, mean confidence of the last two words / trustedConfidence)
 *   c' = w·c + (1 − w)·uncertainCompleteness     (don't trust the LM on words the recognizer doubts)
 *   d  = clamp((lengthenedRatio − L) / (lengthenedRatio − unlengthenedRatio), 0, 1)
 *        (L: the last word's duration per phone over the turn's median — final lengthening)
 *   T₀ = incompleteMs − (incompleteMs − completeMs)·c'
 *   T  = max(T₀, min(incompleteMs, T₀ + unlengthenedMs·d))   (expected pause before the turn ends)
 *   end_of_turn_confidence = sigmoid((silence_ms − T) / tauMs)
 *
 * Speakers lengthen the last syllables of an utterance; a last word spoken at the turn's own
 * pace or faster usually has more words after it. On the tune half the EagerEndOfTurns that a
 * TurnResumed undid had L 0.50–0.87 (one 1.17), those that stood 0.61–2.9, mostly above 0.9
 * (area under the ROC curve 0.95): garbled telephone and espeak-ng copies whose words the LM
 * reads as complete ("I thing.", "…how much their ma"), which no word or LM feature
 * separated. So a doubtful ending waits up to 700 ms longer (never past `incompleteMs`); the
 * median turn, lengthened, does not. Pitch slope and final energy were measured too and not used (see the package README).
 *
 * `silence_ms` is the pause after the last recognised word (`LocalSpeechStream` measures it
 * from the word's end once the VAD hears silence, so the VAD's own lag — 70 ms on flite,
 * 200–300 ms on espeak-ng's slow decay — is not added to every turn end).
 *
 * So a threshold θ fires after T + tauMs·ln(θ/(1−θ)) ms of silence. With the defaults a
 * confidently recognised complete sentence ends the turn after 200 ms of silence at
 * θ = 0.5, 403 ms at 0.7 and 727 ms at 0.9; an incomplete one ("…go to the") after
 * 1.05–1.6 s. Higher `eot_threshold`: later and surer, as on Flux. An `eager_eot_threshold`
 * below it fires tauMs·(logit θ − logit θe) earlier (0.4 vs 0.7: 300 ms, which on Flux's
 * 80 ms frames is a 320 ms lead in three turns of four), and no earlier than 103 ms into the
 * pause at 0.4: shorter gaps inside a sentence after complete-looking words ("…whether the
 * store | is open") were most of the EagerEndOfTurn → TurnResumed pairs. While the user
 * speaks (no silence yet) the confidence is at most 0.1, below every eager threshold Flux
 * allows (≥ 0.3).
 *
 * The defaults were chosen on the tune half of the held-out split (test/fixtures/
 * make-heldout.ts: flite, espeak-ng and LibriVox speech, 400/800 ms hesitations, noisy and
 * telephone copies); see the package README.
 */
export interface TurnEndOptions {
  /**
   * Pause expected after a complete sentence, ms. Default 200: `eager_eot_threshold` 0.4 then
   * needs ≈100 ms of silence after the last word (with 100 it fired after ≈3 ms, inside
   * sentences), and `eot_threshold` 0.7 ≈400 ms.
   */
  completeMs?: number;
  /**
   * Pause expected after an incomplete one, ms. Default 1050: with τ = 240 ms an 800 ms
   * hesitation after "…go to the" stays below 0.3, Flux's lowest `eager_eot_threshold`.
   */
  incompleteMs?: number;
  /**
   * Softness of the silence → confidence curve, ms. Default 240: eager 0.4 then leads eot 0.7
   * by 300 ms of silence, which on 80 ms frames is a 320 ms lead in most turns (with 200 ms:
   * 250 ms, mostly 240 ms on the frame grid).
   */
  tauMs?: number;
  /** P(</s>) at or below which the words count as incomplete. Default 0.01. */
  pIncomplete?: number;
  /** P(</s>) at or above which the words count as complete. Default 0.2. */
  pComplete?: number;
  /**
   * Word confidence from which the LM's verdict is fully trusted. Default 0.4: refitted on the
   * tune half when word confidences began to weigh acoustic evidence (0.4 keeps the median EOT
   * latency and false EOTs of the posterior-only confidences at 0.5; 0.5 now: +12 ms median).
   */
  trustedConfidence?: number;
  /** Completeness assumed for words the recognizer doubts. Default 0.3. */
  uncertainCompleteness?: number;
  /**
   * Extra pause expected when the last word is not lengthened, ms (see
   * {@link TurnEndOptions.lengthenedRatio}); 0 turns the cue off. Default 700, with the wait
   * capped at `incompleteMs`: on the tune half eager transcript = final 85.9 → 96.4 %, false
   * EOT 3 → 1 of 52, median EOT latency unchanged (477 ms). (Before the cap: 98.1 %; 800 ms
   * gave the same there, 600 ms 96.4 %.)
   */
  unlengthenedMs?: number;
  /**
   * Final lengthening (`ProsodicCues.finalLengthening`: the last word's duration per phone over
   * the turn's median) at or above which the ending sounds final: no extra pause. Default 0.95
   * (1.0 gave the same eager transcript = final on the tune half, +5 ms of median latency).
   */
  lengthenedRatio?: number;
  /** Final lengthening at or below which the whole `unlengthenedMs` is added (linear between). Default 0.7. */
  unlengthenedRatio?: number;
}

const DEFAULTS: Required<TurnEndOptions> = {
  completeMs: 200,
  incompleteMs: 1050,
  tauMs: 240,
  pIncomplete: 0.01,
  pComplete: 0.2,
  trustedConfidence: 0.4,
  uncertainCompleteness: 0.3,
  unlengthenedMs: 700,
  lengthenedRatio: 0.95,
  unlengthenedRatio: 0.7,
};

/** What the estimator looks at. */
export interface TurnEvidence {
  /** Silence after the last word, ms (0 while the user speaks). */
  silenceMs: number;
  /** P(</s> | last two words) from the trigram LM. */
  endOfSentenceProbability: number;
  /** Mean recognizer confidence of the last two words, 0–1. Default 1. */
  lastWordsConfidence?: number;
  /** How the last word sounds (see {@link prosodicCues}); absent: not used. */
  prosody?: ProsodicCues;
}

/** Linguistic completeness c' in [0, 1] from P(</s> | last words), discounted when the words are doubtful. */
export function completeness(
  pEndOfSentence: number,
  lastWordsConfidence = 1,
  options: TurnEndOptions = {},
): number {
  const o = { ...DEFAULTS, ...options };
  const c =
    pEndOfSentence > 0
      ? (Math.log10(pEndOfSentence) - Math.log10(o.pIncomplete)) /
        (Math.log10(o.pComplete) - Math.log10(o.pIncomplete))
      : 0;
  const w = Math.min(1, Math.max(0, lastWordsConfidence / o.trustedConfidence));
  return w * Math.min(1, Math.max(0, c)) + (1 - w) * o.uncertainCompleteness;
}

/** Expected pause before the turn ends, ms. */
export function expectedPauseMs(
  pEndOfSentence: number,
  lastWordsConfidence = 1,
  options: TurnEndOptions = {},
): number {
  const o = { ...DEFAULTS, ...options };
  return (
    o.incompleteMs -
    (o.incompleteMs - o.completeMs) * completeness(pEndOfSentence, lastWordsConfidence, o)
  );
}

/** `end_of_turn_confidence` in [0, 1] for the evidence (see the module doc for the formula). */
export function endOfTurnConfidence(evidence: TurnEvidence, options: TurnEndOptions = {}): number {
  const o = { ...DEFAULTS, ...options };
  const words = expectedPauseMs(
    evidence.endOfSentenceProbability,
    evidence.lastWordsConfidence ?? 1,
    o,
  );
  // An ending that does not sound final waits at most as long as an incomplete sentence: the
  // cue doubts what the words say, it does not add to a doubt the words already carry.
  const pause = Math.max(
    words,
    Math.min(o.incompleteMs, words + unlengthenedPauseMs(evidence.prosody, o)),
  );
  const confidence = 1 / (1 + Math.exp(-(evidence.silenceMs - pause) / o.tauMs));
  // Still speaking: not an end of turn, whatever the words (a soft curve would otherwise
  // start near an eager threshold).
  return evidence.silenceMs > 0 ? confidence : Math.min(confidence, SPEAKING_MAX_CONFIDENCE);
}

/**
 * Extra pause expected because the last word does not sound final (`unlengthenedMs·d` in the
 * module doc), ms: a word spoken at the turn's own pace or faster (no final lengthening) is
 * usually followed by more words. 0 when the cue is unknown (no cues yet, a one-word turn, a
 * word without phones).
 */
export function unlengthenedPauseMs(
  prosody: ProsodicCues | undefined,
  options: TurnEndOptions = {},
): number {
  const o = { ...DEFAULTS, ...options };
  const ratio = prosody?.finalLengthening;
  if (ratio === undefined) return 0;
  const doubt = (o.lengthenedRatio - ratio) / (o.lengthenedRatio - o.unlengthenedRatio);
  return o.unlengthenedMs * Math.min(1, Math.max(0, doubt));
}

/** Highest confidence while the user speaks: below Flux's lowest `eager_eot_threshold` (0.3). */
const SPEAKING_MAX_CONFIDENCE = 0.1;

/** Options of {@link SpeechActivity}. */
export interface SpeechActivityOptions {
  /** Probability at or above which a frame is speech. Default 0.5 (Silero's own). */
  positiveThreshold?: number;
  /**
   * Probability below which a frame is silence (between the two: unchanged). Default 0.5 (no
   * band): with 0.35 Silero's tail held "speech" longer after the last word; on the tune half
   * 0.5 with τ = 240 ms kept the median EOT latency (482 ms) with one false EOT fewer.
   */
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
    this.neg = options.negativeThreshold ?? 0.5;
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
