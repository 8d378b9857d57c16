import { describe, expect, it } from "vitest";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  LLMContext,
  Pipeline,
  StartOfTurnFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  createContextAggregators,
  isTurnFrame,
} from "../src/index.js";
import type { Frame } from "../src/index.js";
import {
  ScriptedLLMService,
  ScriptedSTTService,
  runProcessorTest,
  silenceFrames,
} from "../src/testing/index.js";

const turnish = (frames: readonly Frame[]): Frame[] =>
  frames.filter(
    (f) =>
      isTurnFrame(f) ||
      f instanceof UserStartedSpeakingFrame ||
      f instanceof UserStoppedSpeakingFrame,
  );

describe("ScriptedSTTService", () => {
  it("emits Flux's turn frames, in Flux's order, when the input audio reaches their times", async () => {
    const stt = new ScriptedSTTService({
      turns: [
        { transcript: "book a table", startAt: 0.2, eagerAt: 1.0, resumedAt: 1.2, endAt: 1.6 },
        { transcript: "for two", startAt: 2.0, endAt: 2.6 },
      ],
    });
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: silenceFrames(2000, { frameMs: 20 }),
    });
    const turns = turnish(down);
    expect(turns.map((f) => f.constructor.name)).toEqual([
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
      "EagerEndOfTurnFrame",
      "TurnResumedFrame",
      "TranscriptionFrame",
      "EndOfTurnFrame",
      "UserStoppedSpeakingFrame",
      // the second turn has started at 2.0 s but not ended: the audio stopped at 2.0 s
      "StartOfTurnFrame",
      "UserStartedSpeakingFrame",
    ]);
    const final = turns.find((f) => f instanceof TranscriptionFrame);
    expect(final).toMatchObject({ text: "book a table", turnIndex: 0, audioWindowEnd: 1.6 });
    expect(final?.words.at(-1)?.end).toBeCloseTo(1.35, 5);
    expect(turns.find((f) => f instanceof EagerEndOfTurnFrame)?.audioWindowEnd).toBe(1.0);
    expect(turns.find((f) => f instanceof TurnResumedFrame)?.audioWindowEnd).toBe(1.2);
    expect(turns.filter((f) => f instanceof StartOfTurnFrame).map((f) => f.turnIndex)).toEqual([
      0, 1,
    ]);
    expect(stt.audioSeconds).toBeCloseTo(2.0, 5);
    // audio is forwarded
    expect(down.length).toBeGreaterThan(turns.length + 90);
  });

  it("drives the processors after it, with no socket: a user aggregator and an LLM", async () => {
    const { user } = createContextAggregators(new LLMContext());
    const llm = new ScriptedLLMService({ replies: [["Sure."]] });
    const stt = new ScriptedSTTService({
      turns: [{ transcript: "hello there", startAt: 0.1, endAt: 0.8 }],
    });
    const { down } = await runProcessorTest({
      processor: new Pipeline([stt, user, llm]),
      framesToSend: silenceFrames(1000),
    });
    expect(llm.calls.map((c) => c.messages.at(-1)?.content)).toEqual(["hello there"]);
    expect(down.filter((f) => f instanceof EndOfTurnFrame)).toHaveLength(1);
  });

  it("refuses a script whose times do not increase, naming the turn", () => {
    expect(
      () => new ScriptedSTTService({ turns: [{ transcript: "x", startAt: 1, endAt: 0.5 }] }),
    ).toThrow(/turns\[0\]: times must increase/);
    expect(
      () =>
        new ScriptedSTTService({
          turns: [
            { transcript: "a", startAt: 0, endAt: 1 },
            { transcript: "b", startAt: 0.5, endAt: 2 },
          ],
        }),
    ).toThrow(/turns\[1\]/);
  });
});
