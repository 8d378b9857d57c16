/**
 * Word confidence: the probability that a recognised word is right, from a small logistic
 * model over four pieces of evidence about the word in its turn (the classic combination of
 * the confidence-measure literature: lattice posterior, acoustic fit, duration):
 *
 *   confidence = sigmoid(slope·logit(posterior) + neighbours·(mean logit posterior of the
 *                words before and after) + secondsPerPhone·(duration / phones)
 *                + turnAcousticScore·(mean acoustic score per frame of the turn's words)
 *                + intercept)
 *
 * - `posterior`: pocketsphinx's word posterior (forward–backward over the utterance's word
 *   lattice, `ps_seg_prob` after the `-bestpath` pass).
 * - neighbours: errors come in runs (a garbled stretch), so a word between doubtful words is
 *   doubtful too.
 * - seconds per phone: a word stretched over much more time than its phones need usually
 *   covers sounds the dictionary word does not have. Not for the last word of the hypothesis:
 *   its end is open (it absorbs the silence before the pause; on the tune half last words
 *   took 0.103 s per phone against 0.089, and were right as often), so it takes the mean of
 *   the turn's other words.
 * - turn acoustic score: posteriors are *relative* — on audio the model fits badly everywhere
 *   (a synthetic voice, a telephone line) every competing word is equally bad and the
 *   posterior stays high; the acoustic score per frame (relative to the best senone of each
 *   frame) is absolute, and averaged over the turn it is steady enough to use.
 *
 * The coefficients are fitted on the tune half of the labelled set by logistic regression
 * (`pnpm eval:local-heldout --split tune` prints a new fit; the area under the ROC curve is
 * reported on the held-out test half by `pnpm eval:local-heldout`). Words of a partial
 * hypothesis have no lattice yet and get `unscored`: the share of right words on the tune half.
 */
import { Matrix, solve } from "ml-matrix";
import type { RecognizedWord } from "./recognizer.js";

/** Coefficients of the word-confidence model (see the module doc for the formula). */
export interface ConfidenceCalibration {
  /** Multiplies logit(posterior) of the word. */
  readonly slope: number;
  /** Added to the weighted sum (the log-odds of a word whose evidence is all 0). */
  readonly intercept: number;
  /** Confidence of a word not yet scored by the lattice pass (partial hypotheses), 0–1. */
  readonly unscored: number;
  /** Multiplies the mean logit(posterior) of the scored words just before and after. Default 0. */
  readonly neighbours?: number;
  /** Multiplies the word's duration per phone of its pronunciation, seconds. Default 0. */
  readonly secondsPerPhone?: number;
  /** Multiplies the mean acoustic score per frame (natural log) of the turn's words. Default 0. */
  readonly turnAcousticScore?: number;
}

/** No model: confidence = posterior (scored words), 1 (unscored ones). */
export const IDENTITY_CALIBRATION: ConfidenceCalibration = { slope: 1, intercept: 0, unscored: 1 };

/**
 * Fitted by `pnpm eval:local-heldout --split tune` on the EndOfTurn words of the tune half of
 * the labelled set (515 words; see the package README, "Evaluation"); `unscored` is the share
 * of right words there. Refit after a decoder change (posteriors and acoustic scores move).
 */
export const DEFAULT_CONFIDENCE_CALIBRATION: ConfidenceCalibration = {
  slope: 0.206,
  neighbours: 0.208,
  secondsPerPhone: -13.78,
  turnAcousticScore: 0.292,
  intercept: 2.533,
  unscored: 0.608,
};

/** The evidence {@link wordConfidences} weighs for one scored word. */
export interface ConfidenceFeatures {
  /** logit of the lattice posterior (clamped to 1e-4…1 − 1e-4). */
  readonly logitPosterior: number;
  /** Mean logit posterior of the scored words just before and after (the word's own when it has none). */
  readonly neighbours: number;
  /** Duration ÷ phones in the pronunciation, seconds (the last word: the other words' mean). */
  readonly secondsPerPhone: number;
  /** Mean acoustic score per frame of the turn's words, natural log. */
  readonly turnAcousticScore: number;
}

const EPS = 1e-4;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * The evidence of each word of a turn (`undefined` for words not scored by the lattice
 * pass). `words` are the turn's words in order, with lattice posteriors as their `confidence`
 * (as {@link RecognizedWord}s come from the recognizer).
 */
export function confidenceFeatures(
  words: readonly RecognizedWord[],
): Array<ConfidenceFeatures | undefined> {
  const turnAcousticScore =
    words.length > 0 ? words.reduce((s, w) => s + w.acousticScore, 0) / words.length : 0;
  const lp = words.map((w) => (w.scored ? logit(w.confidence) : undefined));
  const perPhone = words.map((w) => (w.end - w.start) / Math.max(1, w.phones));
  const others = perPhone.slice(0, -1);
  const lastPerPhone =
    others.length > 0 ? others.reduce((s, x) => s + x, 0) / others.length : perPhone[0];
  return words.map((w, i) => {
    const own = lp[i];
    if (own === undefined) return undefined;
    const around = [lp[i - 1], lp[i + 1]].filter((x): x is number => x !== undefined);
    return {
      logitPosterior: own,
      neighbours: around.length > 0 ? around.reduce((s, x) => s + x, 0) / around.length : own,
      secondsPerPhone: i === words.length - 1 ? lastPerPhone : perPhone[i],
      turnAcousticScore,
    };
  });
}

