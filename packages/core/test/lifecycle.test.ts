import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CancelTaskFrame,
  EndFrame,
  EndTaskFrame,
  FrameProcessor,
  InterruptionFrame,
  InterruptionTaskFrame,
  MetricsFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineSetupError,
  PipelineTask,
  StartFrame,
  StartFrameNotForwardedError,
  StopFrame,
  TextFrame,
  TranscriptionFrame,
} from "@voxpipe/core";
import type { Frame, FrameDirection, FrameEvent, ErrorFrame } from "@voxpipe/core";
import {
  FrameCapture,
  ManualClock,
  ScriptedLLMService,
  abortableSleep,
  runProcessorTest,
  transcriptionFrame,
} from "@voxpipe/core/testing";
import { LLMContext, LLMContextFrame } from "@voxpipe/core";

/** Takes `ms` per text frame; records whether its work was aborted. */
class Slow extends FrameProcessor {
  aborted = 0;
  constructor(
    private readonly ms: number,
    name?: string,
  ) {
    super({ name });
  }
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof TextFrame) {
      try {
        await abortableSleep(this.ms, this.signal);
      } catch (err) {
        this.aborted++;
        throw err;
      }
    }
    this.push(frame, direction);
  }
}

/** Ignores the abort signal entirely (a badly written processor). */
class Stubborn extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof TextFrame) return new Promise(() => undefined);
    this.push(frame, direction);
  }
}

const texts = (frames: Frame[]): string[] =>
  frames.filter((f) => f instanceof TextFrame).map((f) => f.text);

afterEach(() => {
  vi.useRealTimers();
});

