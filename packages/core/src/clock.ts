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

/**
 * Waits `ms` milliseconds on the global `setTimeout` — so `vi.useFakeTimers()` drives it,
 * which it does not for `node:timers/promises` — or rejects with `signal`'s reason (an
 * `AbortError` by default) once it aborts. Use it for every wait whose timing a test must
 * control (retry delays, close bounds, simulated work).
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
