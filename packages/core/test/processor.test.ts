import { describe, expect, it } from "vitest";
import {
  EndFrame,
  ErrorFrame,
  FrameProcessor,
  InterruptionFrame,
  OutputAudioRawFrame,
  Pipeline,
  PipelineTask,
  StartFrame,
  StartFrameNotForwardedError,
  STTUpdateSettingsFrame,
  TextFrame,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import { SleepFrame, abortableSleep, runProcessorTest, frameWith } from "@voxpipe/core/testing";

/** Swallows every StartFrame: the classic custom-processor mistake. */
class SwallowStart extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof StartFrame) return;
    this.push(frame, direction);
  }
}

/** Throws on text "boom". */
class Thrower extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof TextFrame && frame.text === "boom") throw new Error("kaboom");
    this.push(frame, direction);
  }
}

/** Takes `ms` per text frame, honouring the interruption signal. */
class Slow extends FrameProcessor {
  constructor(private readonly ms: number) {
    super();
  }
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof TextFrame) await abortableSleep(this.ms, this.signal);
    this.push(frame, direction);
  }
}

describe("FrameProcessor", () => {
  it("forwards frames it does not handle, in order", async () => {
    const frames = [new TextFrame({ text: "a" }), new TextFrame({ text: "b" })];
    await runProcessorTest({
      processor: new FrameProcessor(),
      framesToSend: frames,
      expectedDown: [frameWith(TextFrame, { text: "a" }), frameWith(TextFrame, { text: "b" })],
      expectedUp: [],
    });
  });

  it("reports a processor that swallows the StartFrame, by name, at once", async () => {
    const bad = new SwallowStart({ name: "MyBadProcessor" });
    const task = new PipelineTask(new Pipeline([new FrameProcessor(), bad, new FrameProcessor()]), {
      startTimeoutMs: 10_000,
    });
    const t0 = performance.now();
    const err = await task.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartFrameNotForwardedError);
    expect((err as Error).message).toContain("MyBadProcessor");
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("turns a processing exception into an ErrorFrame travelling upstream, and keeps going", async () => {
    const { down, up, errors } = await runProcessorTest({
      processor: new Thrower({ name: "Thrower" }),
      framesToSend: [new TextFrame({ text: "boom" }), new TextFrame({ text: "after" })],
      expectedDown: [frameWith(TextFrame, { text: "after" })],
    });
    expect(up).toHaveLength(1);
    expect(up[0]).toBeInstanceOf(ErrorFrame);
    expect((up[0] as ErrorFrame).processor?.name).toBe("Thrower");
    expect((up[0] as ErrorFrame).error).toContain("kaboom");
    expect(errors).toHaveLength(1);
    void down;
  });

  it("interruption drops queued interruptible frames but keeps EndFrame", async () => {
    const { down } = await runProcessorTest({
      processor: new Slow(50),
      framesToSend: [
        new TextFrame({ text: "1" }),
        new TextFrame({ text: "2" }),
        new TextFrame({ text: "3" }),
        new SleepFrame(10),
        new InterruptionFrame(),
      ],
    });
    expect(down.map((f) => f.constructor.name)).toEqual(["InterruptionFrame"]);
  });

  it("processes audio frames inline without losing order", async () => {
    const frames = Array.from(
      { length: 100 },
      () => new OutputAudioRawFrame({ audio: new Uint8Array(640), sampleRate: 16000 }),
    );
    const { down } = await runProcessorTest({
      processor: new Pipeline([new FrameProcessor(), new FrameProcessor()]),
      framesToSend: frames,
    });
    expect(down.map((f) => f.id)).toEqual(frames.map((f) => f.id));
    void EndFrame;
  });

  it("an interruption does not abandon an uninterruptible frame in flight; it finishes, then the queue resumes", async () => {
    const order: string[] = [];
    class SlowSettings extends FrameProcessor {
      override async process(frame: Frame, direction: FrameDirection): Promise<void> {
        if (frame instanceof STTUpdateSettingsFrame) {
          await new Promise((r) => setTimeout(r, 30));
          order.push("settings applied");
        }
        this.push(frame, direction);
      }
    }
    const { down } = await runProcessorTest({
      processor: new SlowSettings(),
      framesToSend: [
        new STTUpdateSettingsFrame({ settings: { eotThreshold: 0.8 } }),
        new TextFrame({ text: "dropped" }),
        new SleepFrame(5),
        new InterruptionFrame(),
      ],
    });
    expect(order).toEqual(["settings applied"]);
    expect(down.map((f) => f.constructor.name)).toEqual([
      "InterruptionFrame",
      "STTUpdateSettingsFrame",
    ]);
  });

  it("interruptible tracked tasks are aborted by an interruption, others only at cleanup", async () => {
    const aborted: string[] = [];
    class Worker extends FrameProcessor {
      protected override onStart(): void {
        for (const interruptible of [true, false]) {
          void this.createTask(
            interruptible ? "speech" : "connection",
            async (signal) => {
              await abortableSleep(60_000, signal).catch(() =>
                aborted.push(interruptible ? "speech" : "connection"),
              );
            },
            { interruptible },
          );
        }
      }
    }
    await runProcessorTest({
      processor: new Worker(),
      framesToSend: [new SleepFrame(5), new InterruptionFrame(), new SleepFrame(5)],
    });
    expect(aborted).toEqual(["speech", "connection"]);
  });

  it("an InterruptionFrame moves on even when onInterruption throws", async () => {
    class BadHook extends FrameProcessor {
      protected override onInterruption(): void {
        throw new Error("hook bug");
      }
    }
    const { errors } = await runProcessorTest({
      processor: new BadHook(),
      framesToSend: [new InterruptionFrame()],
      expectedDown: [InterruptionFrame],
    });
    expect(errors[0]?.error).toContain("hook bug");
  });

  it("a graceful end finishes even if a processor swallows or fails on the EndFrame", async () => {
    class Swallows extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (!(frame instanceof EndFrame)) this.push(frame, direction);
      }
    }
    class Throws extends FrameProcessor {
      override process(frame: Frame, direction: FrameDirection): void {
        if (frame instanceof EndFrame) throw new Error("cleanup bug");
        this.push(frame, direction);
      }
    }
    const task = new PipelineTask(new Pipeline([new Swallows(), new Throws()]), {
      idleTimeoutMs: null,
    });
    const errors: string[] = [];
    task.on("error", (e) => errors.push(e.error));
    task.stopWhenDone();
    expect((await task.run()).reason).toBe("end");
    expect(errors.join()).toContain("processing the EndFrame failed: cleanup bug");
  });
});
