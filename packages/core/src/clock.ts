/**
 * Time sources for the pipeline.
 *
 * Frame timestamps (`pts`, observer event times, metrics) are **milliseconds of a
 * monotonic clock** (`performance.now()` by default): wall-clock time can jump
 * (NTP, DST) and would make latency figures lie. Audio times that providers put on
 * the wire (Flux word `start`/`end`, `audio_window_*`) stay in seconds of audio,
 * exactly as the wire gives them.
 */

/** A monotonic time source in milliseconds. Inject one to control time in tests. */
export interface Clock {
  /** Current time in ms (monotonic, arbitrary origin). */
  now(): number;
}

/** The default clock: `performance.now()` (ms, monotonic; faked by `vi.useFakeTimers()`). */
export const monotonicClock: Clock = {
  now: () => performance.now(),
};
