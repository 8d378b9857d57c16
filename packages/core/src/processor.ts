/**
 * `FrameProcessor`: the unit of a pipeline.
 *
 * ## Scheduling model (why it is built this way)
 *
 * Each processor has two lanes:
 *
 * - the **system lane** for `system` frames: they run as soon as they arrive, even while
 *   the ordered lane is busy with slow work (an LLM stream) — this is what lets an
 *   `InterruptionFrame` or `CancelFrame` preempt. System frames are serialized among
 *   themselves (an async system handler holds the next system frame back).
 * - the **ordered lane** for `data` and `control` frames (both directions): strict FIFO,
 *   one frame at a time. Turn frames, transcriptions, `EndFrame` and settings all live
 *   here, so their relative order is kept end to end by construction.
 *
 * **Fast path.** When a lane is idle and its queue empty, the frame is processed *inline*
 * in the caller's call stack: `push` → `next.queueFrame` → `process` → `push` … with no
 * promise or microtask per hop. A frame is queued only when the lane is busy (an async
 * `process()` in flight, or a re-entrant push), and the queue drains when the work ends.
 * This keeps per-hop overhead at a function call or two (see `pnpm bench:core`).
 *
 * **Backpressure.** The ordered queue has a soft bound (`highWaterMark`, default 256
 * frames): while the downstream neighbour is over it, a processor stops taking data
 * frames off its own queue, so the pressure propagates up to the producer, which waits
 * with `whenWritable()` (`PipelineTask.queueFrames` does). System frames ignore the bound.
 * Nothing is ever dropped because of the bound.
 *
 * **Interruption.** An `InterruptionFrame` aborts the processor's current
 * `AbortController` (in-flight work holding `this.signal` sees it at once), replaces it
 * with a fresh one, drops queued interruptible frames (keeping uninterruptible ones in
 * order) and, if the in-flight frame is interruptible, abandons it: the lane moves on
 * immediately instead of waiting for the aborted work to unwind (that promise is still
 * tracked and awaited at cleanup).
 *
 * **Generation fence.** Work abandoned by an interruption may still be running (a user
 * `process()` that awaited a timer or an HTTP call and knows nothing of `this.signal`).
 * Whatever it pushes afterwards is stale: interruptible frames it pushes are dropped. The
 * base class knows which work pushes through Node's `AsyncLocalStorage`: each interruptible
 * ordered frame, and each `createTask(…, { interruptible: true })`, runs with a token that
 * the interruption marks abandoned (system frames and uninterruptible frames always pass;
 * non-interruptible tasks run without a token, they outlive interruptions by design).
 *
 * **Lifecycle.** `setup()` (connect; bounded by the task) → `StartFrame` (`onStart`, then
 * forwarded; a processor that does not forward it raises a fatal error naming it as soon
 * as its `process()` returns) → … → `EndFrame` (in order: `onEnd` flushes, then it is
 * forwarded) or `CancelFrame` (immediate: queues cleared, work aborted, forwarded by the
 * base class itself so it always reaches the end, then `onCancel`) → `cleanup()`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import mittImport from "mitt";
import type { Emitter, EventType, Handler } from "mitt";
import type { Clock } from "./clock.js";
import { monotonicClock } from "./clock.js";
import { Deque } from "./deque.js";
import {
  PipelineSetupError,
  StartFrameNotForwardedError,
  interruptedReason,
  isAbortError,
} from "./errors.js";
import {
  CancelFrame,
  EndFrame,
  ErrorFrame,
  InterruptionFrame,
  MetricsFrame,
  StartFrame,
} from "./frames.js";
import type { Frame, MetricsData } from "./frames.js";
import type { Logger } from "./logger.js";
import { rootLogger } from "./logger.js";

/** Direction of travel: `downstream` = source → sink; `upstream` = sink → source. */
export type FrameDirection = "downstream" | "upstream";

/** Anything that can receive frames: a processor, or a pipeline's internal edge. */
export interface FrameReceiver {
  /** Hand a frame to the receiver (never throws, never blocks). */
  queueFrame(frame: Frame, direction: FrameDirection): void;
  /** True while the receiver's ordered queue is over its high-water mark. */
  isSaturated(): boolean;
  /** Resolves when the receiver is no longer saturated (at once if it isn't). */
  whenWritable(): Promise<void>;
}

/** Called on every push when the task observes frames (see `PipelineTask.frames$`). */
export type FramePushedHook = (
  processor: FrameProcessor,
  direction: FrameDirection,
  frame: Frame,
) => void;

