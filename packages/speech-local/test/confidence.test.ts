import { describe, expect, it } from "vitest";
import { calibrateConfidence, confidenceAuc, fitConfidenceCalibration } from "../src/index.js";

/** A deterministic pseudo-random sequence (LCG) so the test data never changes. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;
}

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

  it("fits Platt scaling that recovers a known miscalibration", () => {
    // Words are right with probability sigmoid(0.5·logit(p) + 1): the fit should find slope ≈ 0.5, intercept ≈ 1.
    const rand = lcg(7);
    const samples = Array.from({ length: 4000 }, () => {
      const posterior = Math.min(0.999, Math.max(0.001, rand()));
      const truth = 1 / (1 + Math.exp(-(0.5 * Math.log(posterior / (1 - posterior)) + 1)));
      return { posterior, correct: rand() < truth };
    });
    const fit = fitConfidenceCalibration(samples, [{ correct: true }, { correct: false }]);
    expect(fit.slope).toBeCloseTo(0.5, 1);
    expect(fit.intercept).toBeCloseTo(1, 0);
    expect(fit.unscored).toBe(0.5);
    // Calibrated: among words given ≈0.73 (posterior 0.5 → sigmoid(1)), about 73 % are right.
    expect(calibrateConfidence(0.5, fit)).toBeCloseTo(0.73, 1);
  });

  it("stays finite when posteriors of exactly 0 and 1 dominate", () => {
    const samples = [
      ...Array.from({ length: 300 }, () => ({ posterior: 1, correct: true })),
      ...Array.from({ length: 60 }, () => ({ posterior: 1, correct: false })),
      ...Array.from({ length: 40 }, (_, i) => ({ posterior: i / 100, correct: i % 3 === 0 })),
    ];
    const fit = fitConfidenceCalibration(samples);
    expect(Number.isFinite(fit.slope) && Math.abs(fit.slope) < 10).toBe(true);
    expect(calibrateConfidence(1, fit)).toBeCloseTo(300 / 360, 1);
  });

  it("refuses to fit without both right and wrong words", () => {
    expect(() => fitConfidenceCalibration([{ posterior: 0.9, correct: true }])).toThrow(
      /needs both right and wrong words, got 1 right of 1/,
    );
  });
});
