/**
 * `Pipeline` and `ParallelPipeline`: processors composed into one processor.
 *
 * A pipeline adds **no hop of its own**: frames entering it go straight to its first
 * (downstream) or last (upstream) child, and frames leaving a child at either end are
 * delivered to the pipeline's neighbour. Pipelines therefore nest at no cost.
 */
import { CancelFrame, EndFrame, StartFrame } from "../frames.js";
import type { Frame } from "../frames.js";
import { FrameProcessor } from "../processor.js";
import type {
  FrameDirection,
  FrameProcessorOptions,
  FrameReceiver,
  ProcessorSetup,
} from "../processor.js";

/** Every leaf processor inside `processor` (itself if it has no children), in pipeline order. */
export function flattenProcessors(processor: FrameProcessor): FrameProcessor[] {
  const children = processor.processors;
  if (children.length === 0) return [processor];
  return children.flatMap((child) => flattenProcessors(child));
}

/**
 * A linear chain of processors, itself a processor (so pipelines nest).
 *
 * @example
 * ```ts
 * const pipeline = new Pipeline([transport.input(), stt, userAggregator, llm, tts, transport.output(), assistantAggregator]);
 * ```
 */
export class Pipeline extends FrameProcessor {
  readonly #children: readonly FrameProcessor[];

  /**
   * @param processors children, linked in order (source → sink). May be empty.
   * @throws TypeError if the same processor instance appears twice.
   */
  constructor(processors: readonly FrameProcessor[], options: FrameProcessorOptions = {}) {
    super(options);
    if (new Set(processors).size !== processors.length) {
      throw new TypeError(
        `${this.name}: the same processor instance appears twice in the pipeline`,
      );
    }
    this.#children = [...processors];
    // Edges: the head's upstream and the tail's downstream lead out of the pipeline.
    const exitUp: FrameReceiver = {
      queueFrame: (frame, direction) => this.deliver(frame, direction),
      isSaturated: () => false,
      whenWritable: () => Promise.resolve(),
    };
    const exitDown: FrameReceiver = {
      queueFrame: (frame, direction) => this.deliver(frame, direction),
      isSaturated: () => this.#downstreamReceiver?.isSaturated() ?? false,
      whenWritable: () => this.#downstreamReceiver?.whenWritable() ?? Promise.resolve(),
    };
    for (let i = 0; i + 1 < this.#children.length; i++) {
      this.#children[i].link(this.#children[i + 1]);
    }
    this.#children[0]?.setPrev(exitUp);
    this.#children.at(-1)?.setNext(exitDown);
  }

  #downstreamReceiver: FrameReceiver | undefined;

  /** @internal */
  override setNext(receiver: FrameReceiver | undefined): void {
    super.setNext(receiver);
    this.#downstreamReceiver = receiver;
  }

  /** The children, in order. */
  override get processors(): readonly FrameProcessor[] {
    return this.#children;
  }

  override queueFrame(frame: Frame, direction: FrameDirection = "downstream"): void {
    const entry = direction === "downstream" ? this.#children[0] : this.#children.at(-1);
    if (entry !== undefined) entry.queueFrame(frame, direction);
    else this.deliver(frame, direction);
  }