/** What `setup()` receives from the task. */
export interface ProcessorSetup {
  /** Monotonic clock (ms). */
  readonly clock: Clock;
  /** Parent logger; processors log through `logger.child({ processor: name })`. */
  readonly logger?: Logger | undefined;
  /** Observation hook, set only by the task. */
  readonly onFramePushed?: FramePushedHook | undefined;
  /** Bound for `cleanup()` waiting on tracked tasks, ms. Default 2000. */
  readonly cleanupTimeoutMs?: number | undefined;
}

/** Constructor options of {@link FrameProcessor}. */
export interface FrameProcessorOptions {
  /** Name for logs, errors and observers. Default `"<ClassName>#<n>"`. */
  readonly name?: string | undefined;
  /** Soft bound of the ordered queue, in frames (see "Backpressure"). Default 256. */
  readonly highWaterMark?: number | undefined;
}

/**
 * Events every processor emits (mitt). Handlers run synchronously; an exception in a
 * handler is logged, never propagated into the pipeline.
 */
export type FrameProcessorEvents = {
  /** The processor reported an error (also pushed upstream as an `ErrorFrame`). */
  error: ErrorFrame;
  /** The processor handled the `StartFrame`. */
  started: StartFrame;
  /** The processor handled the `EndFrame` (after `onEnd`). */
  ended: EndFrame;
  /** The processor was cancelled. */
  cancelled: CancelFrame;
  /** The processor handled an `InterruptionFrame` (in-flight work aborted, queue flushed). */
  interrupted: InterruptionFrame;
};

/** Where the processor is in forwarding the StartFrame. */
export type StartState = "pending" | "received" | "forwarded";

/** Options of {@link FrameProcessor.createTask}. */
export interface TaskOptions {
  /** Abort the task on the next interruption too (not only on cancel/cleanup). Default false. */
  readonly interruptible?: boolean;
}

/**
 * The unit of interruptible work a push comes from (see "Generation fence"). Node's
 * `AsyncLocalStorage` carries it across awaits: no other way tells which work pushes.
 */
interface WorkToken {
  readonly owner: object;
  abandoned: boolean;
}
const currentWork = new AsyncLocalStorage<WorkToken | undefined>();

interface Queued {
  readonly frame: Frame;
  readonly direction: FrameDirection;
}

// mitt ships ESM at runtime but CommonJS-style typings; under NodeNext the default
// import is typed as the module object, while at runtime it is the function.
const mitt = mittImport as unknown as typeof mittImport.default;

const processorCounters = new Map<string, number>();

function defaultName(ctor: { name: string }): string {
  const n = (processorCounters.get(ctor.name) ?? 0) + 1;
  processorCounters.set(ctor.name, n);
  return `${ctor.name}#${n}`;
}

/** `processor.process(frame, direction)`, as a plain function for `AsyncLocalStorage.run` (no closure per frame). */
function callProcess(
  processor: FrameProcessor,
  frame: Frame,
  direction: FrameDirection,
): void | Promise<void> {
  return processor.process(frame, direction);
}

