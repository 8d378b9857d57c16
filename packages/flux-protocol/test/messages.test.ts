import { describe, expect, it } from "vitest";
import {
  encodeServerMessage,
  float32,
  parseClientMessage,
  parseServerMessage,
  type TurnInfoMessage,
} from "../src/index.js";

describe("float32", () => {
  it("prints floats the way Flux does (shortest float32 text)", () => {
    expect(JSON.stringify(float32(Math.fround(0.48) - 2 ** -25))).toBe("0.47999996");
    expect(float32(0.24)).toBe(0.24);
    expect(float32(0.7)).toBe(0.7);
    expect(float32(1 / 3)).toBe(0.33333334);
    expect(float32(0)).toBe(0);
  });
});

describe("parseClientMessage", () => {
  it("accepts the three v2 messages", () => {
    expect(parseClientMessage('{"type":"CloseStream"}')).toEqual({ type: "CloseStream" });
    expect(parseClientMessage('{"type":"ForceEndTurn"}')).toEqual({ type: "ForceEndTurn" });
    expect(
      parseClientMessage(
        '{"type":"Configure","thresholds":{"eot_threshold":0.8},"keyterms":"Voxpipe","language_hints":null}',
      ),
    ).toEqual({
      type: "Configure",
      thresholds: { eot_threshold: 0.8 },
      keyterms: ["Voxpipe"],
      language_hints: null,
    });
  });

  it("refuses v1 messages, wrong types and non-JSON with serde-style descriptions", () => {
    const keepAlive = parseClientMessage('{"type":"KeepAlive"}');
    expect(keepAlive).toEqual({
      type: "Invalid",
      description:
        "Could not deserialize last text message: unknown variant `KeepAlive`, expected one of `CloseStream`, `Configure`, `ForceEndTurn`",
    });
    expect(parseClientMessage('{"type":"Configure","numerals":"true"}').type).toBe("Invalid");
    const features = parseClientMessage('{"type":"Configure","features":{"numerals":true}}');
    expect(features.type === "Invalid" && features.description).toContain(
      "unknown field `features`",
    );
    expect(parseClientMessage("hello").type).toBe("Invalid");
    expect(parseClientMessage("[1]").type).toBe("Invalid");
    expect(
      parseClientMessage('{"type":"Configure","thresholds":{"eot_timeout_ms":1.5}}').type,
    ).toBe("Invalid");
  });
});

describe("parseServerMessage", () => {
  it("parses a documented TurnInfo", () => {
    const m = parseServerMessage(
      '{"type":"TurnInfo","request_id":"r","event":"EndOfTurn","turn_index":0,"audio_window_start":0,"audio_window_end":1.3,"transcript":"Hello, how are you?","words":[{"word":"Hello,","confidence":0.96}],"languages":["en"],"languages_hinted":["en","es","de"],"end_of_turn_confidence":0.86,"trigger":"model","sequence_id":11}',
    );
    expect(m.type).toBe("TurnInfo");
    expect(m.type === "TurnInfo" && m.trigger).toBe("model");
    expect(m.type === "TurnInfo" && m.languages_hinted).toEqual(["en", "es", "de"]);
  });

  it("never throws: unknown types, events, malformed and non-JSON frames become Unknown", () => {
    expect(parseServerMessage('{"type":"Metadata","sequence_id":4}')).toMatchObject({
      type: "Unknown",
      reason: "unknown-type",
      wireType: "Metadata",
      sequence_id: 4,
    });
    expect(parseServerMessage('{"type":"TurnInfo","event":"Bogus","sequence_id":2}')).toMatchObject(
      { type: "Unknown", reason: "unknown-event", event: "Bogus" },
    );
    expect(
      parseServerMessage('{"type":"TurnInfo","event":"Update","sequence_id":2}'),
    ).toMatchObject({ type: "Unknown", reason: "malformed" });
    expect(parseServerMessage("not json")).toMatchObject({ type: "Unknown", reason: "not-json" });
    expect(parseServerMessage("null")).toMatchObject({ type: "Unknown", reason: "malformed" });
  });

  it("accepts a Warning and an Error without request_id", () => {
    expect(
      parseServerMessage(
        '{"type":"Warning","request_id":"r","sequence_id":3,"code":"FORCE_END_TURN_NO_ACTIVE_TURN","description":"x"}',
      ).type,
    ).toBe("Warning");
    expect(
      parseServerMessage(
        '{"type":"Error","sequence_id":5,"code":"UNPARSABLE_CLIENT_MESSAGE","description":"x"}',
      ).type,
    ).toBe("Error");
  });
});