  override isSaturated(): boolean {
    const head = this.#children[0];
    return head !== undefined
      ? head.isSaturated()
      : (this.#downstreamReceiver?.isSaturated() ?? false);
  }

  override whenWritable(): Promise<void> {
    const head = this.#children[0];
    return head !== undefined
      ? head.whenWritable()
      : (this.#downstreamReceiver?.whenWritable() ?? Promise.resolve());
  }

  /** Sets up all children concurrently. */
  override async setup(setup: ProcessorSetup): Promise<void> {
    await super.setup(setup);
    await Promise.all(this.#children.map((child) => child.setup(setup)));
  }

  /** Cleans up all children concurrently. */
  override async cleanup(): Promise<void> {
    await Promise.all(this.#children.map((child) => child.cleanup()));
    await super.cleanup();
  }
}

/** Frames passed to every branch, awaiting their exit (for de-duplication and lifecycle sync). */
interface Fanned {
  remaining: number;
  emitted: boolean;
  readonly lifecycle: boolean;
}

/** At most this many fanned-out frames are remembered for de-duplication (oldest evicted). */
const MAX_TRACKED = 10_000;

/**
 * Runs branches side by side: every frame entering it (either direction) goes to every
 * branch; frames coming out are merged.
 *
 * - **De-duplication**: a frame that entered from outside and passes through several
 *   branches unchanged comes out **once** (on its first exit). Frames a branch creates
 *   come out as they are pushed.
 * - **Lifecycle sync**: `StartFrame`, `EndFrame` and `CancelFrame` come out only after
 *   **every** branch has passed them, so a fast branch cannot end the pipeline while a
 *   slow one is still flushing. While a `StartFrame` is pending, frames emitted by
 *   branches that already started are held and released right after it.
 *
 * Bound: de-duplication remembers the last 10,000 fanned-out frames that not every
 * branch has emitted yet (a branch that swallows frames would otherwise grow it forever).
 */
export class ParallelPipeline extends FrameProcessor {
  readonly #branches: readonly Pipeline[];
  readonly #fanned = new Map<number, Fanned>();
  #heldBeforeStart: { frame: Frame; direction: FrameDirection }[] | undefined;

  /**
   * @param branches each a list of processors (wrapped in a `Pipeline`); at least one.
   * @throws TypeError when no branch is given.
   */
  constructor(...branches: (readonly FrameProcessor[])[]) {
    super();
    if (branches.length === 0) throw new TypeError("ParallelPipeline needs at least one branch");
    this.#branches = branches.map(
      (list, i) => new Pipeline(list, { name: `${this.name}/branch${i}` }),
    );
    const merge: FrameReceiver = {
      queueFrame: (frame, direction) => this.#merge(frame, direction),
      isSaturated: () => false,
      whenWritable: () => Promise.resolve(),
    };
    for (const branch of this.#branches) {
      branch.setPrev(merge);
      branch.setNext(merge);
    }
  }

  /** The branches (each a `Pipeline`). */
  override get processors(): readonly FrameProcessor[] {
    return this.#branches;
  }

  override queueFrame(frame: Frame, direction: FrameDirection = "downstream"): void {
    const lifecycle =
      frame instanceof StartFrame || frame instanceof EndFrame || frame instanceof CancelFrame;
    if (lifecycle && frame instanceof StartFrame && direction === "downstream")
      this.#heldBeforeStart ??= [];
    if (this.#branches.length > 1 || lifecycle) {
      this.#fanned.set(frame.id, { remaining: this.#branches.length, emitted: false, lifecycle });
      if (this.#fanned.size > MAX_TRACKED) this.#evictOne();
    }
    for (const branch of this.#branches) branch.queueFrame(frame, direction);
  }

  override isSaturated(): boolean {
    return this.#branches.some((b) => b.isSaturated());
  }

  override async whenWritable(): Promise<void> {
    await Promise.all(this.#branches.map((b) => b.whenWritable()));
  }

  override async setup(setup: ProcessorSetup): Promise<void> {
    await super.setup(setup);
    await Promise.all(this.#branches.map((b) => b.setup(setup)));
  }

  override async cleanup(): Promise<void> {
    await Promise.all(this.#branches.map((b) => b.cleanup()));
    await super.cleanup();
  }

  #evictOne(): void {
    for (const [id, entry] of this.#fanned) {
      if (!entry.lifecycle) {
        this.#fanned.delete(id);
        return;
      }
    }
  }

  #merge(frame: Frame, direction: FrameDirection): void {
    const entry = this.#fanned.get(frame.id);
    if (entry === undefined) {
      // Created inside a branch.
      // Only downstream output waits for the StartFrame; errors travelling upstream must not.
      if (
        this.#heldBeforeStart !== undefined &&
        direction === "downstream" &&
        !(frame instanceof CancelFrame)
      ) {
        this.#heldBeforeStart.push({ frame, direction });
      } else {
        this.deliver(frame, direction);
      }
      return;
    }
    entry.remaining--;
    if (entry.remaining <= 0) this.#fanned.delete(frame.id);
    if (entry.lifecycle) {
      if (entry.remaining > 0) return; // wait for every branch
      this.deliver(frame, direction);
      if (frame instanceof StartFrame) this.#releaseHeld();
      return;
    }
    if (entry.emitted) return;
    entry.emitted = true;
    if (this.#heldBeforeStart !== undefined && direction === "downstream") {
      this.#heldBeforeStart.push({ frame, direction });
    } else {
      this.deliver(frame, direction);
    }
  }

  #releaseHeld(): void {
    const held = this.#heldBeforeStart;
    this.#heldBeforeStart = undefined;
    if (held === undefined) return;
    for (const { frame, direction } of held) this.deliver(frame, direction);
  }
}
