import { describe, expect, it } from "vitest";
import type { RecognitionState } from "../src/engine.js";
import { TurnStateMachine, type TurnUpdate } from "../src/turn-state.js";

const silent: RecognitionState = {
  transcript: "",
  words: [],
  speechActive: false,
  endOfTurnConfidence: 0,
};
const said = (
  transcript: string,
  endOfTurnConfidence: number,
  speechActive = false,
): RecognitionState => ({
  transcript,
  words: transcript.split(" ").map((word) => ({ word, confidence: 0.9 })),
  speechActive,
  endOfTurnConfidence,
});

/** Feeds one state per 80 ms frame; returns [frameEndMs, event, trigger] per emitted TurnInfo. */
function run(
  machine: TurnStateMachine,
  states: RecognitionState[],
): [number, string, string | undefined][] {
  const out: [number, string, string | undefined][] = [];
  states.forEach((state, i) => {
    const end = Math.round((i + 1) * 80);
    const u: TurnUpdate | undefined = machine.frame(state, end / 1000);
    if (u) out.push([end, u.event, u.trigger]);
  });
  return out;
}

describe("TurnStateMachine", () => {
  it("sends an Update every 240 ms of audio and lets a state change take that tick", () => {
    const m = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: undefined,
      eotTimeoutMs: 5000,
    });
    const states = [
      silent,
      silent,
      said("hi", 0.1, true),
      said("hi", 0.1, true),
      said("hi there", 0.1, true),
      said("hi there", 0.1),
      said("hi there", 0.8),
      silent,
      silent,
    ];
    expect(run(m, states)).toEqual([
      [240, "StartOfTurn", undefined], // replaces the 240 ms Update
      [480, "Update", undefined],
      [560, "EndOfTurn", "model"], // a state change goes out on its own 80 ms tick
      [720, "Update", undefined], // the 240 ms grid is unaffected
    ]);
  });

  it("ends a turn by model confidence, by timeout of streamed silence, and turns eot_threshold 1.0 into manual/timeout only", () => {
    const model = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: undefined,
      eotTimeoutMs: 5000,
    });
    expect(run(model, [said("a", 0.1, true), said("a", 0.5), said("a", 0.75)])).toEqual([
      [80, "StartOfTurn", undefined],
      [240, "EndOfTurn", "model"],
    ]);
    const timeout = new TurnStateMachine({
      eotThreshold: 1.0,
      eagerEotThreshold: undefined,
      eotTimeoutMs: 500,
    });
    const states = [said("a", 0.1, true), ...Array.from({ length: 7 }, () => said("a", 1.0))];
    expect(run(timeout, states).filter(([, e]) => e !== "Update")).toEqual([
      [80, "StartOfTurn", undefined],
      [640, "EndOfTurn", "timeout"], // 80 ms (last speech) + 560 ms ≥ 500 ms on the 80 ms grid
    ]);
    expect(timeout.currentTurnIndex).toBe(1);
  });

  it("in eager mode emits EagerEndOfTurn before a model EndOfTurn even when both thresholds are crossed at once", () => {
    const m = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: 0.4,
      eotTimeoutMs: 5000,
    });
    expect(run(m, [said("a b", 0.1, true), said("a b", 0.9), said("a b", 0.9)])).toEqual([
      [80, "StartOfTurn", undefined],
      [160, "EagerEndOfTurn", undefined],
      [240, "EndOfTurn", "model"],
    ]);
  });

  it("resumes a turn when the transcript changes or confidence drops below the eager threshold", () => {
    const m = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: 0.4,
      eotTimeoutMs: 5000,
    });
    const events = run(m, [
      said("a", 0.1, true),
      said("a", 0.5),
      said("a b", 0.1, true),
      said("a b", 0.5),
      said("a b", 0.2),
      said("a b", 0.5),
    ]);
    expect(events.map(([, e]) => e)).toEqual([
      "StartOfTurn",
      "EagerEndOfTurn",
      "TurnResumed",
      "EagerEndOfTurn",
      "TurnResumed",
      "EagerEndOfTurn",
    ]);
  });

  it("ForceEndTurn ends an open turn (also over a pending eager, without TurnResumed) and is refused when idle", () => {
    const m = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: 0.4,
      eotTimeoutMs: 5000,
    });
    expect(m.forceEnd()).toBeUndefined();
    run(m, [said("a", 0.1, true), said("a", 0.5)]);
    expect(m.forceEnd()).toMatchObject({
      event: "EndOfTurn",
      trigger: "manual",
      transcript: "a",
      turnIndex: 0,
      endOfTurnConfidence: 0.5,
    });
    expect(m.turnOpen).toBe(false);
    expect(m.forceEnd()).toBeUndefined();
    // The next Update carries the new index, an empty transcript and the new window start.
    const next = m.frame(silent, 0.24);
    expect(next).toMatchObject({
      event: "Update",
      turnIndex: 1,
      transcript: "",
      audioWindowStart: 0.16,
    });
  });

  it("flushes an Update for audio not yet reported, and nothing when everything was reported", () => {
    const m = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: undefined,
      eotTimeoutMs: 5000,
    });
    run(m, [silent, silent, silent]);
    expect(m.finalUpdate()).toBeUndefined();
    m.frame(silent, 0.32);
    expect(m.finalUpdate(silent, 0.35)).toMatchObject({ event: "Update", audioWindowEnd: 0.35 });
  });
});

describe("TurnStateMachine.finalUpdate", () => {
  it("keeps the CloseStream Update empty when the flushed audio holds the first words (no turn opens)", () => {
    const m = new TurnStateMachine({
      eotThreshold: 0.7,
      eagerEotThreshold: undefined,
      eotTimeoutMs: 5000,
    });
    m.frame(silent, 0.08);
    expect(m.finalUpdate(said("late words", 0.2), 0.081)).toMatchObject({
      event: "Update",
      transcript: "",
      words: [],
    });
  });
});
