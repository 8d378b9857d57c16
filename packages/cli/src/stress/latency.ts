import { build } from "hdr-histogram-js";
import type { Histogram } from "hdr-histogram-js";

/** Percentiles of a set of durations, in milliseconds (µs resolution). All zero when `count` is 0. */
export interface LatencySummary {
  /** Number of samples. */
  count: number;
  /** Arithmetic mean, ms. */
  mean: number;
  /** Smallest sample, ms. */
  min: number;
  /** Median, ms. */
  p50: number;
  /** 90th percentile, ms. */
  p90: number;
  /** 95th percentile, ms. */
  p95: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Largest sample, ms. */
  max: number;
}

/** The summary of no samples. */
export const EMPTY_LATENCY: Readonly<LatencySummary> = Object.freeze({
  count: 0,
  mean: 0,
  min: 0,
  p50: 0,
  p90: 0,
  p95: 0,
  p99: 0,
  max: 0,
});

/** Samples are stored in microseconds: the histogram works on integers. */
const US_PER_MS = 1000;

/**
 * Records durations and reports percentiles, on an HDR histogram (`hdr-histogram-js`, pure-JS
 * packed buckets, 3 significant digits) so memory stays small and bounded however many samples
 * a long run collects, and recorders of many connections merge exactly.
 *
 * The histogram is only allocated at the first sample: a stress run keeps several recorders per
 * connection and most of them stay empty.
 */
export class LatencyRecorder {
  #histogram: Histogram | undefined;

  /**
   * Records one duration in ms. Negative values (an estimate that overshot, clock skew between
   * processes) are recorded as 0; NaN and infinities are ignored.
   */
  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#ensure().recordValue(Math.max(0, Math.round(ms * US_PER_MS)));
  }

  /** Adds every sample of `other` to this recorder. */
  merge(other: LatencyRecorder): void {
    if (other.#histogram === undefined) return;
    this.#ensure().add(other.#histogram);
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.#histogram?.totalCount ?? 0;
  }

  /** The percentiles so far. */
  summary(): LatencySummary {
    const h = this.#histogram;
    if (h === undefined || h.totalCount === 0) return { ...EMPTY_LATENCY };
    const ms = (us: number): number => Math.round((us / US_PER_MS) * 1000) / 1000;
    // Percentiles are bucket values (within 0.1%); never report one above the true maximum.
    const max = h.maxValue;
    const at = (percentile: number): number =>
      ms(Math.min(h.getValueAtPercentile(percentile), max));
    return {
      count: h.totalCount,
      mean: ms(h.mean),
      min: at(0),
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      max: ms(max),
    };
  }

  #ensure(): Histogram {
    this.#histogram ??= build({
      bitBucketSize: "packed",
      useWebAssembly: false,
      numberOfSignificantValueDigits: 3,
    });
    return this.#histogram;
  }
}
