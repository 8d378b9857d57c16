/** The client process's CPU and memory over a run. */
export interface ResourceSummary {
  /** Wall-clock length of the measured interval, ms. */
  wallMs: number;
  /** User-mode CPU time, ms (`process.cpuUsage`). */
  cpuUserMs: number;
  /** Kernel-mode CPU time, ms. */
  cpuSystemMs: number;
  /** Average cores busy: (user + system) / wall. 1.0 = one core fully used. */
  cores: number;
  /** Resident set size when measuring started, MiB. */
  rssBaselineMiB: number;
  /** Highest resident set size seen (sampled), MiB. */
  rssPeakMiB: number;
  /** Peak minus baseline, MiB. */
  rssAboveBaselineMiB: number;
  /** V8 heap in use at the end, MiB. */
  heapUsedMiB: number;
}

const MIB = 1024 * 1024;
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Measures this process's CPU time and resident memory from `start()` to `stop()`. RSS is sampled
 * on a timer (it has no cumulative counter), so the peak is the highest sample, not a true peak.
 */
export class ResourceMeter {
  readonly #sampleMs: number;
  #cpu: NodeJS.CpuUsage | undefined;
  #startedAt = 0;
  #baseline = 0;
  #peak = 0;
  #timer: NodeJS.Timeout | undefined;

  /** @param sampleMs RSS sampling interval, ms (default 500). */
  constructor(sampleMs = 500) {
    this.#sampleMs = sampleMs;
  }

  /** Takes the baseline and starts sampling. */
  start(): void {
    this.#cpu = process.cpuUsage();
    this.#startedAt = performance.now();
    this.#baseline = process.memoryUsage.rss();
    this.#peak = this.#baseline;
    this.#timer = setInterval(() => this.sample(), this.#sampleMs);
    // Sampling must never keep a finished run alive.
    this.#timer.unref();
  }

  /** Takes one RSS sample now (also called on the timer). */
  sample(): void {
    this.#peak = Math.max(this.#peak, process.memoryUsage.rss());
  }

  /** The figures so far; sampling continues until {@link stop}. */
  read(): ResourceSummary {
    if (this.#cpu === undefined) throw new Error("ResourceMeter.read() before start()");
    this.sample();
    const cpu = process.cpuUsage(this.#cpu);
    const wallMs = performance.now() - this.#startedAt;
    const userMs = cpu.user / 1000;
    const systemMs = cpu.system / 1000;
    return {
      wallMs: round(wallMs, 1),
      cpuUserMs: round(userMs, 1),
      cpuSystemMs: round(systemMs, 1),
      cores: wallMs > 0 ? round((userMs + systemMs) / wallMs, 3) : 0,
      rssBaselineMiB: round(this.#baseline / MIB),
      rssPeakMiB: round(this.#peak / MIB),
      rssAboveBaselineMiB: round((this.#peak - this.#baseline) / MIB),
      heapUsedMiB: round(process.memoryUsage().heapUsed / MIB),
    };
  }

  /** Stops sampling and returns the final figures. */
  stop(): ResourceSummary {
    const summary = this.read();
    clearInterval(this.#timer);
    this.#timer = undefined;
    return summary;
  }
}