/** The model's log-odds for one word's evidence. */
function logOdds(f: ConfidenceFeatures, c: ConfidenceCalibration): number {
  return (
    c.slope * f.logitPosterior +
    (c.neighbours ?? 0) * f.neighbours +
    (c.secondsPerPhone ?? 0) * f.secondsPerPhone +
    (c.turnAcousticScore ?? 0) * f.turnAcousticScore +
    c.intercept
  );
}

/**
 * Confidence (0–1, the probability the word is right) of each word of a turn, in order.
 * `words`: the turn's words as the recognizer gives them (posteriors in `confidence`).
 */
export function wordConfidences(
  words: readonly RecognizedWord[],
  calibration: ConfidenceCalibration = DEFAULT_CONFIDENCE_CALIBRATION,
): number[] {
  return confidenceFeatures(words).map((f) =>
    f === undefined ? calibration.unscored : sigmoid(logOdds(f, calibration)),
  );
}

/** Order of the features in the fit's design matrix (the intercept's column is last). */
const FEATURE_KEYS = [
  "logitPosterior",
  "neighbours",
  "secondsPerPhone",
  "turnAcousticScore",
] as const;

/**
 * Fit {@link ConfidenceCalibration} by logistic regression of "word right" on the evidence
 * (Newton's method / iteratively reweighted least squares, with a small ridge penalty that
 * keeps near-separable data finite), and `unscored` as the share of right words in
 * `unscored`. The linear solve of each Newton step is ml-matrix's (a maintained linear-algebra
 * library, rather than our own Gaussian elimination).
 * @throws RangeError when `scored` lacks right or wrong words (nothing to fit).
 */
export function fitConfidenceCalibration(
  scored: ReadonlyArray<{ features: ConfidenceFeatures; correct: boolean }>,
  unscored: ReadonlyArray<{ correct: boolean }> = [],
): ConfidenceCalibration {
  const right = scored.filter((s) => s.correct).length;
  if (right === 0 || right === scored.length) {
    throw new RangeError(
      `fitConfidenceCalibration needs both right and wrong words, got ${right} right of ${scored.length}`,
    );
  }
  const k = FEATURE_KEYS.length + 1;
  // Standardised columns: Newton's steps and the ridge then treat every feature alike.
  const raw = scored.map((s) => FEATURE_KEYS.map((key) => s.features[key]));
  const mean = FEATURE_KEYS.map((_, j) => raw.reduce((a, r) => a + r[j], 0) / raw.length);
  const sd = FEATURE_KEYS.map(
    (_, j) => Math.sqrt(raw.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / raw.length) || 1,
  );
  const x = raw.map((r) => [...r.map((v, j) => (v - mean[j]) / sd[j]), 1]);
  const y = scored.map((s) => (s.correct ? 1 : 0));
  const ridge = 1e-2;
  const loglik = (w: number[]): number => {
    let l = -0.5 * ridge * w.slice(0, -1).reduce((a, v) => a + v * v, 0);
    for (let i = 0; i < x.length; i++) {
      const z = x[i].reduce((a, v, j) => a + v * w[j], 0);
      l += y[i] * z - Math.log1p(Math.exp(-Math.abs(z))) - Math.max(z, 0);
    }
    return l;
  };
  let w = new Array<number>(k).fill(0);
  let current = loglik(w);
  for (let iter = 0; iter < 100; iter++) {
    const gradient = Matrix.zeros(k, 1);
    const hessian = Matrix.zeros(k, k);
    for (let i = 0; i < x.length; i++) {
      const p = sigmoid(x[i].reduce((a, v, j) => a + v * w[j], 0));
      for (let a = 0; a < k; a++) {
        gradient.set(a, 0, gradient.get(a, 0) + (y[i] - p) * x[i][a]);
        for (let b = 0; b < k; b++)
          hessian.set(a, b, hessian.get(a, b) + p * (1 - p) * x[i][a] * x[i][b]);
      }
    }
    for (let a = 0; a < k - 1; a++) {
      gradient.set(a, 0, gradient.get(a, 0) - ridge * w[a]);
      hessian.set(a, a, hessian.get(a, a) + ridge);
    }
    let step = solve(hessian, gradient).getColumn(0);
    // Newton's step, halved until the likelihood improves (plain Newton can overshoot).
    let next = w.map((v, j) => v + step[j]);
    let l = loglik(next);
    for (let h = 0; h < 30 && !(l >= current); h++) {
      step = step.map((s) => s / 2);
      next = w.map((v, j) => v + step[j]);
      l = loglik(next);
    }
    if (!(l >= current)) break;
    const gain = l - current;
    w = next;
    current = l;
    if (gain < 1e-10) break;
  }
  // Back from standardised columns to the raw features.
  const coef = FEATURE_KEYS.map((_, j) => w[j] / sd[j]);
  const intercept = w[k - 1] - FEATURE_KEYS.reduce((a, _, j) => a + coef[j] * mean[j], 0);
  const unscoredRight = unscored.filter((u) => u.correct).length;
  return {
    slope: coef[0],
    neighbours: coef[1],
    secondsPerPhone: coef[2],
    turnAcousticScore: coef[3],
    intercept,
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
