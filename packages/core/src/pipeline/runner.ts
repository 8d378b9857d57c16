/**
 * `PipelineRunner`: runs a task as a program — SIGINT/SIGTERM end it gracefully, a
 * second signal cancels it.
 */
import type { Logger } from "../logger.js";
import { rootLogger } from "../logger.js";
import type { PipelineTask, PipelineTaskResult } from "./task.js";

/** The signals the runner handles. */
export type RunnerSignal = "SIGINT" | "SIGTERM";

/** Where signals come from: Node's `process`, or any emitter with the same shape (tests). */
export interface SignalSource {
  on(event: RunnerSignal, listener: () => void): unknown;
  off(event: RunnerSignal, listener: () => void): unknown;
}

/** Options of {@link PipelineRunner}. */
export interface PipelineRunnerOptions {
  /** Handle SIGINT (Ctrl-C). Default true. */
  readonly handleSigint?: boolean;
  /** Handle SIGTERM. Default true. */
  readonly handleSigterm?: boolean;
  /** Signal source. Default `process`. */
  readonly signals?: SignalSource;
  /** Logger. Default the voxpipe root logger. */
  readonly logger?: Logger;
}

/**
 * Runs a {@link PipelineTask} with signal handling: the first SIGINT/SIGTERM queues an
 * `EndFrame` (graceful: everything queued is flushed, services close cleanly), a second
 * one cancels (`CancelFrame`, bounded by the task's `cancelTimeoutMs`). Handlers are
 * removed when the run ends, so the process's default behaviour comes back.
 *
 * @example
 * ```ts
 * await new PipelineRunner().run(task);
 * ```
 */
export class PipelineRunner {
  readonly #options: PipelineRunnerOptions;
  readonly #logger: Logger;

  constructor(options: PipelineRunnerOptions = {}) {
    this.#options = options;
    this.#logger = (options.logger ?? rootLogger()).child({ component: "PipelineRunner" });
  }

  /** Run `task` to completion. Rejects only when `task.run()` does (setup/start failures). */
  async run(task: PipelineTask): Promise<PipelineTaskResult> {
    const signals = this.#options.signals ?? process;
    const handled: RunnerSignal[] = [];
    if (this.#options.handleSigint ?? true) handled.push("SIGINT");
    if (this.#options.handleSigterm ?? true) handled.push("SIGTERM");
    let received = 0;
    let cancelling: Promise<unknown> | undefined;
    const onSignal = (signal: RunnerSignal): void => {
      received++;
      if (received === 1) {
        this.#logger.info({ signal }, "signal received: ending gracefully (send again to cancel)");
        task.stopWhenDone(`${signal} received`);
      } else if (cancelling === undefined) {
        this.#logger.warn({ signal }, "second signal: cancelling");
        cancelling = task.cancel(`${signal} received twice`);
      }
    };
    const listeners = handled.map((signal) => {
      const listener = (): void => onSignal(signal);
      signals.on(signal, listener);
      return [signal, listener] as const;
    });
    try {
      return await task.run();
    } finally {
      for (const [signal, listener] of listeners) signals.off(signal, listener);
      await cancelling;
    }
  }
}
