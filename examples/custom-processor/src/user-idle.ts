import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  EndTaskFrame,
  FrameProcessor,
  StartOfTurnFrame,
  TTSSpeakFrame,
  UserStartedSpeakingFrame,
} from "@voxpipe/core";
import type {
  Frame,
  FrameDirection,
  FrameProcessorEvents,
  FrameProcessorOptions,
} from "@voxpipe/core";

/** Events of {@link UserIdleProcessor}: typed, so `on("userIdle", ({ count }) => …)` is checked. */
export type UserIdleEvents = FrameProcessorEvents & {
  /** The user stayed silent for `timeoutMs` after the bot spoke; `count` prompts so far. */
  userIdle: { readonly count: number };
};

/** Options of {@link UserIdleProcessor}. */
export interface UserIdleOptions extends FrameProcessorOptions {
  /** Silence after the bot stops speaking before prompting, ms. Default 8000. */
  readonly timeoutMs?: number;
  /** What the bot says when the user is silent. Default "Are you still there?". */
  readonly prompt?: string;
  /** After this many unanswered prompts, end the call gracefully. Default 2. */
  readonly maxPrompts?: number;
}

/**
 * Prompts a silent user, then hangs up politely.
 *
 * When the bot stops speaking (`BotStoppedSpeakingFrame`, which output transports push
 * upstream and downstream), a timer starts. If the user starts a turn or the bot speaks
 * again, the timer stops. If it fires, the processor pushes `TTSSpeakFrame(prompt)`
 * downstream and emits `userIdle`; after `maxPrompts` unanswered prompts it asks the task
 * to end (`EndTaskFrame` upstream). Place it before the TTS service.
 *
 * It shows the parts of a custom processor: `process` handles its frames and forwards
 * every frame (this one swallows none), lifecycle hooks release the timer, and events are
 * typed.
 */
export class UserIdleProcessor extends FrameProcessor<UserIdleEvents> {
  readonly #timeoutMs: number;
  readonly #prompt: string;
  readonly #maxPrompts: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unanswered = 0;

  /** @throws RangeError when `timeoutMs` is not a positive number of ms or `maxPrompts` < 0. */
  constructor(options: UserIdleOptions = {}) {
    super(options);
    this.#timeoutMs = options.timeoutMs ?? 8000;
    this.#prompt = options.prompt ?? "Are you still there?";
    this.#maxPrompts = options.maxPrompts ?? 2;
    if (!(this.#timeoutMs > 0)) {
      throw new RangeError(
        `UserIdleProcessor: timeoutMs must be a positive number of ms, got ${this.#timeoutMs}`,
      );
    }
    if (!Number.isInteger(this.#maxPrompts) || this.#maxPrompts < 0) {
      throw new RangeError(
        `UserIdleProcessor: maxPrompts must be an integer ≥ 0, got ${this.#maxPrompts}`,
      );
    }
  }

  override process(frame: Frame, direction: FrameDirection): void {
    // Bot-speaking frames travel both ways; react to the downstream copy only.
    if (direction === "downstream") {
      if (frame instanceof BotStoppedSpeakingFrame) this.#arm();
      else if (frame instanceof BotStartedSpeakingFrame) this.#disarm();
      else if (frame instanceof StartOfTurnFrame || frame instanceof UserStartedSpeakingFrame) {
        this.#unanswered = 0;
        this.#disarm();
      }
    }
    this.push(frame, direction);
  }

  protected override onEnd(): void {
    this.#disarm();
  }

  protected override onCancel(): void {
    this.#disarm();
  }

  protected override onCleanup(): void {
    this.#disarm();
  }

  #arm(): void {
    this.#disarm();
    this.#timer = setTimeout(() => this.#onIdle(), this.#timeoutMs);
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onIdle(): void {
    this.#timer = undefined;
    if (this.#unanswered >= this.#maxPrompts) {
      this.logger.info({ prompts: this.#unanswered }, "user idle: ending the call");
      this.push(new EndTaskFrame({ reason: "user idle" }), "upstream");
      return;
    }
    this.#unanswered++;
    this.emit("userIdle", { count: this.#unanswered });
    this.push(new TTSSpeakFrame({ text: this.#prompt }));
  }
}
