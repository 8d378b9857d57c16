import { describe, expect, it } from "vitest";
import {
  confidenceAuc,
  confidenceFeatures,
  DEFAULT_CONFIDENCE_CALIBRATION,
  fitConfidenceCalibration,
  IDENTITY_CALIBRATION,
  wordConfidences,
} from "../src/index.js";
import type { ConfidenceFeatures, RecognizedWord } from "../src/index.js";

/** A deterministic pseudo-random sequence (LCG) so the test data never changes. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;
}

/** A scored word of `phones` phones over `start`–`end` s. */
function word(
  posterior: number,
  start: number,
  end: number,
  phones = 3,
  acousticScore = -4,
): RecognizedWord {
  return {
    word: "w",
    start,
    end,
    confidence: posterior,
    scored: true,
    acousticScore,
    phones,
  };
}

const logit = (p: number): number => Math.log(p / (1 - p));

describe("word confidence", () => {
  it("AUC: 1 when every right word outranks every wrong one, 0.5 for ties, NaN without both kinds", () => {
    const ranked = [
      { confidence: 0.9, correct: true },
      { confidence: 0.8, correct: true },
      { confidence: 0.3, correct: false },
    ];
    expect(confidenceAuc(ranked)).toBe(1);
    expect(confidenceAuc(ranked.map((r) => ({ ...r, correct: !r.correct })))).toBe(0);
    expect(
      confidenceAuc([
        { confidence: 0.5, correct: true },
        { confidence: 0.5, correct: false },
      ]),
    ).toBe(0.5);
    expect(confidenceAuc([{ confidence: 0.5, correct: true }])).toBeNaN();
  });

  it("features: the neighbours' posteriors, duration per phone (the last word's from the others) and the turn's acoustic score", () => {
    const turn = [
      word(0.9, 0.0, 0.3, 3, -3),
      word(0.5, 0.3, 0.5, 2, -5),
      { ...word(0.5, 0.5, 0.6, 1, -4), scored: false },
      word(0.2, 0.6, 1.6, 2, -6),
    ];
    const f = confidenceFeatures(turn);
    expect(f[2]).toBeUndefined(); // unscored: no lattice posterior to weigh
    expect(f[0]!.logitPosterior).toBeCloseTo(logit(0.9), 6);
    expect(f[0]!.neighbours).toBeCloseTo(logit(0.5), 6); // only the word after
    expect(f[1]!.neighbours).toBeCloseTo(logit(0.9), 6); // the unscored word after is skipped
    expect(f[0]!.secondsPerPhone).toBeCloseTo(0.1, 6);
    expect(f[1]!.secondsPerPhone).toBeCloseTo(0.1, 6);
    // The last word's end is open (1 s for 2 phones): it takes the mean of the others (0.1).
    expect(f[3]!.secondsPerPhone).toBeCloseTo((0.1 + 0.1 + 0.1) / 3, 6);
    for (const x of [f[0], f[1], f[3]]) expect(x!.turnAcousticScore).toBeCloseTo(-4.5, 6);
  });

  it("confidences: posterior alone with the identity model; lower for stretched words and badly fitting turns", () => {
    const turn = [word(0.8, 0, 0.3), word(0.6, 0.3, 0.6), word(0.7, 0.6, 0.9)];
    const identity = wordConfidences(turn, IDENTITY_CALIBRATION);
    turn.forEach((w, i) => expect(identity[i]).toBeCloseTo(w.confidence, 6));
    expect(wordConfidences([{ ...turn[0], scored: false }], IDENTITY_CALIBRATION)).toEqual([1]);

    const base = wordConfidences(turn)[1];
    const stretched = [turn[0], word(0.6, 0.3, 1.2), turn[2]];
    expect(wordConfidences(stretched)[1]).toBeLessThan(base - 0.1);
    const badFit = turn.map((w) => ({ ...w, acousticScore: -7 }));
    expect(wordConfidences(badFit)[1]).toBeLessThan(base - 0.05);
    // Partial words (no lattice yet) get the share of right words on the tune half.
    expect(wordConfidences([{ ...turn[0], scored: false }])).toEqual([
      DEFAULT_CONFIDENCE_CALIBRATION.unscored,
    ]);
  });

  it("fits a known logistic model over the four features", () => {
    // Words are right with probability sigmoid(0.5·lp + 0.3·nb − 10·spp + 0.4·ac + 2).
    const rand = lcg(7);
    const truth = { slope: 0.5, neighbours: 0.3, secondsPerPhone: -10, turnAcousticScore: 0.4 };
    const samples = Array.from({ length: 6000 }, () => {
      const features: ConfidenceFeatures = {
        logitPosterior: logit(Math.min(0.999, Math.max(0.001, rand()))),
        neighbours: logit(Math.min(0.999, Math.max(0.001, rand()))),
        secondsPerPhone: 0.05 + 0.1 * rand(),
        turnAcousticScore: -3 - 3 * rand(),
      };
      const z =
        truth.slope * features.logitPosterior +
        truth.neighbours * features.neighbours +
        truth.secondsPerPhone * features.secondsPerPhone +
        truth.turnAcousticScore * features.turnAcousticScore +
        2;
      return { features, correct: rand() < 1 / (1 + Math.exp(-z)) };
    });
    const fit = fitConfidenceCalibration(samples, [{ correct: true }, { correct: false }]);
    expect(fit.slope).toBeCloseTo(0.5, 1);
    expect(fit.neighbours).toBeCloseTo(0.3, 1);
    expect(fit.secondsPerPhone! / truth.secondsPerPhone).toBeCloseTo(1, 0);
    expect(fit.turnAcousticScore).toBeCloseTo(0.4, 1);
    expect(fit.intercept).toBeCloseTo(2, 0);
    expect(fit.unscored).toBe(0.5);
    // The fitted model ranks the words nearly as well as the true one.
    const scores = samples.map((s) => ({
      correct: s.correct,
      confidence:
        fit.slope * s.features.logitPosterior +
        fit.neighbours! * s.features.neighbours +
        fit.secondsPerPhone! * s.features.secondsPerPhone +
        fit.turnAcousticScore! * s.features.turnAcousticScore,
    }));
    expect(confidenceAuc(scores)).toBeGreaterThan(0.75);
  });

  it("stays finite when posteriors of exactly 0 and 1 dominate", () => {
    const f = (posterior: number): ConfidenceFeatures => ({
      logitPosterior: logit(Math.min(1 - 1e-4, Math.max(1e-4, posterior))),
      neighbours: 0,
      secondsPerPhone: 0.08,
      turnAcousticScore: -4,
    });
    const samples = [
      ...Array.from({ length: 300 }, () => ({ features: f(1), correct: true })),
      ...Array.from({ length: 60 }, () => ({ features: f(1), correct: false })),
      ...Array.from({ length: 40 }, (_, i) => ({ features: f(i / 100), correct: i % 3 === 0 })),
    ];
    const fit = fitConfidenceCalibration(samples);
    expect(Number.isFinite(fit.slope) && Math.abs(fit.slope) < 10).toBe(true);
    expect(Number.isFinite(fit.intercept)).toBe(true);
  });

  it("refuses to fit without both right and wrong words", () => {
    const features = {
      logitPosterior: 2,
      neighbours: 0,
      secondsPerPhone: 0.08,
      turnAcousticScore: -4,
    };
    expect(() => fitConfidenceCalibration([{ features, correct: true }])).toThrow(
      /needs both right and wrong words, got 1 right of 1/,
    );
  });
});
