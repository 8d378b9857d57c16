import { describe, expect, it } from "vitest";
import {
  EndFrame,
  FrameProcessor,
  ParallelPipeline,
  Pipeline,
  PipelineTask,
  StartFrame,
  StartFrameNotForwardedError,
  TextFrame,
  flattenProcessors,
} from "@voxpipe/core";
import type { Frame, FrameDirection, ErrorFrame } from "@voxpipe/core";
import { FrameCapture, frameWith, runProcessorTest } from "@voxpipe/core/testing";

/** Emits a derived frame for each text frame and forwards the original. */
class Tag extends FrameProcessor {
  constructor(private readonly tag: string) {
    super({ name: `Tag(${tag})` });
  }
  override process(frame: Frame, direction: FrameDirection): void {
    this.push(frame, direction);
    if (frame instanceof TextFrame && !frame.text.includes(":")) {
      this.push(new TextFrame({ text: `${this.tag}:${frame.text}` }), direction);
    }
  }
}

/** Holds the EndFrame for `ms` (flushing something slow), then emits a last frame. */
class SlowEnd extends FrameProcessor {
  constructor(private readonly ms: number) {
    super();
  }
  protected override async onEnd(): Promise<void> {
    await new Promise((r) => setTimeout(r, this.ms));
    this.push(new TextFrame({ text: "slow:flushed" }));
  }
}

/** Drops every text frame (a filtering branch). */
class DropText extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void {
    if (!(frame instanceof TextFrame)) this.push(frame, direction);
  }
}

const texts = (frames: Frame[]): string[] =>
  frames.filter((f) => f instanceof TextFrame).map((f) => f.text);

describe("Pipeline", () => {
  it("nests pipelines without changing order or adding hops", async () => {
    const inner = new Pipeline([new Tag("a"), new Pipeline([new FrameProcessor()])]);
    const outer = new Pipeline([new FrameProcessor(), inner, new Tag("b")]);
    expect(flattenProcessors(outer)).toHaveLength(4);
    await runProcessorTest({
      processor: outer,
      framesToSend: [new TextFrame({ text: "x" })],
      expectedDown: [
        frameWith(TextFrame, { text: "x" }),
        frameWith(TextFrame, { text: "b:x" }),
        frameWith(TextFrame, { text: "a:x" }),
      ],
    });
  });

  it("rejects the same processor twice", () => {
    const p = new FrameProcessor();
    expect(() => new Pipeline([p, p])).toThrow(/appears twice/);
  });

  it("carries upstream frames out of the pipeline (errors reach the task)", async () => {
    class Fails extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (frame instanceof TextFrame) this.pushError("bad input");
        else this.push(frame, direction);
      }
    }
    const { up, errors } = await runProcessorTest({
      processor: new Pipeline([new FrameProcessor(), new Pipeline([new Fails({ name: "Inner" })])]),
      framesToSend: [new TextFrame({ text: "x" })],
    });
    expect(up).toHaveLength(1);
    expect((up[0] as ErrorFrame).processor?.name).toBe("Inner");
    expect(errors[0]?.error).toBe("bad input");
  });
});

describe("ParallelPipeline", () => {
  it("sends every frame to every branch and merges outputs; pass-through frames come out once", async () => {
    const { down } = await runProcessorTest({
      processor: new ParallelPipeline([new Tag("a")], [new Tag("b")], [new FrameProcessor()]),
      framesToSend: [new TextFrame({ text: "1" }), new TextFrame({ text: "2" })],
    });
    expect(texts(down)).toEqual(["1", "a:1", "b:1", "2", "a:2", "b:2"]);
  });

  it("a frame swallowed by one branch still comes out of the others", async () => {
    const { down } = await runProcessorTest({
      processor: new ParallelPipeline([new DropText()], [new FrameProcessor()]),
      framesToSend: [new TextFrame({ text: "1" })],
    });
    expect(texts(down)).toEqual(["1"]);
  });

  it("lets the EndFrame out only after every branch has passed it (end propagation)", async () => {
    const sink = new FrameCapture("downstream", "sink");
    const parallel = new ParallelPipeline([new Tag("fast")], [new SlowEnd(40)]);
    const task = new PipelineTask(new Pipeline([parallel, sink]), { idleTimeoutMs: null });
    const running = task.run();
    task.queueFrame(new TextFrame({ text: "x" }));
    task.stopWhenDone();
    const result = await running;
    expect(result.reason).toBe("end");
    expect(texts(sink.frames)).toEqual(["x", "fast:x", "slow:flushed"]);
    expect(sink.frames.filter((f) => f instanceof EndFrame)).toHaveLength(1);
    expect(sink.frames.at(-1)).toBeInstanceOf(EndFrame);
    expect(sink.frames.filter((f) => f instanceof StartFrame)).toHaveLength(1);
    expect(sink.frames[0]).toBeInstanceOf(StartFrame);
  });

  it("holds branch output until every branch started", async () => {
    class SlowStart extends FrameProcessor {
      protected override async onStart(): Promise<void> {
        await new Promise((r) => setTimeout(r, 30));
      }
    }
    class Greeter extends FrameProcessor {
      protected override onStart(): void {
        queueMicrotask(() => this.push(new TextFrame({ text: "hello" })));
      }
    }
    /** Records arrival order (before its own lane could reorder anything). */
    class Arrivals extends FrameProcessor {
      readonly arrived: string[] = [];
      override queueFrame(frame: Frame, direction: FrameDirection = "downstream"): void {
        this.arrived.push(frame.constructor.name);
        super.queueFrame(frame, direction);
      }
    }
    const arrivals = new Arrivals();
    const task = new PipelineTask(
      new Pipeline([new ParallelPipeline([new Greeter()], [new SlowStart()]), arrivals]),
      {
        idleTimeoutMs: null,
      },
    );
    const running = task.run();
    task.stopWhenDone();
    await running;
    expect(arrivals.arrived).toEqual(["StartFrame", "TextFrame", "EndFrame"]);
  });

  it("cancel propagates through every branch", async () => {
    const a = new FrameProcessor();
    const b = new FrameProcessor();
    const task = new PipelineTask(new ParallelPipeline([a], [b]), { idleTimeoutMs: null });
    const running = task.run();
    await new Promise((r) => setTimeout(r, 5));
    expect((await task.cancel()).reason).toBe("cancel");
    await running;
    expect(a.cancelled && b.cancelled).toBe(true);
  });

  it("reports a branch processor that swallows the StartFrame", async () => {
    class Swallow extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (!(frame instanceof StartFrame)) this.push(frame, direction);
      }
    }
    const task = new PipelineTask(
      new ParallelPipeline([new FrameProcessor()], [new Swallow({ name: "BranchBug" })]),
    );
    const err = await task.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartFrameNotForwardedError);
    expect((err as Error).message).toContain("BranchBug");
  });
});
