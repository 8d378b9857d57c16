import type { FileScore, TurnCounts } from "./score.js";

/** The percentiles Flux's method reports (p10…p90), keyed `p10`…`p90`. */
export const LATENCY_PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90] as const;

/** `p10`…`p90` → latency in audio ms; `Infinity` when that share of turns was cut or missed. */
export type LatencyPercentiles = Record<`p${(typeof LATENCY_PERCENTILES)[number]}`, number>;

/** A distribution summary in ms (`NaN` when there was nothing to measure). */
export interface Spread {
  count: number;
  p50: number;
  p90: number;
  max: number;
}

/** Every figure of a group of sessions (one setting over the dataset, or one tag, or one file). */
export interface EvalMetrics extends TurnCounts {
  /** Sessions (file × setting) scored, and those that failed (not scored). */
  sessions: number;
  failedSessions: number;
  audioSeconds: number;
  /** End-of-turn latency percentiles, audio ms, false and missed ends of turn as ∞ (Flux's method). */
  latencyMs: LatencyPercentiles;
  /** p50 of the same distribution. */
  medianLatencyMs: number;
  /** p1…p99 of the same distribution, for the percentile curve (index i = percentile i + 1). */
  latencyCurveMs: number[];
  /** Detections / EndOfTurns Flux decided; `NaN` when Flux decided none. */
  precision: number;
  /** Detections / labelled turns. */
  recall: number;
  f1: number;
  /** Word error rate of the final (EndOfTurn) transcripts, jiwer-style normalisation. */
  wer: number;
  eager: {
    events: number;
    /** TurnResumed / EagerEndOfTurn. */
    turnResumedRate: number;
    /** Share of EagerEndOfTurn events whose transcript is not their turn's final transcript. */
    finalDiffersRate: number;
    /** Lead of a standing EagerEndOfTurn over its EndOfTurn, audio ms. */
    leadMs: Spread;
    /** The same lead in wall ms. */
    leadWallMs: Spread;
  };
  /** Wall ms from sending the audio of an EndOfTurn to receiving it: what the network and server add. */
  endOfTurnDelayMs: Spread;
  /** Reconnects during the sessions, and Flux event-order violations seen. */
  reconnects: number;
  violations: number;
}

/** What {@link aggregate} needs of one session. */
export interface ScoredSession {
  readonly score?: FileScore | undefined;
  readonly audioSeconds: number;
  readonly reconnects: number;
  readonly violations: number;
}

/**
 * The `q`-quantile (0–1] of `values` by nearest rank, `Infinity` sorting last — so a
 * percentile is ∞ once that share of turns was cut or missed. `NaN` for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function spread(values: readonly number[]): Spread {
  return {
    count: values.length,
    p50: quantile(values, 0.5),
    p90: quantile(values, 0.9),
    max: values.length === 0 ? NaN : Math.max(...values),
  };
}

const ratio = (a: number, b: number): number => (b === 0 ? NaN : a / b);

/** Sums the sessions' scores into one set of figures (failed sessions are counted, not scored). */
export function aggregate(sessions: readonly ScoredSession[]): EvalMetrics {
  const scores = sessions.flatMap((s) => (s.score ? [s.score] : []));
  const sum = (f: (s: FileScore) => number): number => scores.reduce((t, s) => t + f(s), 0);
  const all = (f: (s: FileScore) => number[]): number[] => scores.flatMap(f);
  const latencies = all((s) => s.latenciesMs);
  const detected = sum((s) => s.detected);
  const emitted = sum((s) => s.emittedEots);
  const turns = sum((s) => s.turns);
  const precision = ratio(detected, emitted);
  const recall = ratio(detected, turns);
  const eagerEvents = sum((s) => s.eagerEvents);
  const latencyMs = Object.fromEntries(
    LATENCY_PERCENTILES.map((p) => [`p${p}`, quantile(latencies, p / 100)]),
  ) as LatencyPercentiles;
  return {
    sessions: scores.length,
    failedSessions: sessions.length - scores.length,
    audioSeconds: sessions.reduce((t, s) => t + (s.score ? s.audioSeconds : 0), 0),
    turns,
    latencyMs,
    medianLatencyMs: latencyMs.p50,
    latencyCurveMs: Array.from({ length: 99 }, (_, i) => quantile(latencies, (i + 1) / 100)),
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : NaN,
    detected,
    missed: sum((s) => s.missed),
    splitTurns: sum((s) => s.splitTurns),
    falseEots: sum((s) => s.falseEots),
    extraEots: sum((s) => s.extraEots),
    emittedEots: emitted,
    forcedEots: sum((s) => s.forcedEots),
    wer: ratio(
      sum((s) => s.wordErrors),
      sum((s) => s.referenceWords),
    ),
    referenceWords: sum((s) => s.referenceWords),
    wordErrors: sum((s) => s.wordErrors),
    eager: {
      events: eagerEvents,
      turnResumedRate: ratio(
        sum((s) => s.turnResumed),
        eagerEvents,
      ),
      finalDiffersRate: ratio(
        sum((s) => s.eagerFinalDiffers),
        eagerEvents,
      ),
      leadMs: spread(all((s) => s.eagerLeadsMs)),
      leadWallMs: spread(all((s) => s.eagerLeadsWallMs)),
    },
    endOfTurnDelayMs: spread(all((s) => s.endOfTurnDelaysMs)),
    reconnects: sessions.reduce((t, s) => t + s.reconnects, 0),
    violations: sessions.reduce((t, s) => t + s.violations, 0),
  };
}