/** Run `a` then `b`: synchronously when `a` is synchronous (the fast path), else chained. */
function seq(a: () => void | Promise<void>, b: () => void | Promise<void>): void | Promise<void> {
  const r = a();
  return r === undefined ? b() : r.then(b);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Base class of every processor. Override {@link process} to handle frames; forward
 * everything you do not handle (the default implementation forwards every frame).
 *
 * @example
 * ```ts
 * class Uppercase extends FrameProcessor {
 *   override process(frame: Frame, direction: FrameDirection) {
 *     if (frame instanceof TextFrame) this.push(new TextFrame({ text: frame.text.toUpperCase() }), direction);
 *     else this.push(frame, direction);
 *   }
 * }
 * ```
 */
export class FrameProcessor<
  TEvents extends FrameProcessorEvents = FrameProcessorEvents,
> implements FrameReceiver {
  /** Unique name (`options.name` or `"<ClassName>#<n>"`). */
  readonly name: string;

  // Typed through on/off/emit; stored untyped so that a subclass with more events is
  // still assignable to FrameProcessor (mitt's Emitter type is invariant).
  readonly #events: Emitter<Record<EventType, unknown>>;
  #prev: FrameReceiver | undefined;
  #next: FrameReceiver | undefined;
  #logger: Logger | undefined;
  #parentLogger: Logger | undefined;
  #clock: Clock = monotonicClock;
  #onPush: FramePushedHook | undefined;
  #cleanupTimeoutMs = 2000;
  readonly #highWaterMark: number;

  // Ordered lane.
  readonly #queue = new Deque<Queued>();
  #busy = false;
  #draining = false;
  #waitingDownstream = false;
  #current: Frame | undefined;
  /** The in-flight interruptible frame's work token (abandoned by the next interruption). */
  #currentWork: WorkToken | undefined;
  /** Running interruptible tasks' tokens (abandoned by the next interruption). */
  readonly #taskWork = new Set<WorkToken>();
  /** Frames the generation fence dropped (stale pushes of interrupted work). */
  #fencedFrames = 0;
  #generation = 0;
  #drainWaiters: (() => void)[] | undefined;

  // System lane.
  readonly #sysQueue = new Deque<Queued>();
  #sysBusy = false;
  #sysDraining = false;

  // Lifecycle.
  #setUp = false;
  #startFrame: StartFrame | undefined;
  #startState: StartState = "pending";
  #started = false;
  #ended = false;
  #endForwarded: EndFrame | undefined;
  #cancelled = false;
  // Created lazily on first use of `signal`: a processor whose work never reads the
  // signal pays nothing for interruptions (no controller, no abort event).
  #controller: AbortController | undefined;
  #interruptReason: DOMException | undefined;
  readonly #lifetime = new AbortController();
  readonly #tasks = new Set<Promise<unknown>>();

  // Metrics.
  #ttfbStart: number | undefined;
  #ttfbReported = false;
  #processingStart: number | undefined;

  constructor(options: FrameProcessorOptions = {}) {
    this.name = options.name ?? defaultName(this.constructor);
    this.#highWaterMark = options.highWaterMark ?? 256;
    this.#events = mitt<Record<EventType, unknown>>();
  }

  // -------------------------------------------------------------------------------------
  // Public surface
  // -------------------------------------------------------------------------------------

  /** Subscribe to an event. */
  on<K extends keyof TEvents>(type: K, handler: Handler<TEvents[K]>): this {
    this.#events.on(type as EventType, handler as Handler<unknown>);
    return this;
  }

  /** Unsubscribe from an event. */
  off<K extends keyof TEvents>(type: K, handler: Handler<TEvents[K]>): this {
    this.#events.off(type as EventType, handler as Handler<unknown>);
    return this;
  }

  /** Link `next` downstream of this processor (and this upstream of it). Returns `next`. */
  link<P extends FrameReceiver & { setPrev(receiver: FrameReceiver | undefined): void }>(
    next: P,
  ): P {
    this.setNext(next);
    next.setPrev(this);
    return next;
  }

  /** @internal Set the downstream receiver (pipelines use this for their internal edges). */
  setNext(receiver: FrameReceiver | undefined): void {
    this.#next = receiver;
  }

  /** @internal Set the upstream receiver. */
  setPrev(receiver: FrameReceiver | undefined): void {
    this.#prev = receiver;
  }

  /** Child processors (pipelines return theirs; a plain processor has none). */
  get processors(): readonly FrameProcessor[] {
    return [];
  }

  /** The pipeline's clock (ms, monotonic). */
  get clock(): Clock {
    return this.#clock;
  }

  /** Structured logger bound to this processor (`{ processor: name }`). */
  get logger(): Logger {
    this.#logger ??= (this.#parentLogger ?? rootLogger()).child({ processor: this.name });
    return this.#logger;
  }

  /**
   * Signal for the current unit of interruptible work. Aborted by the next
   * `InterruptionFrame` (then replaced by a fresh one), by `CancelFrame` and at cleanup.
   * Capture it when work starts (`const signal = this.signal`) and pass it to fetches and
   * streams; check `signal.aborted` before pushing results.
   */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** Signal aborted only when the processor is cancelled or cleaned up. */
  get lifetimeSignal(): AbortSignal {
    return this.#lifetime.signal;
  }

  /** The StartFrame this processor received (sample rates, flags), once started. */
  get startFrame(): StartFrame | undefined {
    return this.#startFrame;
  }

  /** Whether the StartFrame has been handled. */
  get started(): boolean {
    return this.#started;
  }

  /** Where the processor is in forwarding the StartFrame (used by the task's start check). */
  get startState(): StartState {
    return this.#startState;
  }

  /** Whether the EndFrame has been handled. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether a CancelFrame has been handled (all further frames are ignored). */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Whether interruptions are allowed in this run (from the StartFrame; default true). */
  get interruptionsAllowed(): boolean {
    return this.#startFrame?.allowInterruptions ?? true;
  }

  /** Whether metrics are enabled in this run (from the StartFrame). */
  get metricsEnabled(): boolean {
    return this.#startFrame?.enableMetrics ?? false;
  }

  /** Interruptible frames dropped because work abandoned by an interruption pushed them. */
  get fencedFrames(): number {
    return this.#fencedFrames;
  }

  /** Frames waiting in the ordered lane (for tests and diagnostics). */
  get queuedFrames(): number {
    return this.#queue.length;
  }

  /**
   * Prepare resources before the run (connect to a provider). Called by the task,
   * bounded by its `setupTimeoutMs`. Override {@link onSetup} rather than this method.
   */
  async setup(setup: ProcessorSetup): Promise<void> {
    this.#clock = setup.clock;
    this.#onPush = setup.onFramePushed;
    if (setup.logger !== undefined && setup.logger !== this.#parentLogger) {
      this.#parentLogger = setup.logger;
      this.#logger = undefined;
    }
    if (setup.cleanupTimeoutMs !== undefined) this.#cleanupTimeoutMs = setup.cleanupTimeoutMs;
    try {
      await this.onSetup(setup);
    } catch (err) {
      throw new PipelineSetupError(`${this.name}: setup failed: ${describe(err)}`, { cause: err });
    }
    this.#setUp = true;
  }

  /** Whether `setup()` completed (the task names processors whose setup is still pending). */
  get isSetUp(): boolean {
    return this.#setUp;
  }

  /**
   * Release resources after the run: aborts all work, waits for tracked tasks (bounded
   * by `cleanupTimeoutMs`, default 2000 ms; stragglers are logged), then {@link onCleanup}.
   */
  async cleanup(): Promise<void> {
    const reason = new DOMException(`${this.name}: cleanup`, "AbortError");
    this.#lifetime.abort(reason);
    this.#controller?.abort(reason);
    this.#releaseDrainWaiters();
    await this.#settleTasks(this.#cleanupTimeoutMs);
    await this.onCleanup();
  }

  /**
   * Receive a frame (the neighbour's `push` calls this). Never throws; processing errors
   * are reported as `ErrorFrame`s upstream.
   */
  queueFrame(frame: Frame, direction: FrameDirection = "downstream"): void {
    if (this.#cancelled) return;
    if (frame.kind === "system") {
      if (frame instanceof CancelFrame) {
        this.#cancel(frame, direction);
        return;
      }
      const isStart = frame instanceof StartFrame;
      if (this.#sysBusy || (!this.#started && !isStart)) {
        this.#sysQueue.push({ frame, direction });
        return;
      }
      this.#runSystem(frame, direction);
      return;
    }
    if (
      this.#busy ||
      !this.#started ||
      this.#queue.length !== 0 ||
      this.#waitingDownstream ||
      (direction === "downstream" &&
        frame.kind === "data" &&
        this.#next !== undefined &&
        this.#next.isSaturated())
    ) {
      this.#queue.push({ frame, direction });
      if (!this.#busy && this.#started && !this.#draining) this.#drain();
      return;
    }
    this.#runOrdered(frame, direction);
  }

  /** True while the ordered queue holds `highWaterMark` frames or more. */
  isSaturated(): boolean {
    return !this.#cancelled && this.#queue.length >= this.#highWaterMark;
  }

  /** Resolves once the ordered queue is at or below half its high-water mark. */
  whenWritable(): Promise<void> {
    if (!this.isSaturated()) return Promise.resolve();
    return new Promise((resolve) => {
      (this.#drainWaiters ??= []).push(resolve);
    });
  }

  // -------------------------------------------------------------------------------------
  // For subclasses
  // -------------------------------------------------------------------------------------

  /**
   * Handle one frame. The default forwards it unchanged. Override to handle your
   * frames, and forward the rest (`this.push(frame, direction)` or `super.process`).
   * May be async: the ordered lane waits for it (system frames still get through).
   * Lifecycle frames arrive here too — after `onStart`/`onEnd`/`onInterruption` ran —
   * and must be forwarded: a swallowed `StartFrame` fails the run at once
   * ({@link StartFrameNotForwardedError}, a bug caught early); a swallowed or failed
   * `EndFrame` is forwarded by the base class with a warning (an end must finish).
   * `CancelFrame` is forwarded by the base class and never reaches `process`.
   */
  process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    this.push(frame, direction);
  }

  /**
   * Send a frame to the neighbour in `direction` (default downstream). Synchronous and
   * cheap; with no neighbour the frame is dropped (logged at debug).
   */
  push(frame: Frame, direction: FrameDirection = "downstream"): void {
    if (frame.kind !== "system" && !frame.uninterruptible) {
      const work = currentWork.getStore();
      if (work !== undefined && work.abandoned && work.owner === this) {
        // Stale: the work that pushes was abandoned by an interruption (generation fence).
        this.#fencedFrames++;
        if (this.#logger?.isLevelEnabled("debug") === true) {
          this.logger.debug({ frame: frame.name }, "push from interrupted work dropped");
        }
        return;
      }
    }
    if (direction === "downstream") {
      if (frame.kind === "system") {
        if (frame instanceof StartFrame) this.#startState = "forwarded";
      } else if (frame.kind === "control" && frame instanceof EndFrame) {
        this.#endForwarded = frame;
      }
    }
    const hook = this.#onPush;
    if (hook !== undefined) hook(this, direction, frame);
    this.deliver(frame, direction);
  }

  /** Push without observation (pipelines use it to pass frames across their edges). */
  protected deliver(frame: Frame, direction: FrameDirection): void {
    const target = direction === "downstream" ? this.#next : this.#prev;
    if (target !== undefined) target.queueFrame(frame, direction);
    else if (this.#logger?.isLevelEnabled("trace") === true) {
      this.logger.trace({ frame: frame.name, direction }, "no neighbour: frame dropped");
    }
  }

  /**
   * Report an error: logs it, emits `error` and pushes an `ErrorFrame` **upstream** (the
   * task emits it; a fatal one cancels the run). Never throws.
   */
  pushError(error: string | Error, options: { fatal?: boolean; cause?: unknown } = {}): void {
    const message = typeof error === "string" ? error : error.message;
    const frame = new ErrorFrame({
      error: message,
      fatal: options.fatal ?? false,
      processor: this,
      cause: options.cause ?? (typeof error === "string" ? undefined : error),
    });
    this.logger.error({ err: frame.cause, fatal: frame.fatal }, message);
    this.#emitBase("error", frame);
    this.push(frame, "upstream");
  }

  /**
   * Resolves when the downstream neighbour accepts more frames (at once when it is not
   * saturated). A producer of system frames (an input transport reading a file faster than
   * real time) awaits it: system frames skip the queue bound, so this is their backpressure.
   */
  protected whenDownstreamWritable(): Promise<void> {
    const next = this.#next;
    return next !== undefined && next.isSaturated() ? next.whenWritable() : Promise.resolve();
  }

  /**
   * Interrupt the bot from here: interrupt this processor's own work, then push an
   * `InterruptionFrame` downstream (no-op when the run disallows interruptions).
   * Used by user-turn logic (aggregators) when the user starts speaking.
   */
  protected pushInterruption(): void {
    if (!this.interruptionsAllowed) return;
    this.#interrupt();
    this.push(new InterruptionFrame(), "downstream");
  }

  /** Emit an event; exceptions from handlers are logged, never thrown. */
  protected emit<K extends keyof TEvents>(type: K, payload: TEvents[K]): void {
    try {
      this.#events.emit(type as EventType, payload);
    } catch (err) {
      this.logger.error({ err, event: String(type) }, "event handler threw");
    }
  }

  /**
   * Start a tracked background task. It receives a signal aborted on cancel/cleanup
   * (and on the next interruption when `interruptible`); `cleanup()` awaits it (bounded).
   * Errors other than aborts are reported with {@link pushError}. The returned promise
   * never rejects.
   */
  protected createTask(
    name: string,
    fn: (signal: AbortSignal) => Promise<void>,
    options: TaskOptions = {},
  ): Promise<void> {
    const interruptible = options.interruptible === true;
    const signal = interruptible
      ? AbortSignal.any([this.#lifetime.signal, this.signal])
      : this.#lifetime.signal;
    // An interruptible task is fenced like the frame work it belongs to; any other task runs
    // outside every token (it outlives interruptions, and so do its pushes).
    const work: WorkToken | undefined = interruptible
      ? { owner: this, abandoned: false }
      : undefined;
    if (work !== undefined) this.#taskWork.add(work);
    const task = currentWork.run(work, async () => {
      try {
        await fn(signal);
      } catch (err) {
        if (signal.aborted && isAbortError(err)) return;
        this.pushError(`${this.name}: task "${name}" failed: ${describe(err)}`, { cause: err });
      } finally {
        if (work !== undefined) this.#taskWork.delete(work);
      }
    });
    this.#track(task);
    return task;
  }

  /** Hook: acquire resources before the run. Default no-op. */
  protected onSetup(_setup: ProcessorSetup): void | Promise<void> {}

  /** Hook: the StartFrame arrived (before it is passed to `process`). Default no-op. */
  protected onStart(_frame: StartFrame): void | Promise<void> {}

  /** Hook: graceful end — flush and wait for pending results before the EndFrame moves on. */
  protected onEnd(_frame: EndFrame): void | Promise<void> {}

  /** Hook: immediate teardown on CancelFrame (runs after the frame was forwarded; tracked). */
  protected onCancel(_frame: CancelFrame): void | Promise<void> {}

  /** Hook: after in-flight work was aborted and the queue flushed by an InterruptionFrame. */
  protected onInterruption(_frame: InterruptionFrame): void | Promise<void> {}

  /** Hook: release resources after the run. Default no-op. */
  protected onCleanup(): void | Promise<void> {}

  // Metrics ------------------------------------------------------------------------------

  /** Start measuring time to first byte (no-op unless metrics are enabled). */
  protected startTtfbMetrics(): void {
    if (!this.metricsEnabled) return;
    if (this.#ttfbReported && this.#startFrame?.reportOnlyInitialTtfb === true) return;
    this.#ttfbStart = this.#clock.now();
  }

  /** Stop the TTFB measurement and push a `MetricsFrame` (`type: "ttfb"`, ms). */
  protected stopTtfbMetrics(model?: string): void {
    if (this.#ttfbStart === undefined) return;
    const value = this.#clock.now() - this.#ttfbStart;
    this.#ttfbStart = undefined;
    this.#ttfbReported = true;
    this.pushMetrics([{ processor: this.name, type: "ttfb", value, model }]);
  }

  /** Start measuring processing time (no-op unless metrics are enabled). */
  protected startProcessingMetrics(): void {
    if (!this.metricsEnabled) return;
    this.#processingStart = this.#clock.now();
  }

  /** Stop the processing measurement and push a `MetricsFrame` (`type: "processing"`, ms). */
  protected stopProcessingMetrics(model?: string): void {
    if (this.#processingStart === undefined) return;
    const value = this.#clock.now() - this.#processingStart;
    this.#processingStart = undefined;
    this.pushMetrics([{ processor: this.name, type: "processing", value, model }]);
  }

  /** Push a `MetricsFrame` downstream when metrics are enabled. */
  protected pushMetrics(data: readonly MetricsData[]): void {
    if (!this.metricsEnabled) return;
    this.push(new MetricsFrame({ data }), "downstream");
  }

  // -------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------

  #emitBase<K extends keyof FrameProcessorEvents>(type: K, payload: FrameProcessorEvents[K]): void {
    (this as unknown as FrameProcessor).emit(type, payload);
  }

  #track(promise: Promise<unknown>): void {
    this.#tasks.add(promise);
    const remove = (): void => {
      this.#tasks.delete(promise);
    };
    promise.then(remove, remove);
  }

  async #settleTasks(ms: number): Promise<void> {
    if (this.#tasks.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    });
    const settled = Promise.allSettled([...this.#tasks]).then(() => false);
    const late = await Promise.race([settled, timedOut]);
    clearTimeout(timer);
    if (late) {
      this.logger.warn(
        { pending: this.#tasks.size, timeoutMs: ms },
        "tasks still running after cleanup timeout",
      );
    }
  }

  #processError(err: unknown, frame: Frame): void {
    if (isAbortError(err)) return; // aborted on purpose: exit silently
    this.pushError(`${this.name} failed to process ${frame.name}: ${describe(err)}`, {
      cause: err,
    });
  }

  #runSystem(frame: Frame, direction: FrameDirection): void {
    this.#sysBusy = true;
    let result: void | Promise<void>;
    try {
      result = this.#handleSystem(frame, direction);
    } catch (err) {
      this.#processError(err, frame);
      result = undefined;
    }
    this.#settle(result, frame, "system", this.#generation);
  }

  #systemDone(): void {
    this.#sysBusy = false;
    if (this.#sysQueue.length !== 0 && !this.#sysDraining) this.#drainSystem();
    // An interruption may have left uninterruptible frames waiting in an idle lane.
    if (this.#queue.length !== 0 && !this.#busy && this.#started && !this.#draining) this.#drain();
  }

  #drainSystem(): void {
    this.#sysDraining = true;
    try {
      while (!this.#sysBusy && !this.#cancelled && this.#started && this.#sysQueue.length !== 0) {
        const item = this.#sysQueue.shift() as Queued;
        this.#runSystem(item.frame, item.direction);
      }
    } finally {
      this.#sysDraining = false;
    }
  }

  #handleSystem(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof StartFrame) {
      if (direction === "downstream") return this.#handleStart(frame);
    } else if (frame instanceof InterruptionFrame) {
      this.#interrupt();
      this.#emitBase("interrupted", frame);
      // A failing hook is reported, but the InterruptionFrame always moves on.
      let hook: void | Promise<void> = undefined;
      try {
        hook = this.onInterruption(frame);
      } catch (err) {
        this.#processError(err, frame);
      }
      if (hook !== undefined) {
        return hook.then(
          () => this.process(frame, direction),
          (err: unknown) => {
            this.#processError(err, frame);
            return this.process(frame, direction);
          },
        );
      }
    }
    return this.process(frame, direction);
  }

  #handleStart(frame: StartFrame): void | Promise<void> {
    this.#startFrame = frame;
    this.#startState = "received";
    let failed = false;
    const fail = (err: unknown): void => {
      failed = true;
      this.pushError(`${this.name} failed to start: ${describe(err)}`, { fatal: true, cause: err });
    };
    const hook = (): void | Promise<void> => {
      try {
        return this.onStart(frame)?.catch(fail);
      } catch (err) {
        fail(err);
      }
    };
    const finish = (): void => {
      this.#started = true;
      if (!failed && this.#startState !== "forwarded" && this.#next !== undefined) {
        const err = new StartFrameNotForwardedError(this.name);
        this.pushError(err, { fatal: true, cause: err });
      }
      this.#emitBase("started", frame);
      // Frames that arrived before the StartFrame waited; let them through now.
      if (this.#queue.length !== 0 && !this.#busy && !this.#draining) this.#drain();
    };
    let result: void | Promise<void>;
    try {
      // A processor whose onStart failed does not pass the StartFrame on: the run fails.
      result = seq(hook, () => (failed ? undefined : this.process(frame, "downstream")));
    } catch (err) {
      finish();
      throw err;
    }
    if (result === undefined) finish();
    else return result.finally(finish);
  }

  #interrupt(): void {
    if (this.#controller !== undefined) {
      // One reason object per processor: building a DOMException (stack capture) on every
      // interruption would dominate interruption latency.
      this.#interruptReason ??= interruptedReason(this.name);
      this.#controller.abort(this.#interruptReason);
      this.#controller = undefined; // a fresh one on next use of `signal`
    }
    this.#ttfbStart = undefined;
    this.#processingStart = undefined;
    if (this.#queue.length !== 0) {
      this.#queue.retain((item) => item.frame.uninterruptible);
      this.#notifyDrain();
    }
    for (const work of this.#taskWork) work.abandoned = true;
    this.#taskWork.clear();
    if (this.#busy && this.#current !== undefined && !this.#current.uninterruptible) {
      // Abandon the aborted work: its promise stays tracked, its completion is ignored, and
      // what it still pushes is dropped (generation fence).
      if (this.#currentWork !== undefined) this.#currentWork.abandoned = true;
      this.#currentWork = undefined;
      this.#generation++;
      this.#busy = false;
      this.#current = undefined;
    }
  }

  #runOrdered(frame: Frame, direction: FrameDirection): void {
    this.#busy = true;
    this.#current = frame;
    const generation = this.#generation;
    let result: void | Promise<void>;
    try {
      if (frame.kind === "control" && frame instanceof EndFrame && direction === "downstream") {
        result = this.#handleEnd(frame);
      } else {
        const work: WorkToken | undefined = frame.uninterruptible
          ? undefined
          : { owner: this, abandoned: false };
        this.#currentWork = work;
        result = currentWork.run(work, callProcess, this, frame, direction);
      }
    } catch (err) {
      this.#processError(err, frame);
      result = undefined;
    }
    this.#settle(result, frame, "ordered", generation);
  }

  /**
   * Finishes a lane's frame once its handler's `result` settled: at once for a sync
   * handler (no allocation on that hot path), on settlement for an async one (tracked),
   * reporting a rejection — unless an interruption/cancel abandoned the ordered work
   * meanwhile (its `generation` is stale), which is expected.
   */
  #settle(
    result: void | Promise<void>,
    frame: Frame,
    lane: "system" | "ordered",
    generation: number,
  ): void {
    if (result === undefined) {
      this.#laneDone(lane, generation);
      return;
    }
    this.#track(
      result.then(
        () => this.#laneDone(lane, generation),
        (err: unknown) => {
          if (lane === "system" || generation === this.#generation) this.#processError(err, frame);
          this.#laneDone(lane, generation);
        },
      ),
    );
  }

  #laneDone(lane: "system" | "ordered", generation: number): void {
    if (lane === "system") this.#systemDone();
    else this.#orderedDone(generation);
  }

  #orderedDone(generation: number): void {
    if (generation !== this.#generation) return; // abandoned by an interruption/cancel
    this.#busy = false;
    this.#current = undefined;
    this.#currentWork = undefined;
    if (this.#queue.length !== 0 && !this.#draining) this.#drain();
  }

  #drain(): void {
    this.#draining = true;
    try {
      while (
        !this.#busy &&
        !this.#cancelled &&
        !this.#waitingDownstream &&
        this.#queue.length !== 0
      ) {
        const item = this.#queue.peek() as Queued;
        const next = this.#next;
        if (
          item.direction === "downstream" &&
          item.frame.kind === "data" &&
          next !== undefined &&
          next.isSaturated()
        ) {
          this.#waitingDownstream = true;
          void next.whenWritable().then(() => {
            this.#waitingDownstream = false;
            if (!this.#busy && !this.#draining) this.#drain();
          });
          break;
        }
        this.#queue.shift();
        this.#notifyDrain();
        this.#runOrdered(item.frame, item.direction);
      }
    } finally {
      this.#draining = false;
    }
  }

  #notifyDrain(): void {
    if (this.#drainWaiters === undefined) return;
    if (this.#queue.length > this.#highWaterMark >> 1) return;
    this.#releaseDrainWaiters();
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  #handleEnd(frame: EndFrame): void | Promise<void> {
    // A graceful end must finish: a failing onEnd is reported and the EndFrame still moves
    // on; if process() fails or swallows it, the base class forwards it (a lost EndFrame
    // would leave the task waiting forever).
    const report = (what: string) => (err: unknown) => {
      this.pushError(`${this.name}: ${what} failed: ${describe(err)}`, { cause: err });
    };
    const hook = (): void | Promise<void> => {
      try {
        return this.onEnd(frame)?.catch(report("onEnd"));
      } catch (err) {
        report("onEnd")(err);
      }
    };
    const ensureForwarded = (): void => {
      if (this.#endForwarded !== frame && this.#next !== undefined) {
        this.logger.warn(
          { frame: frame.name },
          "EndFrame was not forwarded by process(): forwarding it",
        );
        this.push(frame, "downstream");
      }
    };
    const forward = (): void | Promise<void> => {
      this.#ended = true;
      this.#emitBase("ended", frame);
      let result: void | Promise<void> = undefined;
      try {
        result = this.process(frame, "downstream");
      } catch (err) {
        report("processing the EndFrame")(err);
      }
      if (result === undefined) {
        ensureForwarded();
        return;
      }
      return result.then(ensureForwarded, (err: unknown) => {
        report("processing the EndFrame")(err);
        ensureForwarded();
      });
    };
    return seq(hook, forward);
  }

  #cancel(frame: CancelFrame, direction: FrameDirection): void {
    this.#cancelled = true;
    const reason = new DOMException(`${this.name}: cancelled`, "AbortError");
    this.#controller?.abort(reason);
    this.#lifetime.abort(reason);
    this.#queue.clear();
    this.#sysQueue.clear();
    this.#generation++;
    this.#busy = false;
    this.#current = undefined;
    if (this.#currentWork !== undefined) this.#currentWork.abandoned = true;
    this.#currentWork = undefined;
    this.#releaseDrainWaiters();
    // Forward first: cancellation must reach the end of the pipeline at once, whatever
    // this processor's teardown does.
    this.push(frame, direction);
    this.#emitBase("cancelled", frame);
    try {
      const hook = this.onCancel(frame);
      if (hook !== undefined) {
        this.#track(
          hook.catch((err: unknown) => {
            this.logger.warn({ err }, "onCancel failed");
          }),
        );
      }
    } catch (err) {
      this.logger.warn({ err }, "onCancel failed");
    }
  }
}
