/**
 * The generation fence: work an interruption abandoned can no longer push. A user
 * processor that awaits a timer (and knows nothing of `this.signal`) pushes its result
 * after the barge-in; that stale frame must not reach the bot's output.
 */
import { describe, expect, it } from "vitest";
import {
  BotStartedSpeakingFrame,
  EndOfTurnFrame,
  FrameProcessor,
  InterruptionFrame,
  LLMContext,
  StartOfTurnFrame,
  TextFrame,
  UserStartedSpeakingFrame,
  createContextAggregators,
  interruptOnEveryUserTurn,
  interruptWhileBotSpeaks,
} from "@voxpipe/core";
import type { Frame, FrameDirection, LLMUserAggregatorOptions } from "@voxpipe/core";
import { SleepFrame, runProcessorTest } from "@voxpipe/core/testing";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const texts = (frames: Frame[]): string[] =>
  frames.filter((f): f is TextFrame => f instanceof TextFrame).map((f) => f.text);

/** Looks something up (a timer stands for I/O), then pushes the answer; ignores interruptions. */
class SlowLookup extends FrameProcessor {
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof TextFrame && direction === "downstream") {
      await sleep(40);
      this.push(new TextFrame({ text: `answer to ${frame.text}` }));
      return;
    }
    this.push(frame, direction);
  }
}

/** Starts an interruptible background task per text that pushes after a timer. */
class BackgroundLookup extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof TextFrame && direction === "downstream") {
      void this.createTask(
        "lookup",
        async () => {
          await sleep(40);
          this.push(new TextFrame({ text: `answer to ${frame.text}` }));
        },
        { interruptible: true },
      );
      return;
    }
    this.push(frame, direction);
  }
}

/** A question, a barge-in while it is being answered, then a new question. */
const bargeIn = (): Frame[] => [
  new TextFrame({ text: "old question" }),
  new SleepFrame(5),
  new InterruptionFrame(),
  new SleepFrame(80), // the abandoned lookup finishes and pushes meanwhile
  new TextFrame({ text: "new question" }),
  new SleepFrame(80),
];

describe("generation fence", () => {
  it("drops what a process() abandoned by an interruption pushes afterwards", async () => {
    const lookup = new SlowLookup();
    const { down } = await runProcessorTest({
      processor: lookup,
      framesToSend: bargeIn(),
    });
    expect(texts(down)).toEqual(["answer to new question"]);
    expect(lookup.fencedFrames).toBe(1);
  });

  it("drops what an interruptible task started before the interruption pushes", async () => {
    const lookup = new BackgroundLookup();
    const { down } = await runProcessorTest({
      processor: lookup,
      framesToSend: bargeIn(),
    });
    expect(texts(down)).toEqual(["answer to new question"]);
  });

  it("keeps what the same work pushes when no interruption came", async () => {
    const { down } = await runProcessorTest({
      processor: new SlowLookup(),
      framesToSend: [
        new TextFrame({ text: "a" }),
        new TextFrame({ text: "b" }),
        new SleepFrame(20),
      ],
    });
    expect(texts(down)).toEqual(["answer to a", "answer to b"]);
  });
});

describe("interruption strategy (user aggregator)", () => {
  /** Two user turns, the second while the bot speaks: the InterruptionFrames and turn starts pushed. */
  async function interruptionsOf(options: LLMUserAggregatorOptions): Promise<string[]> {
    const { user } = createContextAggregators(new LLMContext(), { user: options });
    const { down } = await runProcessorTest({
      processor: user,
      framesToSend: [
        new StartOfTurnFrame({ turnIndex: 0 }),
        new EndOfTurnFrame({ turnIndex: 0 }),
        new BotStartedSpeakingFrame(),
        new StartOfTurnFrame({ turnIndex: 1 }),
        new UserStartedSpeakingFrame(),
        new EndOfTurnFrame({ turnIndex: 1 }),
      ],
    });
    return down
      .filter((f) => f instanceof InterruptionFrame || f instanceof StartOfTurnFrame)
      .map((f) => f.name.replace(/#\d+$/, ""));
  }

  it("the default is interruptWhileBotSpeaks: a user turn interrupts only while the bot speaks", async () => {
    const barge = ["StartOfTurnFrame", "InterruptionFrame", "StartOfTurnFrame"];
    expect(await interruptionsOf({})).toEqual(barge);
    expect(await interruptionsOf({ interruptionStrategy: interruptWhileBotSpeaks })).toEqual(barge);
  });

  it("interruptOnEveryUserTurn: every user turn interrupts, the bot speaking or not", async () => {
    expect(await interruptionsOf({ interruptionStrategy: interruptOnEveryUserTurn })).toEqual([
      "InterruptionFrame",
      "StartOfTurnFrame",
      "InterruptionFrame",
      "StartOfTurnFrame",
    ]);
  });
});
