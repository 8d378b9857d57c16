/**
 * Flow control for fast input ("as fast as the provider accepts"): the consumer reports how
 * much audio it has answered (e.g. the `audio_window_end` of Flux's latest TurnInfo), and
 * {@link InputFlowControl.backpressure}, given to an input transport, holds the input back
 * while it is more than `maxAheadSeconds` ahead of that. A slow provider then never has a
 * large backlog when the input ends, so the graceful close still gets the last result.
 */
export class InputFlowControl {
  #answered = 0;
  #wake: (() => void) | undefined;

  /** @param maxAheadSeconds how far the input may run ahead of the answered audio, s (> 0). Default 3. */
  constructor(readonly maxAheadSeconds = 3) {
    if (!(maxAheadSeconds > 0)) {
      throw new RangeError(
        `maxAheadSeconds must be a positive number of seconds, got ${String(maxAheadSeconds)}`,
      );
    }
  }

  /** Seconds of audio the consumer has answered so far. */
  get answeredSeconds(): number {
    return this.#answered;
  }

  /** The consumer has answered audio up to `seconds` (from the start of the input). */
  answered(seconds: number): void {
    if (seconds <= this.#answered) return;
    this.#answered = seconds;
    this.#wake?.();
  }

  /** Pass as an input transport's `backpressure`: resolves once `emittedSeconds` is within reach. */
  readonly backpressure = async (emittedSeconds: number, signal: AbortSignal): Promise<void> => {
    while (emittedSeconds - this.#answered > this.maxAheadSeconds && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          this.#wake = undefined;
          resolve();
        };
        // Re-check every second even if the consumer is silent (e.g. reconnecting).
        const timer = setTimeout(done, 1000);
        signal.addEventListener("abort", done, { once: true });
        this.#wake = done;
      });
    }
  };
}
