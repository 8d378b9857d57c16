import { describe, expect, it } from "vitest";
import {
  completeness,
  endOfTurnConfidence,
  expectedPauseMs,
  SpeechActivity,
} from "../src/index.js";

/** Silence (ms) after which the confidence first reaches `threshold`. */
function latencyAt(threshold: number, pEos: number): number {
  for (let ms = 0; ms <= 5000; ms += 10) {
    if (endOfTurnConfidence({ silenceMs: ms, endOfSentenceProbability: pEos }) >= threshold)
      return ms;
  }
  return Infinity;
}

// P(</s> | last words) measured on the Debian LM (offline-speech-stack reference §6).
const COMPLETE = 0.267; // "…tomorrow evening"
const INCOMPLETE = 0.005; // "…go to the"

describe("turn-end estimator", () => {
  it("maps sentence-end probability to completeness and expected pause", () => {
    expect(completeness(INCOMPLETE)).toBe(0);
    expect(completeness(COMPLETE)).toBe(1);
    expect(completeness(0.05)).toBeGreaterThan(0.4);
    expect(completeness(0.05)).toBeLessThan(0.7);
    expect(expectedPauseMs(COMPLETE)).toBe(200);
    expect(expectedPauseMs(INCOMPLETE)).toBe(1050);
  });

  it("trusts the LM less on words the recognizer doubts", () => {
    // Misrecognised speech: doubtful words are neither complete nor incomplete.
    expect(completeness(INCOMPLETE, 0.05)).toBeGreaterThan(0.2);
    expect(completeness(COMPLETE, 0.05)).toBeLessThan(0.4);
    expect(completeness(COMPLETE, 0.5)).toBe(1);
  });

  it("makes a higher eot_threshold fire later, like Flux (0.5 → 0.7 → 0.9)", () => {
    const l5 = latencyAt(0.5, COMPLETE);
    const l7 = latencyAt(0.7, COMPLETE);
    const l9 = latencyAt(0.9, COMPLETE);
    expect(l5).toBeLessThan(l7);
    expect(l7).toBeLessThan(l9);
    expect(l7).toBeLessThanOrEqual(410);
    // An eager threshold below eot fires earlier: the eager lead (≈300 ms for 0.4 vs 0.7, so
    // ≥ 250 ms even where 80 ms frames round it down).
    expect(latencyAt(0.4, COMPLETE)).toBeLessThanOrEqual(l7 - 290);
  });

  it("gives no EagerEndOfTurn in a short gap inside a sentence, however complete the words look", () => {
    // "…check whether the store | is open": gaps of up to ≈100 ms after words the LM calls
    // complete were most of the EagerEndOfTurn → TurnResumed pairs (with completeMs 100 the
    // eager threshold 0.4 was crossed after 3 ms of silence).
    expect(latencyAt(0.4, COMPLETE)).toBeGreaterThanOrEqual(100);
    expect(endOfTurnConfidence({ silenceMs: 80, endOfSentenceProbability: COMPLETE })).toBeLessThan(
      0.4,
    );
  });

  it("does not end an incomplete sentence during an 800 ms hesitation", () => {
    // Below every eager threshold Flux allows (0.3–0.9): not even an EagerEndOfTurn.
    expect(
      endOfTurnConfidence({ silenceMs: 800, endOfSentenceProbability: INCOMPLETE }),
    ).toBeLessThan(0.3);
    expect(latencyAt(0.5, INCOMPLETE)).toBeGreaterThanOrEqual(1000);
  });

  it("stays low while the user speaks", () => {
    // Below Flux's lowest eager_eot_threshold (0.3), however complete the words look.
    expect(
      endOfTurnConfidence({ silenceMs: 0, endOfSentenceProbability: COMPLETE }),
    ).toBeLessThanOrEqual(0.1);
  });
});

describe("SpeechActivity", () => {
  it("applies hysteresis and measures silence since the last speech frame", () => {
    const a = new SpeechActivity({ negativeThreshold: 0.35 });
    const frame = 0.032;
    const feed = (from: number, probs: number[]): void =>
      probs.forEach((p, i) => a.update(from + i * frame, from + (i + 1) * frame, p));
    feed(0, [0.1, 0.9]); // one frame of speech is not enough (min 90 ms)
    expect(a.speaking).toBe(false);
    feed(2 * frame, [0.9, 0.9, 0.4]); // 0.4 ≥ 0.35 keeps speech going
    expect(a.speaking).toBe(true);
    const speechEnd = 5 * frame;
    feed(speechEnd, [0.2, 0.1]);
    expect(a.speaking).toBe(false);
    expect(a.silenceMs(speechEnd + 0.5)).toBeCloseTo(500, 5);
  });
});
