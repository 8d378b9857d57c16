/**
 * One real-time clock for every session of a benchmark run: a single timer ticks once per audio
 * frame and the callback feeds every session, instead of one timer per session. Both clients
 * under test get their audio from the same pacer, so the timer cost is identical and small.
 *
 * Ticks are scheduled against the start time (not the previous tick), so lateness does not
 * accumulate: when the event loop falls behind, the missed frames are sent at the next tick,
 * keeping the stream at real-time pace on average.
 */
export class FramePacer {
  readonly #frameMs: number;
  readonly #onFrame: (frameIndex: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #sent = 0;
  /** Ticks that had to catch up more than one frame (event-loop lag). */
  lateTicks = 0;

  /**
   * @param frameMs audio per frame, ms.
   * @param onFrame called once per frame of audio time, in order, with a 0-based frame index.
   */
  constructor(frameMs: number, onFrame: (frameIndex: number) => void) {
    this.#frameMs = frameMs;
    this.#onFrame = onFrame;
  }

  /** Frames delivered so far. */
  get framesSent(): number {
    return this.#sent;
  }

  /** Starts ticking; the first frame goes out immediately. */
  start(): void {
    this.#startedAt = performance.now();
    this.#tick();
  }

  /** Stops ticking. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const due = Math.floor((performance.now() - this.#startedAt) / this.#frameMs) + 1;
    if (due - this.#sent > 1) this.lateTicks += 1;
    while (this.#sent < due) this.#onFrame(this.#sent++);
    const next = this.#startedAt + this.#sent * this.#frameMs;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, next - performance.now()));
  }
}
