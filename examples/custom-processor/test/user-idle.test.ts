import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  EndTaskFrame,
  Pipeline,
  PipelineTask,
  TTSSpeakFrame,
} from "@voxpipe/core";
import { SleepFrame, frameWith, runProcessorTest, turnFrames } from "@voxpipe/core/testing";
import { UserIdleProcessor } from "../src/index.js";

// Time-based logic, tested without waiting: fake timers, and SleepFrames that advance them.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});
const advanceTime = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

describe("UserIdleProcessor", () => {
  it("prompts the user after the bot stopped speaking and the user stayed silent", async () => {
    const idle = new UserIdleProcessor({ timeoutMs: 5000, prompt: "Still there?" });
    const counts: number[] = [];
    idle.on("userIdle", ({ count }) => counts.push(count));
    await runProcessorTest({
      processor: idle,
      framesToSend: [
        new BotStartedSpeakingFrame(),
        new BotStoppedSpeakingFrame(),
        new SleepFrame(5001),
      ],
      advanceTime,
      expectedDown: [
        BotStartedSpeakingFrame,
        BotStoppedSpeakingFrame,
        frameWith(TTSSpeakFrame, { text: "Still there?" }),
      ],
      expectedUp: [],
    });
    expect(counts).toEqual([1]);
  });

  it("does not prompt when the user starts a turn in time", async () => {
    const turn = turnFrames("yes");
    const { down } = await runProcessorTest({
      processor: new UserIdleProcessor({ timeoutMs: 5000 }),
      framesToSend: [
        new BotStoppedSpeakingFrame(),
        new SleepFrame(4000),
        ...turn,
        new SleepFrame(10_000),
      ],
      advanceTime,
    });
    expect(down).toEqual([expect.any(BotStoppedSpeakingFrame), ...turn]);
  });

  it("ends the call after the last unanswered prompt", async () => {
    const idle = new UserIdleProcessor({ timeoutMs: 1000, maxPrompts: 1 });
    const { down, up } = await runProcessorTest({
      processor: idle,
      framesToSend: [
        new BotStoppedSpeakingFrame(),
        new SleepFrame(1000), // → prompt
        new BotStartedSpeakingFrame(), // the prompt is played…
        new BotStoppedSpeakingFrame(), // …and ends
        new SleepFrame(1000), // → no answer: end the call
      ],
      advanceTime,
    });
    expect(down.filter((f) => f instanceof TTSSpeakFrame)).toHaveLength(1);
    expect(up).toHaveLength(1);
    expect(up[0]).toBeInstanceOf(EndTaskFrame);
  });

  it("in a real task, the EndTaskFrame ends the run gracefully", async () => {
    const task = new PipelineTask(
      new Pipeline([new UserIdleProcessor({ timeoutMs: 1000, maxPrompts: 0 })]),
      {
        idleTimeoutMs: null,
      },
    );
    const running = task.run();
    task.queueFrame(new BotStoppedSpeakingFrame());
    await vi.advanceTimersByTimeAsync(1000);
    expect((await running).reason).toBe("end");
  });

  it("rejects bad options with the field named", () => {
    expect(() => new UserIdleProcessor({ timeoutMs: 0 })).toThrow(
      /timeoutMs must be a positive number of ms, got 0/,
    );
    expect(() => new UserIdleProcessor({ maxPrompts: -1 })).toThrow(
      /maxPrompts must be an integer ≥ 0, got -1/,
    );
  });
});
