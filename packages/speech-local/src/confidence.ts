/**
 * Word confidence: pocketsphinx's word posterior (forward–backward over the utterance's word
 * lattice, `ps_seg_prob` after the `-bestpath` pass) mapped by Platt scaling to the
 * probability that the word is right:
 *
 *   confidence = sigmoid(slope · logit(posterior) + intercept)
 *
 * The mapping is monotonic, so it changes how well the numbers are calibrated, not how
 * well they rank right and wrong words. `slope` and `intercept` are fitted on the tune half
 * of the labelled set (`pnpm eval:local`, which prints the fit and the area under the ROC
 * curve on the held-out half). Words of a partial hypothesis have no lattice yet and get
 * `unscored`: the share of such words that were right on the tune half.
 */

/** Platt-scaling parameters of {@link calibrateConfidence}. */
export interface ConfidenceCalibration {
  /** Multiplies logit(posterior). */
  readonly slope: number;
  /** Added to slope·logit(posterior). */
  readonly intercept: number;
  /** Confidence of a word not yet scored by the lattice pass (partial hypotheses), 0–1. */
  readonly unscored: number;
}

/** No calibration: confidence = posterior (what the eval fits from). */
export const IDENTITY_CALIBRATION: ConfidenceCalibration = { slope: 1, intercept: 0, unscored: 1 };

/**
 * Fitted by `pnpm eval:local-heldout --split tune` on the tune half of the labelled set (see the package README,
 * "Evaluation"); `unscored` is the share of right words among partial words there.
 */
export const DEFAULT_CONFIDENCE_CALIBRATION: ConfidenceCalibration = {
  slope: 0.236,
  intercept: 0.167,
  unscored: 0.612,
};

const EPS = 1e-4;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Calibrated confidence (0–1) of a word with lattice posterior `posterior` (0–1). */
export function calibrateConfidence(
  posterior: number,
  calibration: ConfidenceCalibration = DEFAULT_CONFIDENCE_CALIBRATION,
): number {
  return sigmoid(calibration.slope * logit(posterior) + calibration.intercept);
}

/**
 * Fit {@link ConfidenceCalibration} `slope`/`intercept` by logistic regression of "word
 * right" on logit(posterior) (damped Newton's method: two parameters converge in a few steps),
 * and `unscored` as the share of right words in `unscored`.
 * @throws RangeError when `scored` lacks right or wrong words (nothing to fit).
 */
export function fitConfidenceCalibration(
  scored: ReadonlyArray<{ posterior: number; correct: boolean }>,
  unscored: ReadonlyArray<{ correct: boolean }> = [],
): ConfidenceCalibration {
  const right = scored.filter((s) => s.correct).length;
  if (right === 0 || right === scored.length) {
    throw new RangeError(
      `fitConfidenceCalibration needs both right and wrong words, got ${right} right of ${scored.length}`,
    );
  }
  const xs = scored.map((s) => logit(s.posterior));
  const ys = scored.map((s) => (s.correct ? 1 : 0));
  // Log-likelihood with a small ridge on the slope (keeps near-separable data finite).
  const loglik = (a: number, b: number): number => {
    let l = -0.5e-3 * a * a;
    for (let i = 0; i < xs.length; i++) {
      const z = a * xs[i] + b;
      l += ys[i] * z - Math.log1p(Math.exp(-Math.abs(z))) - Math.max(z, 0);
    }
    return l;
  };
  let a = 1;
  let b = 0;
  let current = loglik(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = -1e-3 * a;
    let gb = 0;
    let haa = 1e-3;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < xs.length; i++) {
      const p = sigmoid(a * xs[i] + b);
      const w = p * (1 - p);
      ga += (ys[i] - p) * xs[i];
      gb += ys[i] - p;
      haa += w * xs[i] * xs[i];
      hab += w * xs[i];
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    let da = (hbb * ga - hab * gb) / det;
    let db = (haa * gb - hab * ga) / det;
    // Newton's step, halved until the likelihood improves (plain Newton can overshoot).
    let next = loglik(a + da, b + db);
    for (let k = 0; k < 30 && !(next >= current); k++) {
      da /= 2;
      db /= 2;
      next = loglik(a + da, b + db);
    }
    if (!(next >= current)) break;
    a += da;
    b += db;
    const gain = next - current;
    current = next;
    if (gain < 1e-10) break;
  }
  const unscoredRight = unscored.filter((u) => u.correct).length;
  return {
    slope: a,
    intercept: b,
    unscored: unscored.length > 0 ? unscoredRight / unscored.length : right / scored.length,
  };
}

/**
 * Area under the ROC curve of "word right" against confidence: the probability that a right
 * word has a higher confidence than a wrong one (ties count half). 0.5 = no information.
 * NaN when there are no right or no wrong words.
 */
export function confidenceAuc(
  samples: ReadonlyArray<{ confidence: number; correct: boolean }>,
): number {
  // Rank-sum (Mann–Whitney U) with average ranks for ties: O(n log n).
  const sorted = [...samples].sort((x, y) => x.confidence - y.confidence);
  let rankSum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j].confidence === sorted[i].confidence) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k].correct) rankSum += rank;
    i = j;
  }
  const pos = samples.filter((s) => s.correct).length;
  const neg = samples.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
