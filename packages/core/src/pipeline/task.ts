/**
 * `PipelineTask`: runs one pipeline — setup, start, frames in, graceful end or cancel,
 * cleanup — and lets you observe every frame that moves.
 */
import mittImport from "mitt";
import type { Emitter, Handler } from "mitt";
import { Subject } from "rxjs";
import type { Observable } from "rxjs";
import type { Clock } from "../clock.js";
import { monotonicClock } from "../clock.js";
import {
  PipelineSetupError,
  StartFrameNotForwardedError,
  TimeoutError,
  withTimeout,
} from "../errors.js";
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  CancelFrame,
  CancelTaskFrame,
  EndFrame,
  EndTaskFrame,
  ErrorFrame,
  InterimTranscriptionFrame,
  InterruptionFrame,
  InterruptionTaskFrame,
  LLMTextFrame,
  StartFrame,
  StartOfTurnFrame,
  StopFrame,
  TranscriptionFrame,
  TTSAudioRawFrame,
  UserStartedSpeakingFrame,
} from "../frames.js";
import type { Frame } from "../frames.js";
import type { Logger } from "../logger.js";
import { rootLogger } from "../logger.js";
import { FrameProcessor } from "../processor.js";
import type { FrameDirection, FramePushedHook, ProcessorSetup } from "../processor.js";
import { flattenProcessors } from "./pipeline.js";

const mitt = mittImport as unknown as typeof mittImport.default;

/** A frame class, for `instanceof` checks (abstract classes allowed). */
export type FrameClass<T extends Frame = Frame> = abstract new (...args: never[]) => T;

/** One observed push: `processor` pushed `frame` in `direction` at `timestamp` (ms, task clock). */
export interface FrameEvent {
  readonly processor: FrameProcessor;
  readonly direction: FrameDirection;
  readonly frame: Frame;
  readonly timestamp: number;
}

/** How a run ended. */
export interface PipelineTaskResult {
  /**
   * `end`: the EndFrame reached the sink; `cancel`: cancelled; `error`: a fatal error
   * cancelled it; `stop`: a StopFrame reached the sink — processors were **not** cleaned
   * up (connections stay open) and can run again in a new task.
   */
  readonly reason: "end" | "cancel" | "error" | "stop";
  /** The fatal error, for `reason: "error"`. */
  readonly error?: ErrorFrame | undefined;
}

/** Options of {@link PipelineTask}. All durations in ms. */
export interface PipelineTaskParams {
  /** Allow interruptions (carried by the StartFrame; `InterruptionTaskFrame`s are ignored when false). Default true. */
  readonly allowInterruptions?: boolean;
  /** Emit `MetricsFrame`s (TTFB, processing). Default false. */
  readonly enableMetrics?: boolean;
  /** Emit usage metrics. Default false. */
  readonly enableUsageMetrics?: boolean;
  /** Report only the first TTFB per processor. Default false. */
  readonly reportOnlyInitialTtfb?: boolean;
  /** Input audio sample rate in Hz (StartFrame). Default 16000. */
  readonly audioInSampleRate?: number;
  /** Output audio sample rate in Hz (StartFrame). Default 24000. */
  readonly audioOutSampleRate?: number;
  /**
   * Without any `idleTimeoutFrames` activity for this long, emit `idleTimeout` (and cancel
   * when `cancelOnIdleTimeout`). `null` disables. Default 300000 (5 min, as Pipecat).
   */
  readonly idleTimeoutMs?: number | null;
  /** Frames that count as activity (checked where frames leave the pipeline). Default: speech, transcripts, bot audio/text. */
  readonly idleTimeoutFrames?: readonly FrameClass[];
  /** Cancel the task on idle timeout. Default true. */
  readonly cancelOnIdleTimeout?: boolean;
  /** Bound for all processors' `setup()`. Default 10000. */
  readonly setupTimeoutMs?: number;
  /** Bound for the StartFrame to reach the end of the pipeline. Default 2000. */
  readonly startTimeoutMs?: number;
  /** Bound for a cancel to complete. Default 2000. */
  readonly cancelTimeoutMs?: number;
  /** Bound for each processor's cleanup waiting on its tasks. Default 2000. */
  readonly cleanupTimeoutMs?: number;
  /** Soft bound of the task's input queue, in frames (`queueFrames` waits above it). Default 256. */
  readonly highWaterMark?: number;
  /** Clock for timestamps and metrics. Default `performance.now()`. */
  readonly clock?: Clock;
  /** Parent logger. Default the voxpipe root logger. */
  readonly logger?: Logger;
}