describe("End vs Cancel", () => {
  it("EndFrame is graceful: everything queued ahead of it is processed first, in order", async () => {
    const slow = new Slow(5);
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(new Pipeline([slow, sink]), { idleTimeoutMs: null });
    const ended: string[] = [];
    slow.on("ended", () => ended.push("slow"));
    sink.on("ended", () => ended.push("sink"));
    const running = task.run();
    for (const t of ["a", "b", "c", "d", "e"]) task.queueFrame(new TextFrame({ text: t }));
    task.stopWhenDone();
    const result = await running;
    expect(result.reason).toBe("end");
    expect(texts(sink.frames)).toEqual(["a", "b", "c", "d", "e"]);
    expect(sink.frames.at(-1)).toBeInstanceOf(EndFrame);
    expect(ended).toEqual(["slow", "sink"]);
  });

  it("onEnd runs (flushes) before the EndFrame moves on", async () => {
    class Flusher extends FrameProcessor {
      protected override async onEnd(): Promise<void> {
        await new Promise((r) => setTimeout(r, 10));
        this.push(new TextFrame({ text: "flushed" }));
      }
    }
    const { down } = await runProcessorTest({
      processor: new Flusher(),
      framesToSend: [],
      sendEndFrame: false,
    });
    expect(down).toEqual([]); // cancelled: no flush
    const graceful = await runProcessorTest({
      processor: new Flusher(),
      framesToSend: [new TextFrame({ text: "x" })],
      ignoreStart: true,
    });
    expect(texts(graceful.down)).toEqual(["x", "flushed"]);
  });

  it("CancelFrame is immediate: queued frames are abandoned and in-flight work is aborted", async () => {
    const slow = new Slow(50);
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(new Pipeline([slow, sink]), { idleTimeoutMs: null });
    const running = task.run();
    for (const t of ["a", "b", "c", "d", "e"]) task.queueFrame(new TextFrame({ text: t }));
    task.stopWhenDone();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = performance.now();
    const result = await task.cancel("test");
    expect(performance.now() - t0).toBeLessThan(100);
    await running;
    expect(result.reason).toBe("cancel");
    expect(texts(sink.frames)).toEqual([]);
    expect(slow.aborted).toBe(1);
    expect(sink.frames.some((f) => f instanceof EndFrame)).toBe(false);
    expect(slow.cancelled).toBe(true);
  });

  it("StopFrame ends the run without cleaning processors up; they can run again", async () => {
    let cleanups = 0;
    class Conn extends FrameProcessor {
      protected override onCleanup(): void {
        cleanups++;
      }
    }
    const conn = new Conn();
    const first = new PipelineTask(conn, { idleTimeoutMs: null });
    first.queueFrame(new StopFrame());
    expect((await first.run()).reason).toBe("stop");
    expect(cleanups).toBe(0);
    const second = new PipelineTask(conn, { idleTimeoutMs: null });
    second.queueFrame(new TextFrame({ text: "again" }));
    second.stopWhenDone();
    expect((await second.run()).reason).toBe("end");
    expect(cleanups).toBe(1);
  });

  it("cancel is bounded even when a processor ignores its signal", async () => {
    const stubborn = new Stubborn({ name: "Stubborn" });
    const task = new PipelineTask(new Pipeline([stubborn]), {
      idleTimeoutMs: null,
      cancelTimeoutMs: 50,
      cleanupTimeoutMs: 50,
    });
    const running = task.run();
    task.queueFrame(new TextFrame({ text: "never finishes" }));
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await task.cancel();
    await running;
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe("lifecycle", () => {
  it("names a processor whose onStart hangs, after startTimeoutMs", async () => {
    class Hangs extends FrameProcessor {
      protected override onStart(): Promise<void> {
        return new Promise(() => undefined);
      }
    }
    const task = new PipelineTask(
      new Pipeline([new FrameProcessor(), new Hangs({ name: "Hanger" })]),
      {
        startTimeoutMs: 100,
        cancelTimeoutMs: 50,
        cleanupTimeoutMs: 50,
      },
    );
    const err = await task.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartFrameNotForwardedError);
    expect((err as Error).message).toMatch(
      /"Hanger".*did not forward the StartFrame within 100 ms/,
    );
  });

  it("fails setup with an error naming the processor (failure and timeout)", async () => {
    class BadSetup extends FrameProcessor {
      protected override onSetup(): void {
        throw new Error("connection refused");
      }
    }
    const err = await new PipelineTask(new Pipeline([new BadSetup({ name: "Connector" })]))
      .run()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineSetupError);
    expect((err as Error).message).toContain("Connector: setup failed: connection refused");

    class SlowSetup extends FrameProcessor {
      protected override onSetup(): Promise<void> {
        return new Promise((r) => setTimeout(r, 1000));
      }
    }
    const err2 = await new PipelineTask(
      new Pipeline([new FrameProcessor(), new SlowSetup({ name: "Sleepy" })]),
      {
        setupTimeoutMs: 30,
      },
    )
      .run()
      .catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(PipelineSetupError);
    expect((err2 as Error).message).toMatch(/within 30 ms \(pending: Sleepy\)/);
  });

  it("frames$ completes and `finished` is emitted when setup fails", async () => {
    class BadSetup extends FrameProcessor {
      protected override onSetup(): void {
        throw new Error("connection refused");
      }
    }
    const task = new PipelineTask(new BadSetup({ name: "Connector" }), { cleanupTimeoutMs: 50 });
    let completed = false;
    task.frames$.subscribe({ complete: () => (completed = true) });
    const finished: string[] = [];
    task.on("finished", (r) => finished.push(r.reason));
    await expect(task.run()).rejects.toBeInstanceOf(PipelineSetupError);
    expect(completed).toBe(true);
    expect(finished).toEqual(["error"]);

    // Cancelled before run(): the same guarantee.
    const idle = new PipelineTask(new FrameProcessor());
    let idleCompleted = false;
    idle.frames$.subscribe({ complete: () => (idleCompleted = true) });
    await idle.cancel();
    expect(idleCompleted).toBe(true);
  });

  it("a failing onStart is a fatal error naming the processor", async () => {
    class BadStart extends FrameProcessor {
      protected override onStart(): void {
        throw new Error("no credentials");
      }
    }
    const err = await new PipelineTask(new BadStart({ name: "Svc" }), { cleanupTimeoutMs: 50 })
      .run()
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe("Svc failed to start: no credentials");
  });

  it("frames queued before run() wait for the StartFrame", async () => {
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(sink, { idleTimeoutMs: null });
    task.queueFrame(new TextFrame({ text: "early" }));
    task.stopWhenDone();
    await task.run();
    expect(sink.frames.map((f) => f.constructor.name)).toEqual([
      "StartFrame",
      "TextFrame",
      "EndFrame",
    ]);
  });

  it("tracked tasks are aborted and awaited at cleanup", async () => {
    let finished = false;
    class Background extends FrameProcessor {
      protected override onStart(): void {
        void this.createTask("poll", async (signal) => {
          try {
            await abortableSleep(10_000, signal);
          } finally {
            finished = true;
          }
        });
      }
    }
    await runProcessorTest({ processor: new Background(), framesToSend: [] });
    expect(finished).toBe(true);
  });
});

describe("errors", () => {
  it("a fatal ErrorFrame cancels the run and is reported", async () => {
    class Fatal extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (frame instanceof TextFrame)
          this.pushError("provider rejected the API key", { fatal: true });
        else this.push(frame, direction);
      }
    }
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(
      new Pipeline([new FrameProcessor(), new Fatal({ name: "Svc" }), sink]),
      {
        idleTimeoutMs: null,
      },
    );
    const errors: ErrorFrame[] = [];
    task.on("error", (e) => errors.push(e));
    const running = task.run();
    task.queueFrame(new TextFrame({ text: "x" }));
    task.queueFrame(new TextFrame({ text: "never" }));
    const result = await running;
    expect(result.reason).toBe("error");
    expect(result.error?.error).toBe("provider rejected the API key");
    expect(result.error?.processor?.name).toBe("Svc");
    expect(errors).toHaveLength(1);
  });

  it("upstream task frames end, cancel and interrupt the run", async () => {
    class Requester extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (frame instanceof TextFrame && frame.text === "interrupt")
          this.push(new InterruptionTaskFrame(), "upstream");
        else if (frame instanceof TextFrame && frame.text === "end")
          this.push(new EndTaskFrame(), "upstream");
        else if (frame instanceof TextFrame && frame.text === "cancel")
          this.push(new CancelTaskFrame(), "upstream");
        else this.push(frame, direction);
      }
    }
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(new Pipeline([new Requester(), sink]), { idleTimeoutMs: null });
    const running = task.run();
    task.queueFrame(new TextFrame({ text: "interrupt" }));
    task.queueFrame(new TextFrame({ text: "end" }));
    expect((await running).reason).toBe("end");
    expect(sink.frames.some((f) => f instanceof InterruptionFrame)).toBe(true);

    const task2 = new PipelineTask(new Pipeline([new Requester()]), { idleTimeoutMs: null });
    const running2 = task2.run();
    task2.queueFrame(new TextFrame({ text: "cancel" }));
    expect((await running2).reason).toBe("cancel");
  });
});

