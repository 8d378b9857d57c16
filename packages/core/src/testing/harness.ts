/**
 * `runProcessorTest`: run a processor (or pipeline) in a real `PipelineTask` between two
 * capture processors, send frames, and check what comes out at both ends.
 */
import { AssertionError } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import type { Clock } from "../clock.js";
import { EndFrame, StartFrame } from "../frames.js";
import type { Frame } from "../frames.js";
import { FrameProcessor } from "../processor.js";
import type { FrameDirection } from "../processor.js";
import { Pipeline } from "../pipeline/pipeline.js";
import { PipelineTask } from "../pipeline/task.js";
import type { FrameClass, PipelineTaskParams, PipelineTaskResult } from "../pipeline/task.js";
import type { ErrorFrame } from "../frames.js";
import { SleepFrame } from "./builders.js";

/** Expect a frame of a class (subclasses match) and, optionally, with these field values (deep-equal). */
export interface FrameMatcher<T extends Frame = Frame> {
  readonly type: FrameClass<T>;
  readonly fields?: Partial<Record<keyof T, unknown>>;
}

/** A class, or a class with field values. */
export type FrameExpectation = FrameClass | FrameMatcher;

/** Build a {@link FrameMatcher}: `frameWith(TranscriptionFrame, { text: "hi" })`. */
export function frameWith<T extends Frame>(
  type: FrameClass<T>,
  fields: Partial<Record<keyof T, unknown>>,
): FrameMatcher<T> {
  return { type, fields };
}

function describeExpectation(e: FrameExpectation): string {
  if (typeof e === "function") return e.name;
  return e.fields === undefined ? e.type.name : `${e.type.name}${JSON.stringify(e.fields)}`;
}

function matches(frame: Frame, e: FrameExpectation): string | undefined {
  const type = typeof e === "function" ? e : e.type;
  const actualName = frame.constructor.name;
  if (!(frame instanceof type)) return `expected ${type.name}, got ${actualName}`;
  if (typeof e !== "function" && e.fields !== undefined) {
    for (const [key, value] of Object.entries(e.fields)) {
      const actual = (frame as unknown as Record<string, unknown>)[key];
      if (!isDeepStrictEqual(actual, value)) {
        return `${type.name}.${key}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual)}`;
      }
    }
  }
  return undefined;
}

/**
 * Assert that `frames` match `expected` one to one, in order.
 * @throws AssertionError listing received vs expected frames.
 */
export function expectFrames(
  frames: readonly Frame[],
  expected: readonly FrameExpectation[],
  label = "frames",
): void {
  const received = frames.map((f) => f.constructor.name);
  const wanted = expected.map(describeExpectation);
  const fail = (why: string): never => {
    throw new AssertionError({
      message: `${label}: ${why}\n  received: [${received.join(", ")}]\n  expected: [${wanted.join(", ")}]`,
      actual: received,
      expected: wanted,
    });
  };
  if (frames.length !== expected.length)
    fail(`expected ${expected.length} frames, got ${frames.length}`);
  frames.forEach((frame, i) => {
    const why = matches(frame, expected[i]);
    if (why !== undefined) fail(`#${i}: ${why}`);
  });
}