/** Events of {@link PipelineTask} (mitt). */
export type PipelineTaskEvents = {
  /** The StartFrame reached the end of the pipeline: every processor started. */
  started: StartFrame;
  /** The run finished (after cleanup), however it ended: also after a failed setup (`reason: "error"`). Emitted once. */
  finished: PipelineTaskResult;
  /** An `ErrorFrame` reached the task (pushed upstream by a processor). */
  error: ErrorFrame;
  /** No activity for `idleTimeoutMs`. */
  idleTimeout: undefined;
};

const DEFAULT_IDLE_FRAMES: readonly FrameClass[] = [
  UserStartedSpeakingFrame,
  StartOfTurnFrame,
  InterimTranscriptionFrame,
  TranscriptionFrame,
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  LLMTextFrame,
  TTSAudioRawFrame,
];

/** Head of the task's pipeline: turns upstream requests and errors into task actions. */
class TaskSource extends FrameProcessor {
  constructor(
    private readonly task: PipelineTask,
    highWaterMark: number | undefined,
  ) {
    super({ name: "PipelineTask.source", highWaterMark });
  }
  override process(frame: Frame, direction: FrameDirection): void {
    if (direction === "downstream") {
      this.push(frame, direction);
      return;
    }
    if (frame instanceof InterruptionTaskFrame) {
      if (this.interruptionsAllowed) this.push(new InterruptionFrame(), "downstream");
      return;
    }
    this.task._reachedEnd(frame);
  }
}

/** Tail of the task's pipeline: notices start, end and activity. */
class TaskSink extends FrameProcessor {
  constructor(private readonly task: PipelineTask) {
    super({ name: "PipelineTask.sink" });
  }
  override process(frame: Frame, direction: FrameDirection): void {
    if (direction === "upstream") {
      this.push(frame, direction);
      return;
    }
    this.task._reachedEnd(frame);
  }
  protected override onCancel(): void {
    this.task._cancelReachedSink();
  }
  /** Inject a frame travelling upstream from the end of the pipeline. */
  inject(frame: Frame): void {
    this.push(frame, "upstream");
  }
}

/**
 * Runs a pipeline.
 *
 * @example
 * ```ts
 * const task = new PipelineTask(new Pipeline([stt, userAgg, llm, tts, output, assistantAgg]), { enableMetrics: true });
 * task.frames$.subscribe((e) => console.log(e.processor.name, e.direction, e.frame.name));
 * task.queueFrames(frames);     // frames queued before run() wait for the StartFrame
 * const result = await task.run();
 * ```
 *
 * Lifecycle: `run()` sets up every processor (bounded by `setupTimeoutMs`; throws
 * {@link PipelineSetupError}), pushes a `StartFrame` and waits for it at the end of the
 * pipeline (a processor that swallows it makes `run()` throw
 * {@link StartFrameNotForwardedError} naming it — at once when its `process()` returns
 * without forwarding, else after `startTimeoutMs`), then runs until an `EndFrame`
 * reaches the end (`stopWhenDone()`, `EndTaskFrame`) or a cancel completes (`cancel()`,
 * `CancelTaskFrame`, fatal `ErrorFrame`, idle timeout), and cleans up.
 */
export class PipelineTask {
  /** Typed events. */
  readonly events: Emitter<PipelineTaskEvents> = mitt<PipelineTaskEvents>();
  /**
   * Every push of every processor, delivered asynchronously in batches (one microtask
   * per burst of pushes): subscriber code never runs inside the pipeline's call stack.
   * Costs one check per push while nobody subscribes. Completes when the task finishes,
   * however it ends: also when setup fails and when the task is cancelled before `run()`.
   */
  readonly frames$: Observable<FrameEvent>;