describe("backpressure", () => {
  it("queueFrames waits while the pipeline is saturated; nothing is dropped", async () => {
    class SlowData extends FrameProcessor {
      processed = 0;
      override async process(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof OutputAudioRawFrame) {
          await new Promise((r) => setTimeout(r, 1));
          this.processed++;
        }
        this.push(frame, direction);
      }
    }
    const slow = new SlowData({ highWaterMark: 8 });
    const head = new FrameProcessor({ highWaterMark: 8 });
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(new Pipeline([head, slow, sink]), {
      idleTimeoutMs: null,
      highWaterMark: 8,
    });
    const running = task.run();
    await new Promise((r) => task.on("started", () => r(undefined)));
    const frames = Array.from(
      { length: 60 },
      () => new OutputAudioRawFrame({ audio: new Uint8Array(64), sampleRate: 16000 }),
    );
    let maxQueued = 0;
    const probe = setInterval(
      () => (maxQueued = Math.max(maxQueued, slow.queuedFrames + head.queuedFrames)),
      1,
    );
    await task.queueFrames(frames);
    // When queueFrames resolves, most frames were already processed: it waited.
    expect(slow.processed).toBeGreaterThanOrEqual(60 - 3 * 8 - 2);
    task.stopWhenDone();
    await running;
    clearInterval(probe);
    expect(sink.frames.filter((f) => f instanceof OutputAudioRawFrame)).toHaveLength(60);
    expect(maxQueued).toBeLessThanOrEqual(8 + 8 + 2);
  });
});

describe("observation and metrics", () => {
  it("frames$ reports every push with processor, direction and time, without blocking", async () => {
    const clock = new ManualClock(1000);
    const a = new FrameProcessor({ name: "A" });
    const task = new PipelineTask(new Pipeline([a]), { idleTimeoutMs: null, clock });
    const events: FrameEvent[] = [];
    task.frames$.subscribe((e) => {
      events.push(e);
    });
    const text = new TextFrame({ text: "x" });
    task.queueFrame(text);
    task.stopWhenDone();
    await task.run();
    await new Promise((r) => setTimeout(r, 0));
    const ofText = events.filter((e) => e.frame === text);
    expect(ofText.map((e) => e.processor.name)).toEqual(["PipelineTask.source", "A"]);
    expect(ofText.every((e) => e.direction === "downstream" && e.timestamp === 1000)).toBe(true);
    expect(events.some((e) => e.frame instanceof StartFrame)).toBe(true);
  });

  it("LLM services report TTFB and processing time as MetricsFrames when enabled", async () => {
    const llm = new ScriptedLLMService({ replies: [["a", "b"]], tokenDelayMs: 5, name: "llm" });
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [
        new LLMContextFrame({ context: new LLMContext([{ role: "user", content: "hi" }]) }),
      ],
      taskParams: { enableMetrics: true },
    });
    const metrics = down.filter((f) => f instanceof MetricsFrame).flatMap((f) => f.data);
    expect(metrics.map((m) => m.type)).toEqual(["ttfb", "processing"]);
    expect(metrics[0]?.processor).toBe("llm");
    expect(metrics[0]?.value).toBeGreaterThanOrEqual(3);
    const none = await runProcessorTest({
      processor: new ScriptedLLMService({ replies: [["a"]] }),
      framesToSend: [new LLMContextFrame({ context: new LLMContext() })],
    });
    expect(none.down.some((f) => f instanceof MetricsFrame)).toBe(false);
  });

  it("idle timeout cancels the task when nothing happens (fake timers)", async () => {
    vi.useFakeTimers();
    const task = new PipelineTask(new FrameProcessor(), { idleTimeoutMs: 60_000 });
    let idle = false;
    task.on("idleTimeout", () => (idle = true));
    const running = task.run();
    await vi.advanceTimersByTimeAsync(30_000);
    task.queueFrame(transcriptionFrame("still here")); // activity re-arms the timer
    await vi.advanceTimersByTimeAsync(59_000);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(idle).toBe(true);
    expect((await running).reason).toBe("cancel");
    void TranscriptionFrame;
  });
});
