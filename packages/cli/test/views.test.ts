import { describe, expect, it } from "vitest";
import { TerminalTurnView, confidenceBand } from "../src/view/terminal-view.js";
import { toJsonLine } from "../src/view/json-view.js";
import type { TurnEvent } from "../src/view/turn-event.js";

const words = [
  { word: "book", confidence: 0.95 },
  { word: "a", confidence: 0.85 },
  { word: "table", confidence: 0.75 },
  { word: "tomorrow", confidence: 0.4 },
];
const endOfTurn: TurnEvent = {
  event: "EndOfTurn",
  turnIndex: 2,
  transcript: "book a table tomorrow",
  words,
  audioWindowStart: 0.5,
  audioWindowEnd: 3.25,
  endOfTurnConfidence: 0.91,
};

function render(events: TurnEvent[], interactive: boolean, color: boolean): string {
  let out = "";
  const view = new TerminalTurnView({ write: (t) => (out += t), interactive, color });
  for (const e of events) view.handle(e);
  view.close();
  return out;
}

describe("confidenceBand", () => {
  it("uses the Flux quickstart bands", () => {
    expect([0.9, 0.899, 0.8, 0.79, 0.7, 0.69].map(confidenceBand)).toEqual([
      "green",
      "yellow",
      "yellow",
      "orange",
      "orange",
      "red",
    ]);
  });
});

describe("TerminalTurnView", () => {
  it("colours each final word by its confidence band", () => {
    const out = render([endOfTurn], false, true);
    expect(out).toContain("\x1b[32mbook\x1b[39m"); // green
    expect(out).toContain("\x1b[33ma\x1b[39m"); // yellow
    expect(out).toContain("\x1b[38;5;208mtable\x1b[39m"); // orange
    expect(out).toContain("\x1b[31mtomorrow\x1b[39m"); // red
  });

  it("prints ~ eager, … resumed and ✓ final lines, and redraws interims only on a terminal", () => {
    const base = { turnIndex: 0, words: [] };
    const events: TurnEvent[] = [
      { ...base, event: "StartOfTurn", transcript: "book" },
      { ...base, event: "Update", transcript: "book a" },
      { ...base, event: "EagerEndOfTurn", transcript: "book a table" },
      { ...base, event: "TurnResumed", transcript: "book a table" },
      { ...endOfTurn, turnIndex: 0 },
    ];
    const plain = render(events, false, false);
    expect(plain.split("\n")).toEqual([
      "~ [turn 0] book a table",
      "… [turn 0] resumed",
      "✓ [turn 0] book a table tomorrow  (0.50–3.25 s, conf 0.74)",
      "",
    ]);
    const live = render(events, true, false);
    expect(live).toContain("\r\x1b[2K… [turn 0] book a");
    expect(live.endsWith("✓ [turn 0] book a table tomorrow  (0.50–3.25 s, conf 0.74)\n")).toBe(
      true,
    );
  });
});

describe("toJsonLine", () => {
  it("uses Flux wire names and one line per event", () => {
    const line = toJsonLine(endOfTurn);
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({
      event: "EndOfTurn",
      turn_index: 2,
      transcript: "book a table tomorrow",
      words,
      audio_window_start: 0.5,
      audio_window_end: 3.25,
      end_of_turn_confidence: 0.91,
    });
  });

  it("serialises errors and reconnects", () => {
    expect(
      JSON.parse(toJsonLine({ event: "Error", code: "TIMEOUT", message: "stalled", fatal: false })),
    ).toEqual({
      event: "Error",
      code: "TIMEOUT",
      message: "stalled",
      fatal: false,
    });
    expect(JSON.parse(toJsonLine({ event: "Reconnecting", attempt: 2 }))).toEqual({
      event: "Reconnecting",
      attempt: 2,
    });
  });
});