/** Records every frame arriving in one direction and forwards everything. */
export class FrameCapture extends FrameProcessor {
  readonly frames: Frame[] = [];
  readonly #direction: FrameDirection;
  constructor(direction: FrameDirection, name: string) {
    super({ name });
    this.#direction = direction;
  }
  override process(frame: Frame, direction: FrameDirection): void {
    if (direction === this.#direction) this.frames.push(frame);
    this.push(frame, direction);
  }
}

/** Options of {@link runProcessorTest}. */
export interface ProcessorTestOptions {
  /** The processor or pipeline under test. */
  readonly processor: FrameProcessor;
  /** Frames to send, in order; a {@link SleepFrame} waits before the next one. */
  readonly framesToSend: readonly Frame[];
  /** Direction to send them in. Default downstream (upstream frames enter at the end). */
  readonly direction?: FrameDirection;
  /** Frames expected to come out downstream (checked when given). */
  readonly expectedDown?: readonly FrameExpectation[];
  /** Frames expected to come out upstream (checked when given). */
  readonly expectedUp?: readonly FrameExpectation[];
  /** Leave the StartFrame out of `down`. Default true. */
  readonly ignoreStart?: boolean;
  /** Finish with an `EndFrame` (left out of `down`); when false the task is cancelled instead. Default true. */
  readonly sendEndFrame?: boolean;
  /** Leave `ErrorFrame`s out of `up` (they are still returned in `errors`). Default false. */
  readonly ignoreErrors?: boolean;
  /** Task parameters (idle timeout is off unless you set it). */
  readonly taskParams?: PipelineTaskParams;
  /** Clock for the task (e.g. a {@link ManualClock}). */
  readonly clock?: Clock;
  /**
   * How a {@link SleepFrame} passes time. Default: a real `setTimeout` wait. With fake
   * timers pass `(ms) => vi.advanceTimersByTimeAsync(ms)` so sleeps move fake time (and
   * fire the processor's timers) instantly.
   */
  readonly advanceTime?: (ms: number) => Promise<unknown>;
  /** Called with the task before it runs (attach observers to `task.frames$` here). */
  readonly onTask?: (task: PipelineTask) => void;
}

/** What {@link runProcessorTest} returns. */
export interface ProcessorTestResult {
  /** Frames that came out downstream (after the filters of the options). */
  readonly down: Frame[];
  /** Frames that came out upstream. */
  readonly up: Frame[];
  /** `ErrorFrame`s that reached the task. */
  readonly errors: ErrorFrame[];
  /** How the run ended. */
  readonly result: PipelineTaskResult;
  /** The task that ran (for its events and `frames$`). */
  readonly task: PipelineTask;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Run `processor` in `Pipeline([capture, processor, capture])` under a real
 * `PipelineTask`: wait for the start, send `framesToSend` (honouring `SleepFrame`s),
 * end with an `EndFrame` (or cancel), and return the frames that came out at both
 * ends; check them against `expectedDown`/`expectedUp` when given.
 *
 * Time: a `SleepFrame` waits with `setTimeout`, or calls `options.advanceTime` — with
 * `vi.useFakeTimers()` pass `advanceTime: (ms) => vi.advanceTimersByTimeAsync(ms)` to
 * test time-based logic (timeouts, idle prompts) without waiting.
 *
 * @throws AssertionError when the frames don't match.
 * @throws whatever `PipelineTask.run()` throws (setup failure, StartFrame not forwarded).
 */
export async function runProcessorTest(
  options: ProcessorTestOptions,
): Promise<ProcessorTestResult> {
  const upCapture = new FrameCapture("upstream", "test.source");
  const downCapture = new FrameCapture("downstream", "test.sink");
  const task = new PipelineTask(new Pipeline([upCapture, options.processor, downCapture]), {
    idleTimeoutMs: null,
    ...options.taskParams,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  options.onTask?.(task);
  const errors: ErrorFrame[] = [];
  task.on("error", (e) => errors.push(e));
  const started = new Promise<void>((resolve) => task.on("started", () => resolve()));
  const running = task.run();
  // If run() fails before starting, surface that error instead of waiting forever.
  await Promise.race([started, running]);
  const direction = options.direction ?? "downstream";
  let end: EndFrame | undefined;
  if (!task.hasFinished) {
    for (const frame of options.framesToSend) {
      if (frame instanceof SleepFrame) await (options.advanceTime ?? sleep)(frame.ms);
      else task.queueFrame(frame, direction);
    }
    if (options.sendEndFrame ?? true) {
      end = new EndFrame();
      task.queueFrame(end);
    } else {
      await task.cancel("test done");
    }
  }
  const result = await running;
  const down = downCapture.frames.filter(
    (f) => f !== end && !((options.ignoreStart ?? true) && f instanceof StartFrame),
  );
  const up = upCapture.frames.filter(
    (f) => !(options.ignoreErrors === true && errors.includes(f as ErrorFrame)),
  );
  if (options.expectedDown !== undefined)
    expectFrames(down, options.expectedDown, "downstream frames");
  if (options.expectedUp !== undefined) expectFrames(up, options.expectedUp, "upstream frames");
  return { down, up, errors, result, task };
}