  readonly #pipeline: FrameProcessor;
  readonly #source: TaskSource;
  readonly #sink: TaskSink;
  readonly #params: PipelineTaskParams;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #subject = new Subject<FrameEvent>();
  // Observation is batched: pushes only append to this array; one microtask per burst
  // hands the events to subscribers, outside the pipeline's call stack.
  #pendingEvents: FrameEvent[] = [];
  #flushScheduled = false;
  readonly #flushEvents = (): void => {
    this.#flushScheduled = false;
    const batch = this.#pendingEvents;
    this.#pendingEvents = [];
    for (const event of batch) this.#subject.next(event);
  };
  readonly #idleFrames: readonly FrameClass[];

  #state: "idle" | "running" | "finished" = "idle";
  #started = false;
  #startError: Error | undefined;
  #fatal: ErrorFrame | undefined;
  #cancelRequested = false;
  #cancelTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #resolveStarted!: () => void;
  readonly #startedPromise = new Promise<void>((resolve) => {
    this.#resolveStarted = resolve;
  });
  #resolveFinished!: (result: PipelineTaskResult) => void;
  readonly #finishedPromise = new Promise<PipelineTaskResult>((resolve) => {
    this.#resolveFinished = resolve;
  });
  #result: PipelineTaskResult | undefined;
  #closed = false;

  /**
   * @param pipeline the processor to run (usually a `Pipeline`).
   * @param params see {@link PipelineTaskParams}.
   */
  constructor(pipeline: FrameProcessor, params: PipelineTaskParams = {}) {
    this.#pipeline = pipeline;
    this.#params = params;
    this.#clock = params.clock ?? monotonicClock;
    this.#logger = (params.logger ?? rootLogger()).child({ component: "PipelineTask" });
    this.#idleFrames = params.idleTimeoutFrames ?? DEFAULT_IDLE_FRAMES;
    this.#source = new TaskSource(this, params.highWaterMark);
    this.#sink = new TaskSink(this);
    // Linked by hand (not wrapped in a Pipeline) so the sink really is the end: nothing
    // follows it, and it is not expected to forward the StartFrame.
    this.#source.link(pipeline);
    pipeline.link(this.#sink);
    this.frames$ = this.#subject.asObservable();
  }

  /** The pipeline being run. */
  get pipeline(): FrameProcessor {
    return this.#pipeline;
  }

  /** Every leaf processor of the pipeline, in order. */
  get processors(): FrameProcessor[] {
    return flattenProcessors(this.#pipeline);
  }

  /** The task's clock. */
  get clock(): Clock {
    return this.#clock;
  }

  /** Whether the run has finished. */
  get hasFinished(): boolean {
    return this.#state === "finished";
  }

  /** Subscribe to a task event. */
  on<K extends keyof PipelineTaskEvents>(type: K, handler: Handler<PipelineTaskEvents[K]>): this {
    this.events.on(type, handler);
    return this;
  }

  /** Unsubscribe from a task event. */
  off<K extends keyof PipelineTaskEvents>(type: K, handler: Handler<PipelineTaskEvents[K]>): this {
    this.events.off(type, handler);
    return this;
  }

  /**
   * Queue a frame into the pipeline: downstream frames enter at the source, upstream
   * frames at the end. Frames queued before `run()` wait for the StartFrame. Ignored
   * (logged) after the task finished.
   */
  queueFrame(frame: Frame, direction: FrameDirection = "downstream"): void {
    if (this.#state === "finished") {
      this.#logger.debug({ frame: frame.name }, "task finished: frame ignored");
      return;
    }
    if (direction === "downstream") this.#source.queueFrame(frame, "downstream");
    else this.#sink.inject(frame);
  }

  /**
   * Queue frames downstream, waiting for capacity (backpressure) between frames when
   * the pipeline's head is saturated. Accepts arrays, iterables and async iterables.
   */
  async queueFrames(frames: Iterable<Frame> | AsyncIterable<Frame>): Promise<void> {
    if (Symbol.asyncIterator in frames) {
      for await (const frame of frames) {
        if (this.#source.isSaturated()) await this.#source.whenWritable();
        this.queueFrame(frame);
      }
      return;
    }
    for (const frame of frames) {
      if (this.#source.isSaturated()) await this.#source.whenWritable();
      this.queueFrame(frame);
    }
  }

  /** Graceful end: queue an `EndFrame` behind everything already queued. */
  stopWhenDone(reason?: string): void {
    this.queueFrame(new EndFrame({ reason }));
  }

  /**
   * Cancel now: a `CancelFrame` overtakes everything; resolves when the run finished
   * (at most `cancelTimeoutMs` later, even if a processor misbehaves).
   */
  async cancel(reason?: string): Promise<PipelineTaskResult> {
    if (this.#state === "idle") {
      this.#finish({ reason: "cancel" });
      this.#close({ reason: "cancel" });
      return this.#finishedPromise;
    }
    if (!this.#cancelRequested && this.#state === "running") {
      this.#cancelRequested = true;
      this.#cancelTimer = setTimeout(() => {
        const stuck = this.processors.filter((p) => !p.cancelled).map((p) => p.name);
        this.#logger.warn({ stuck }, "cancel did not reach the end of the pipeline in time");
        this.#finish({
          reason: this.#fatal !== undefined ? "error" : "cancel",
          error: this.#fatal,
        });
      }, this.#params.cancelTimeoutMs ?? 2000);
      this.#source.queueFrame(new CancelFrame({ reason }), "downstream");
    }
    return this.#finishedPromise;
  }

  /**
   * Run the pipeline to completion.
   *
   * @returns how the run ended.
   * @throws PipelineSetupError when a processor's setup fails or exceeds `setupTimeoutMs`.
   * @throws StartFrameNotForwardedError when the StartFrame does not reach the end.
   * @throws Error when called twice.
   */
  async run(): Promise<PipelineTaskResult> {
    if (this.#state === "finished") return this.#finishedPromise;
    if (this.#state !== "idle") throw new Error("PipelineTask.run() was already called");
    this.#state = "running";
    // A running task keeps the process alive even while no frame is moving (e.g. waiting
    // for a signal): without a pending timer Node would exit with an unsettled await.
    this.#keepAlive = setInterval(() => undefined, 1 << 30);
    const p = this.#params;
    const onFramePushed: FramePushedHook = (processor, direction, frame) => {
      if (this.#subject.observed) {
        this.#pendingEvents.push({ processor, direction, frame, timestamp: this.#clock.now() });
        if (!this.#flushScheduled) {
          this.#flushScheduled = true;
          queueMicrotask(this.#flushEvents);
        }
      }
    };
    const setup: ProcessorSetup = {
      clock: this.#clock,
      logger: p.logger,
      onFramePushed,
      cleanupTimeoutMs: p.cleanupTimeoutMs,
    };

    try {
      const setupMs = p.setupTimeoutMs ?? 10_000;
      const all = [this.#source, this.#pipeline, this.#sink];
      await withTimeout(Promise.all(all.map((x) => x.setup(setup))), setupMs, () => {
        const pending = this.processors.filter((x) => !x.isSetUp).map((x) => x.name);
        return `setup did not finish within ${setupMs} ms (pending: ${pending.join(", ")})`;
      });
    } catch (err) {
      await this.#cleanup();
      this.#finish({ reason: "error" });
      this.#close({ reason: "error" });
      if (err instanceof PipelineSetupError) throw err;
      throw new PipelineSetupError(err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }

    const start = new StartFrame({
      pts: this.#clock.now(),
      audioInSampleRate: p.audioInSampleRate,
      audioOutSampleRate: p.audioOutSampleRate,
      allowInterruptions: p.allowInterruptions,
      enableMetrics: p.enableMetrics,
      enableUsageMetrics: p.enableUsageMetrics,
      reportOnlyInitialTtfb: p.reportOnlyInitialTtfb,
    });
    this.#source.queueFrame(start, "downstream");
    const startMs = p.startTimeoutMs ?? 2000;
    try {
      await withTimeout(
        Promise.race([this.#startedPromise, this.#finishedPromise.then(() => undefined)]),
        startMs,
        () => "start timeout",
      );
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      const stuck = this.processors.find((x) => x.startState !== "forwarded");
      this.#startError = new StartFrameNotForwardedError(
        stuck?.name ?? "(unknown)",
        `it ${stuck?.startState === "pending" ? "never received" : "did not forward"} the StartFrame within ${startMs} ms`,
      );
      void this.cancel("start failed");
    }
    if (this.#started) this.#armIdleTimer();

    const result = await this.#finishedPromise;
    if (result.reason !== "stop") await this.#cleanup();
    this.#close(result);
    if (this.#startError !== undefined) throw this.#startError;
    return result;
  }

  // ---------------------------------------------------------------------------------
  // Internals (called by the task's source and sink)
  // ---------------------------------------------------------------------------------

  /** @internal A frame reached the end of the pipeline (downstream at the sink, upstream at the source). */
  _reachedEnd(frame: Frame): void {
    if (this.#idleTimer !== undefined) {
      for (const cls of this.#idleFrames) {
        if (frame instanceof cls) {
          this.#idleTimer.refresh();
          break;
        }
      }
    }
    if (frame.kind === "data") return;
    if (frame instanceof StartFrame) {
      this.#started = true;
      this.#resolveStarted();
      this.#emit("started", frame);
    } else if (frame instanceof EndFrame) {
      this.#finish({ reason: "end" });
    } else if (frame instanceof StopFrame) {
      this.#finish({ reason: "stop" });
    } else if (frame instanceof ErrorFrame) {
      this.#onError(frame);
    } else if (frame instanceof EndTaskFrame) {
      this.stopWhenDone(frame.reason);
    } else if (frame instanceof CancelTaskFrame) {
      void this.cancel(frame.reason);
    } else if (frame instanceof InterruptionTaskFrame) {
      if (this.#params.allowInterruptions ?? true) this.queueFrame(new InterruptionFrame());
    }
  }

  /** @internal The CancelFrame reached the sink. */
  _cancelReachedSink(): void {
    this.#finish({ reason: this.#fatal !== undefined ? "error" : "cancel", error: this.#fatal });
  }

  #onError(frame: ErrorFrame): void {
    this.#emit("error", frame);
    if (!frame.fatal) {
      this.#logger.warn({ processor: frame.processor?.name, error: frame.error }, "pipeline error");
      return;
    }
    this.#logger.error(
      { processor: frame.processor?.name, error: frame.error },
      "fatal pipeline error: cancelling",
    );
    this.#fatal ??= frame;
    if (!this.#started && this.#startError === undefined) {
      this.#startError =
        frame.cause instanceof StartFrameNotForwardedError
          ? frame.cause
          : new Error(frame.error, { cause: frame.cause });
    }
    void this.cancel(`fatal error: ${frame.error}`);
  }

  #armIdleTimer(): void {
    const ms = this.#params.idleTimeoutMs === undefined ? 300_000 : this.#params.idleTimeoutMs;
    if (ms === null || this.#state !== "running") return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#logger.info({ idleTimeoutMs: ms }, "idle timeout");
      this.#emit("idleTimeout", undefined);
      if (this.#params.cancelOnIdleTimeout ?? true) void this.cancel("idle timeout");
    }, ms);
  }

  #finish(result: PipelineTaskResult): void {
    if (this.#result !== undefined) return;
    this.#result = result;
    this.#state = "finished";
    clearTimeout(this.#cancelTimer);
    clearTimeout(this.#idleTimer);
    clearInterval(this.#keepAlive);
    this.#idleTimer = undefined;
    this.#resolveFinished(result);
  }

  /**
   * Every way a task ends goes through here (including a failed setup and a cancel before
   * `run()`), so `frames$` always completes and `finished` is always emitted, once.
   */
  #close(result: PipelineTaskResult): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flushEvents();
    this.#subject.complete();
    this.#emit("finished", result);
  }

  async #cleanup(): Promise<void> {
    const bound = (this.#params.cleanupTimeoutMs ?? 2000) * 2;
    try {
      const all = [this.#source, this.#pipeline, this.#sink];
      await withTimeout(
        Promise.all(all.map((x) => x.cleanup())),
        bound,
        () => `cleanup did not finish within ${bound} ms`,
      );
    } catch (err) {
      this.#logger.warn({ err }, "cleanup failed");
    }
  }

  #emit<K extends keyof PipelineTaskEvents>(type: K, payload: PipelineTaskEvents[K]): void {
    try {
      this.events.emit(type, payload);
    } catch (err) {
      this.#logger.error({ err, event: type }, "task event handler threw");
    }
  }
}
