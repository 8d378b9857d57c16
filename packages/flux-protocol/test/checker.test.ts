import { describe, expect, it } from "vitest";
import {
  checkTurnSequence,
  type KnownServerMessage,
  type TurnEvent,
  type TurnInfoMessage,
} from "../src/index.js";

const rid = "3f9c2a10-5d1e-4c8b-9a77-2b1e0c4d5e6f";

/** Builds a stream with contiguous sequence ids from compact turn steps. */
function stream(
  steps: ((Partial<TurnInfoMessage> & { event: TurnEvent }) | KnownServerMessage)[],
): KnownServerMessage[] {
  let end = 0;
  const out: KnownServerMessage[] = [{ type: "Connected", request_id: rid, sequence_id: 0 }];
  for (const step of steps) {
    const seq = out.length;
    if ("type" in step && step.type !== "TurnInfo") {
      out.push({ ...step, sequence_id: seq } as KnownServerMessage);
      continue;
    }
    end += 0.24;
    out.push({
      type: "TurnInfo",
      request_id: rid,
      sequence_id: seq,
      turn_index: 0,
      audio_window_start: 0,
      audio_window_end: end,
      transcript: "",
      words: [],
      end_of_turn_confidence: 0.1,
      ...step,
    });
  }
  return out;
}

describe("checkTurnSequence", () => {
  it("passes a well-formed eager stream with a resumed turn", () => {
    const report = checkTurnSequence(
      stream([
        { event: "Update" },
        { event: "StartOfTurn", transcript: "Hi" },
        { event: "EagerEndOfTurn", transcript: "Hi there" },
        { event: "TurnResumed", transcript: "Hi there friend" },
        { event: "EagerEndOfTurn", transcript: "Hi there friend." },
        {
          type: "ConfigureSuccess",
          request_id: rid,
          sequence_id: 0,
          thresholds: { eot_threshold: 0.7 },
          keyterms: [],
        },
        { event: "Update", transcript: "Hi there friend." },
        { event: "EndOfTurn", transcript: "Hi there friend.", trigger: "model" },
        { event: "Update", turn_index: 1 },
        {
          type: "Warning",
          request_id: rid,
          sequence_id: 0,
          code: "FORCE_END_TURN_NO_ACTIVE_TURN",
          description: "ignored",
        },
      ]),
    );
    expect(report).toEqual({ ok: true, violations: [] });
  });

  it("reports each broken guarantee", () => {
    const rules = (steps: Parameters<typeof stream>[0]) =>
      checkTurnSequence(stream(steps)).violations.map((v) => v.rule);
    expect(rules([{ event: "EndOfTurn", transcript: "x", trigger: "model" }])).toContain(
      "start-of-turn-first",
    );
    expect(
      rules([
        { event: "StartOfTurn", transcript: "x" },
        { event: "TurnResumed", transcript: "x" },
      ]),
    ).toEqual(["resumed-after-eager"]);
    expect(
      rules([
        { event: "StartOfTurn", transcript: "x" },
        { event: "EagerEndOfTurn", transcript: "x y" },
        { event: "EndOfTurn", transcript: "x y z", trigger: "model" },
      ]),
    ).toEqual(["end-transcript-matches-eager"]);
    expect(
      rules([
        { event: "StartOfTurn", transcript: "x" },
        { event: "EndOfTurn", transcript: "x" },
      ]),
    ).toEqual(["trigger-on-end-of-turn-only"]);
    expect(rules([{ event: "Update", trigger: "model" }])).toEqual(["trigger-on-end-of-turn-only"]);
    expect(
      rules([
        { event: "StartOfTurn", transcript: "x" },
        { event: "EndOfTurn", transcript: "x", trigger: "model" },
        { event: "Update" },
      ]),
    ).toEqual(["turn-index"]);
    expect(rules([{ event: "StartOfTurn", transcript: "" }])).toEqual(["start-of-turn-non-empty"]);
    expect(rules([{ event: "Update", transcript: "stray" }])).toEqual(["empty-between-turns"]);
    expect(
      rules([
        { type: "Error", sequence_id: 0, code: "INTERNAL_SERVER_ERROR", description: "x" },
        { event: "Update" },
      ]),
    ).toEqual(["nothing-after-error"]);
  });

  it("checks sequence ids, Connected first, request ids, audio time and multilingual fields", () => {
    const s = stream([{ event: "Update" }, { event: "Update" }]);
    const gap = [...s];
    gap[2] = { ...(gap[2] as TurnInfoMessage), sequence_id: 5 };
    expect(checkTurnSequence(gap).violations.map((v) => v.rule)).toEqual([
      "contiguous-sequence-id",
    ]);
    expect(checkTurnSequence(s.slice(1)).violations[0]?.rule).toBe("connected-first");
    const other = [...s];
    other[1] = { ...(other[1] as TurnInfoMessage), request_id: "other", audio_window_end: 9 };
    expect(checkTurnSequence(other).violations.map((v) => v.rule)).toEqual([
      "same-request-id",
      "audio-time-monotonic",
    ]);
    expect(
      checkTurnSequence(s, { model: "flux-general-multi" }).violations.map((v) => v.rule),
    ).toEqual(["multilingual-fields", "multilingual-fields"]);
    const late = [...s];
    late[2] = { ...(late[2] as TurnInfoMessage), audio_window_end: 0.8 };
    expect(checkTurnSequence(late).violations).toEqual([]);
    expect(
      checkTurnSequence(late, { maxUpdateGapSeconds: 0.24 }).violations.map((v) => v.rule),
    ).toEqual(["update-cadence"]);
  });
});
