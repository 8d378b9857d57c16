import type { DeepgramFluxSTTService, FluxTurnEvent, FluxEndOfTurnEvent } from "@voxpipe/deepgram";

/**
 * Flow control for `--fast`: holds the input back while it is more than `maxAheadSeconds`
 * ahead of the audio Flux has answered (the `audio_window_end` of its latest TurnInfo), so a
 * file goes "as fast as the provider accepts" rather than all at once — a slow server (the local
 * engine on a busy machine) then never has minutes of backlog when the input ends, and the
 * graceful close still gets the last turn.
 */
export class FluxFlowControl {
  #answered = 0;
  #wake: (() => void) | undefined;

  constructor(
    stt: DeepgramFluxSTTService,
    readonly maxAheadSeconds = 3,
  ) {
    const onEvent = (e: FluxTurnEvent | FluxEndOfTurnEvent): void => {
      if (e.audioWindowEnd > this.#answered) this.#answered = e.audioWindowEnd;
      this.#wake?.();
    };
    for (const name of [
      "startOfTurn",
      "update",
      "eagerEndOfTurn",
      "turnResumed",
      "endOfTurn",
    ] as const) {
      stt.on(name, onEvent);
    }
  }

  /** Seconds of audio Flux has answered so far. */
  get answeredSeconds(): number {
    return this.#answered;
  }

  /** Resolves once `sentSeconds` is within `maxAheadSeconds` of the answered audio. */
  async wait(sentSeconds: number, signal: AbortSignal): Promise<void> {
    while (sentSeconds - this.#answered > this.maxAheadSeconds && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          this.#wake = undefined;
          resolve();
        };
        // Re-check every second even if Flux is silent (e.g. while reconnecting).
        const timer = setTimeout(done, 1000);
        signal.addEventListener("abort", done, { once: true });
        this.#wake = done;
      });
    }
  }
}
