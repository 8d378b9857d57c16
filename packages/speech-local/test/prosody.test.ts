import { describe, expect, it } from "vitest";
import { endOfTurnConfidence, prosodicCues, unlengthenedPauseMs } from "../src/index.js";
import type { RecognizedWord } from "../src/index.js";

const RATE = 16000;

/**
 * A voiced-sounding signal: a harmonic tone whose F0 glides from `f0From` to `f0To` Hz (linear
 * in semitones) and whose amplitude goes from `ampFrom` to `ampTo`, `seconds` long.
 */
function voice(seconds: number, f0From: number, f0To: number, ampFrom = 0.3, ampTo = 0.3) {
  const n = Math.round(seconds * RATE);
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const x = i / n;
    const f0 = f0From * (f0To / f0From) ** x;
    phase += (2 * Math.PI * f0) / RATE;
    const amp = ampFrom + (ampTo - ampFrom) * x;
    // Three harmonics, like a vowel's source.
    const s = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase);
    out[i] = Math.round((amp * s * 32767) / 1.75);
  }
  return out;
}

const concat = (...parts: Int16Array[]): Int16Array => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

const word = (w: string, start: number, end: number, phones: number): RecognizedWord => ({
  word: w,
  start,
  end,
  confidence: 0.9,
  scored: true,
  acousticScore: -3,
  phones,
});

describe("prosodic cues", () => {
  // "good" 0.0–0.4 s at 150 Hz, then a last word 0.4–0.9 s.
  const words = [word("good", 0, 0.4, 3), word("evening", 0.4, 0.9, 5)];

  it("hears a falling and a rising last word, and where it ends in the voice's range", () => {
    const falling = prosodicCues(concat(voice(0.4, 150, 150), voice(0.5, 150, 110)), 0, words);
    const rising = prosodicCues(concat(voice(0.4, 150, 150), voice(0.5, 150, 210)), 0, words);
    // 150 → 110 Hz is −5.4 semitones over 0.5 s: ≈ −11 st/s; 150 → 210 Hz ≈ +11.6 st/s.
    expect(falling.finalPitchSlope).toBeLessThan(-7);
    expect(falling.finalPitchSlope).toBeGreaterThan(-15);
    expect(rising.finalPitchSlope).toBeGreaterThan(7);
    expect(rising.finalPitchSlope).toBeLessThan(15);
    expect(falling.finalPitchLevel).toBeLessThan(-2);
    expect(rising.finalPitchLevel).toBeGreaterThan(2);
  });

  it("measures final lengthening per phone and a fading ending's energy", () => {
    const fading = prosodicCues(
      concat(voice(0.4, 150, 150), voice(0.5, 150, 150, 0.3, 0.01)),
      0,
      words,
    );
    const steady = prosodicCues(concat(voice(0.4, 150, 150), voice(0.5, 150, 150)), 0, words);
    // 0.5 s / 5 phones against 0.4 s / 3 phones.
    expect(fading.finalLengthening).toBeCloseTo(0.1 / (0.4 / 3), 6);
    expect(steady.finalEnergy).toBeGreaterThan(-1);
    expect(fading.finalEnergy).toBeLessThan(-8);
  });

  it("leaves pitch out when not asked for it, with the same lengthening and energy", () => {
    const pcm = concat(voice(0.4, 150, 150), voice(0.5, 150, 110, 0.3, 0.01));
    const all = prosodicCues(pcm, 0, words);
    const noPitch = prosodicCues(pcm, 0, words, { pitch: false });
    expect(all.finalPitchSlope).toBeLessThan(-7);
    expect(noPitch).toEqual({
      finalPitchSlope: undefined,
      finalPitchLevel: undefined,
      finalLengthening: all.finalLengthening,
      finalEnergy: all.finalEnergy,
    });
  });

  it("reads the words' times against the audio's start time, and knows nothing without audio", () => {
    // The same audio, starting at 10 s of stream time.
    const shifted = words.map((w) => ({ ...w, start: w.start + 10, end: w.end + 10 }));
    const pcm = concat(voice(0.4, 150, 150), voice(0.5, 150, 110));
    expect(prosodicCues(pcm, 10, shifted).finalPitchSlope).toBeLessThan(-7);
    const silent = prosodicCues(new Int16Array(RATE), 10, shifted);
    expect(silent.finalPitchSlope).toBeUndefined();
    expect(silent.finalPitchLevel).toBeUndefined();
    expect(prosodicCues(pcm, 0, [])).toEqual({
      finalPitchSlope: undefined,
      finalPitchLevel: undefined,
      finalLengthening: undefined,
      finalEnergy: undefined,
    });
  });

  it("adds up to 700 ms of pause to an ending that is not lengthened", () => {
    const cue = (finalLengthening: number | undefined) => ({
      finalPitchSlope: undefined,
      finalPitchLevel: undefined,
      finalEnergy: undefined,
      finalLengthening,
    });
    expect(unlengthenedPauseMs(cue(1.2))).toBe(0);
    expect(unlengthenedPauseMs(cue(0.95))).toBe(0);
    expect(unlengthenedPauseMs(cue(0.825))).toBeCloseTo(350, 6);
    expect(unlengthenedPauseMs(cue(0.7))).toBeCloseTo(700, 6);
    expect(unlengthenedPauseMs(cue(0.3))).toBe(700);
    expect(unlengthenedPauseMs(cue(undefined))).toBe(0);
    expect(unlengthenedPauseMs(undefined)).toBe(0);
    expect(unlengthenedPauseMs(cue(0.3), { unlengthenedMs: 0 })).toBe(0);
  });

  it("lets an ending that does not sound final wait as long as an incomplete sentence, no longer", () => {
    const prosody = {
      finalPitchSlope: undefined,
      finalPitchLevel: undefined,
      finalEnergy: undefined,
      finalLengthening: 0.6,
    };
    // Silence (ms) at which the confidence first reaches 0.5: the expected pause T.
    const t50 = (pEos: number, withCue: boolean): number => {
      for (let ms = 0; ms <= 5000; ms += 5)
        if (
          endOfTurnConfidence({
            silenceMs: ms,
            endOfSentenceProbability: pEos,
            ...(withCue && { prosody }),
          }) >= 0.5
        )
          return ms;
      return Infinity;
    };
    // "…tomorrow evening" (complete): 200 ms, 900 ms when the last word is not lengthened.
    expect(t50(0.267, false)).toBe(200);
    expect(t50(0.267, true)).toBe(900);
    // Half complete (T₀ 625 ms): capped at the incomplete sentence's 1050 ms.
    expect(t50(0.045, false)).toBeGreaterThan(550);
    expect(t50(0.045, true)).toBe(1050);
    // "…go to the" (incomplete): 1050 ms either way.
    expect(t50(0.005, false)).toBe(1050);
    expect(t50(0.005, true)).toBe(1050);
  });
});