describe("encodeServerMessage", () => {
  it("writes keys in wire order with float32 numbers and round-trips through the parser", () => {
    const turn: TurnInfoMessage = {
      type: "TurnInfo",
      request_id: "r",
      sequence_id: 7,
      event: "EndOfTurn",
      turn_index: 1,
      audio_window_start: 0.4,
      audio_window_end: 1.76,
      transcript: "Hi there",
      words: [
        { word: "Hi", confidence: 0.95, start: 0.4, end: 0.56 },
        { word: "there", confidence: 1 / 3 },
      ],
      end_of_turn_confidence: 0.72,
      trigger: "model",
      languages: ["en"],
      languages_hinted: [],
    };
    const text = encodeServerMessage(turn);
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      "type",
      "request_id",
      "event",
      "turn_index",
      "audio_window_start",
      "audio_window_end",
      "transcript",
      "words",
      "languages",
      "languages_hinted",
      "end_of_turn_confidence",
      "trigger",
      "sequence_id",
    ]);
    expect(text).toContain('"confidence":0.33333334');
    expect(parseServerMessage(text)).toEqual({
      ...turn,
      words: [turn.words[0], { word: "there", confidence: 0.33333334 }],
    });
    expect(
      encodeServerMessage({
        type: "Error",
        sequence_id: 3,
        code: "INTERNAL_SERVER_ERROR",
        description: "boom",
      }),
    ).toBe('{"type":"Error","sequence_id":3,"code":"INTERNAL_SERVER_ERROR","description":"boom"}');
  });
});

describe("encodeServerMessage (property)", () => {
  it("writes TurnInfo exactly as JSON.stringify would write it in wire order, and it parses back", async () => {
    const fc = (await import("fast-check")).default;
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
    const word = fc.record(
      { word: fc.string(), confidence: finite, start: finite, end: finite },
      { requiredKeys: ["word", "confidence"] },
    );
    const turnInfo = fc.record(
      {
        type: fc.constant("TurnInfo" as const),
        request_id: fc.uuid(),
        sequence_id: fc.nat(),
        event: fc.constantFrom(
          "Update",
          "StartOfTurn",
          "EagerEndOfTurn",
          "TurnResumed",
          "EndOfTurn",
        ),
        turn_index: fc.nat(),
        audio_window_start: finite,
        audio_window_end: finite,
        transcript: fc.string(),
        words: fc.array(word, { maxLength: 5 }),
        end_of_turn_confidence: finite,
        trigger: fc.constantFrom("model", "manual", "timeout"),
        languages: fc.array(fc.string(), { maxLength: 3 }),
        languages_hinted: fc.array(fc.string(), { maxLength: 3 }),
      },
      {
        requiredKeys: [
          "type",
          "request_id",
          "sequence_id",
          "event",
          "turn_index",
          "audio_window_start",
          "audio_window_end",
          "transcript",
          "words",
        ],
      },
    );
    fc.assert(
      fc.property(turnInfo, (m) => {
        const reference = JSON.stringify({
          type: m.type,
          request_id: m.request_id,
          event: m.event,
          turn_index: m.turn_index,
          audio_window_start: float32(m.audio_window_start),
          audio_window_end: float32(m.audio_window_end),
          transcript: m.transcript,
          words: m.words.map((w) => ({
            word: w.word,
            confidence: float32(w.confidence),
            start: w.start === undefined ? undefined : float32(w.start),
            end: w.end === undefined ? undefined : float32(w.end),
          })),
          languages: m.languages,
          languages_hinted: m.languages_hinted,
          end_of_turn_confidence:
            m.end_of_turn_confidence === undefined ? undefined : float32(m.end_of_turn_confidence),
          trigger: m.trigger,
          sequence_id: m.sequence_id,
        });
        const text = encodeServerMessage(m);
        expect(text).toBe(reference);
        expect(parseServerMessage(text).type).toBe("TurnInfo");
      }),
      { numRuns: 500 },
    );
  });
});
