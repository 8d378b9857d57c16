import type { Clock } from "../clock.js";

/**
 * A clock that only moves when told to — for deterministic timestamps and metrics.
 * (Timers are not driven by it; use vitest fake timers for those.)
 */
export class ManualClock implements Clock {
  #now: number;
  /** @param start initial time, ms. Default 0. */
  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  /** Move forward by `ms` (≥ 0). @throws RangeError for negative values. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be ≥ 0, got ${ms}`);
    this.#now += ms;
  }
  /** Jump to `ms` (not earlier than now). @throws RangeError when going back. */
  set(ms: number): void {
    if (ms < this.#now)
      throw new RangeError(`ManualClock.set: cannot go back from ${this.#now} to ${ms}`);
    this.#now = ms;
  }
}
