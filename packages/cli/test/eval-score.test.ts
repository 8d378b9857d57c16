import { describe, expect, it } from "vitest";
import {
  aggregate,
  normalizeWords,
  quantile,
  scoreSession,
  wordErrors,
} from "../src/eval/index.js";
import type { RecordedEvent } from "../src/eval/index.js";

const turns = [
  { start: 0.5, end: 2.0, transcript: "book a table" },
  { start: 3.5, end: 5.0, transcript: "for two people" },
  { start: 7.0, end: 8.0, transcript: "thanks" },
];

function eot(
  time: number,
  turnIndex: number,
  transcript: string,
  trigger = "model",
): RecordedEvent {
  return { event: "EndOfTurn", turnIndex, time, wallMs: time * 1000, transcript, trigger };
}

describe("scoreSession (Deepgram's method: false or missed ends of turn are infinite latency)", () => {
  it("measures latency from the end of the last word, and counts a cut turn as split and ∞", () => {
    const score = scoreSession(turns, [
      eot(2.3, 0, "Book a table."),
      eot(4.2, 1, "for"), // inside turn 1: premature
      eot(5.4, 2, "two people"),
      eot(8.5, 3, "Thanks!"),
    ]);
    expect(score.latenciesMs.map(Math.round)).toEqual([300, Infinity, 500]);
    expect(score.outcomes.map((o) => o.outcome)).toEqual(["detected", "split", "detected"]);
    expect(score).toMatchObject({
      detected: 3,
      missed: 0,
      splitTurns: 1,
      falseEots: 1,
      extraEots: 0,
      emittedEots: 4,
      referenceWords: 7,
      wordErrors: 0,
    });
  });

  it("counts a turn never ended as missed, a second EndOfTurn in a gap as extra, and forced ends as no detection", () => {
    const score = scoreSession(turns, [
      eot(2.1, 0, "book a table"),
      eot(3.0, 1, "uh"), // in the gap after turn 0 was already ended
      eot(8.0, 2, "for two people thanks", "manual"), // forced by the client at close
    ]);
    expect(score.latenciesMs).toEqual([expect.closeTo(100, 6), Infinity, Infinity]);
    expect(score).toMatchObject({
      detected: 1,
      missed: 2,
      extraEots: 1,
      emittedEots: 2,
      forcedEots: 1,
    });
    // The forced final still counts for WER: nothing said is lost; "uh" is an insertion.
    expect(score.wordErrors).toBe(1);
  });

  it("takes the eager lead from the last standing EagerEndOfTurn and compares eager and final transcripts", () => {
    const events: RecordedEvent[] = [
      { event: "EagerEndOfTurn", turnIndex: 0, time: 2.1, wallMs: 2100, transcript: "book a" },
      { event: "TurnResumed", turnIndex: 0, time: 2.2, wallMs: 2200, transcript: "book a" },
      {
        event: "EagerEndOfTurn",
        turnIndex: 0,
        time: 2.2,
        wallMs: 2250,
        transcript: "book a table",
      },
      eot(2.5, 0, "book a table"),
    ];
    const score = scoreSession(turns.slice(0, 1), events);
    expect(score.eagerEvents).toBe(2);
    expect(score.turnResumed).toBe(1);
    expect(score.eagerFinalDiffers).toBe(1);
    expect(score.eagerLeadsMs.map(Math.round)).toEqual([300]);
    expect(score.eagerLeadsWallMs).toEqual([250]);
  });
});

describe("aggregate", () => {
  it("reports p10–p90 with ∞ once that share of turns was cut or missed, and precision/recall/F1", () => {
    const good = scoreSession(turns, [
      eot(2.2, 0, "book a table"),
      eot(5.3, 1, "for two people"),
      eot(8.4, 2, "thanks"),
    ]);
    const bad = scoreSession(turns, [eot(1.0, 0, "book"), eot(2.5, 1, "a table")]);
    const m = aggregate([
      { score: good, audioSeconds: 10, reconnects: 0, violations: 0 },
      { score: bad, audioSeconds: 10, reconnects: 1, violations: 0 },
      { audioSeconds: 10, reconnects: 0, violations: 0 },
    ]);
    // Latencies: 200, 300, 400, 500(turn 0 of bad is split → ∞), ∞, ∞ … 6 turns, 3 infinite.
    expect(m.turns).toBe(6);
    expect(m.latencyMs.p10).toBeCloseTo(200, 6);
    expect(m.latencyMs.p50).toBeCloseTo(400, 6);
    expect(m.latencyMs.p60).toBe(Infinity);
    expect(m.latencyMs.p90).toBe(Infinity);
    expect(m.medianLatencyMs).toBe(m.latencyMs.p50);
    expect(m.precision).toBeCloseTo(4 / 5, 6);
    expect(m.recall).toBeCloseTo(4 / 6, 6);
    expect(m.f1).toBeCloseTo((2 * 0.8 * (4 / 6)) / (0.8 + 4 / 6), 6);
    expect([m.sessions, m.failedSessions, m.reconnects]).toEqual([2, 1, 1]);
    expect(m.latencyCurveMs).toHaveLength(99);
  });

  it("quantile is nearest rank with ∞ sorting last", () => {
    expect(quantile([Infinity, 100, 300, 200], 0.5)).toBe(200);
    expect(quantile([Infinity, 100], 0.9)).toBe(Infinity);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("WER normalisation (jiwer-style)", () => {
  it("lowercases, deletes punctuation and splits on whitespace", () => {
    expect(normalizeWords("  Hello, World!  It's  o'clock.")).toEqual([
      "hello",
      "world",
      "its",
      "oclock",
    ]);
    expect(wordErrors(["a", "b", "c"], ["a", "x", "c", "d"])).toBe(2);
  });
});
