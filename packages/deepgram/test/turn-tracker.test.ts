/**
 * TurnTracker on its own: Flux `TurnInfo`s from successive connections (scripted
 * messages, no socket) → one continuous stream of turn events.
 */
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import type { TurnEvent, TurnInfoMessage } from "@voxpipe/flux-protocol";
import { TurnTracker, type TurnTimeline } from "../src/client/turn-tracker.js";
import type { FluxEndOfTurnEvent, FluxEvent } from "../src/events.js";

function info(
  event: TurnEvent,
  turnIndex: number,
  transcript: string,
  window: [number, number],
  extra: Partial<TurnInfoMessage> = {},
): TurnInfoMessage {
  const words = transcript
    .split(" ")
    .filter((w) => w !== "")
    .map((word, i) => ({ word, confidence: 0.8 + i * 0.1, start: window[0] + i * 0.3 }));
  return {
    type: "TurnInfo",
    request_id: "r",
    sequence_id: 0,
    event,
    turn_index: turnIndex,
    audio_window_start: window[0],
    audio_window_end: window[1],
    transcript,
    words,
    ...extra,
  };
}

function setup(): { tracker: TurnTracker; events: FluxEvent[] } {
  const events: FluxEvent[] = [];
  const tracker = new TurnTracker({
    emit: (e) => events.push(e),
    sentAt: () => undefined,
    log: pino({ level: "silent" }),
  });
  return { tracker, events };
}

/** A connection's timeline as the tracker sees it (what `Connection` implements). */
function timeline(offset: number, turnIndexOffset = 0, resumeUntil?: number): TurnTimeline {
  const t = {
    offset,
    turnIndexOffset,
    resumeUntil,
    resumeSettled(): void {
      t.resumeUntil = undefined;
    },
    cutTurnClosed(): void {
      t.resumeUntil = undefined;
      t.turnIndexOffset += 1;
    },
  };
  return t;
}

const summary = (events: FluxEvent[]): string[] =>
  events.map((e) =>
    e.type === "EndOfTurn"
      ? `End#${e.turnIndex}:${e.trigger}:${e.transcript}`
      : "turnIndex" in e
        ? `${e.type}#${e.turnIndex}`
        : e.type,
  );

describe("TurnTracker", () => {
  it("keeps times and turn indices continuous on a new connection", () => {
    const { tracker, events } = setup();
    const first = timeline(0);
    tracker.onTurnInfo(first, info("StartOfTurn", 0, "hello", [0.5, 1]));
    tracker.onTurnInfo(first, info("EndOfTurn", 0, "hello there", [0.5, 2], { trigger: "model" }));
    // A new connection whose audio starts at 2 s of the stream: Flux restarts at turn 0, time 0.
    const second = timeline(2, tracker.nextTurnIndexOffset());
    tracker.onTurnInfo(second, info("StartOfTurn", 0, "again", [0.2, 0.6]));
    tracker.onTurnInfo(second, info("EndOfTurn", 0, "again", [0.2, 1.5]));
    expect(summary(events)).toEqual([
      "StartOfTurn#0",
      "End#0:model:hello there",
      "StartOfTurn#1",
      "End#1:model:again",
    ]);
    const last = events.at(-1) as FluxEndOfTurnEvent;
    expect([last.audioWindowStart, last.audioWindowEnd, last.words[0]?.start]).toEqual([
      2.2, 3.5, 2.2,
    ]);
    expect(last.confidence).toBeCloseTo(0.8, 9);
    expect([tracker.turns, tracker.isOpen, tracker.processedUntil]).toEqual([2, false, 3.5]);
  });

  it("never emits a final twice, and turns a repeated EndOfTurn into nothing", () => {
    const { tracker, events } = setup();
    const conn = timeline(0);
    tracker.onTurnInfo(conn, info("StartOfTurn", 0, "hi", [0, 0.5]));
    tracker.onTurnInfo(conn, info("EndOfTurn", 0, "hi", [0, 1]));
    tracker.onTurnInfo(conn, info("EndOfTurn", 0, "hi", [0, 1.2]));
    expect(summary(events)).toEqual(["StartOfTurn#0", "End#0:model:hi"]);
  });

  it("an EndOfTurn without a known start opens and closes its turn", () => {
    const { tracker, events } = setup();
    const conn = timeline(0);
    tracker.onTurnInfo(conn, info("EndOfTurn", 0, "lost start", [0, 1], { trigger: "timeout" }));
    expect(summary(events)).toEqual(["StartOfTurn#0", "End#0:timeout:lost start"]);
  });

  it("continues a turn cut by a drop when Flux re-opens it, with no second StartOfTurn", () => {
    const { tracker, events } = setup();
    const first = timeline(0);
    tracker.onTurnInfo(first, info("StartOfTurn", 0, "book a", [1, 1.5]));
    expect(tracker.replayFrom(0.5)).toBe(0.5); // the turn's first word minus the margin
    const second = timeline(0.5, tracker.nextTurnIndexOffset(), 3);
    tracker.onTurnInfo(second, info("StartOfTurn", 0, "book a", [0.5, 1.2]));
    tracker.onTurnInfo(second, info("EndOfTurn", 0, "book a table", [0.5, 2]));
    expect(summary(events)).toEqual(["StartOfTurn#0", "Update#0", "End#0:model:book a table"]);
    expect(tracker.turns).toBe(1);
  });

  it("closes a cut turn Flux does not re-open (connection-lost) and goes on with the next", () => {
    const { tracker, events } = setup();
    const first = timeline(0);
    tracker.onTurnInfo(first, info("StartOfTurn", 0, "cut", [1, 1.5]));
    const second = timeline(0.5, tracker.nextTurnIndexOffset(), 2);
    tracker.onTurnInfo(second, info("Update", 0, "", [0, 0.5])); // not re-opened yet: held back
    tracker.onTurnInfo(second, info("Update", 0, "", [0, 1.6])); // past resumeUntil: give up
    tracker.onTurnInfo(second, info("StartOfTurn", 0, "next", [1.7, 2]));
    tracker.onTurnInfo(second, info("EndOfTurn", 0, "next", [1.7, 2.5]));
    expect(summary(events)).toEqual([
      "StartOfTurn#0",
      "End#0:connection-lost:cut",
      "StartOfTurn#1",
      "End#1:model:next",
    ]);
    expect((events[1] as FluxEndOfTurnEvent).synthetic).toBe(true);
    expect((events[3] as FluxEndOfTurnEvent).synthetic).toBe(false);
  });

  it("closeOpen ends the open turn with voxpipe's trigger, and only once", () => {
    const { tracker, events } = setup();
    const conn = timeline(0);
    tracker.onTurnInfo(conn, info("StartOfTurn", 0, "bye", [0, 0.5]));
    tracker.closeOpen("closed");
    tracker.closeOpen("closed");
    expect(summary(events)).toEqual(["StartOfTurn#0", "End#0:closed:bye"]);
  });
});

describe("TurnTracker latency figures", () => {
  it("measures the processing delay from sending the audio up to the EndOfTurn's window end", () => {
    const events: FluxEvent[] = [];
    // 80 ms chunks sent at real-time pace from wall time 1000 ms: chunk [t, t+0.08) at 1000 + t s.
    const sentAt = (t: number): number => 1000 + Math.floor(t / 0.08 + 1e-9) * 80;
    const tracker = new TurnTracker({
      emit: (e) => events.push(e),
      sentAt,
      log: pino({ level: "silent" }),
    });
    const conn = timeline(0);
    tracker.onTurnInfo(conn, info("StartOfTurn", 0, "hello", [0.4, 0.8]));
    const received = performance.now();
    // The last word ends at 1.0 s; the EndOfTurn describes audio up to 1.6 s (a chunk boundary).
    const m = info("EndOfTurn", 0, "hello there", [0.4, 1.6]);
    m.words = [
      { word: "hello", confidence: 0.9, start: 0.4, end: 0.7 },
      { word: "there", confidence: 0.9, start: 0.7, end: 1.0 },
    ];
    tracker.onTurnInfo(conn, m);
    const end = events.at(-1) as FluxEndOfTurnEvent;
    const receivedAt = end.receivedAt;
    expect(receivedAt).toBeGreaterThanOrEqual(received);
    // The chunk holding 1.6 s's last millisecond is [1.52, 1.6), sent at 1000 + 1520 ms —
    // not the chunk starting at 1.6 s, which is audio the EndOfTurn does not describe.
    expect(end.metrics.processingDelayMs).toBeCloseTo(receivedAt - 2520, 6);
    // The last word's end (1.0 s) is in the chunk sent at 1000 + 960 ms.
    expect(end.metrics.endOfSpeechToEndOfTurnWallMs).toBeCloseTo(receivedAt - 1960, 6);
    expect(end.metrics.endOfSpeechToEndOfTurnAudioMs).toBeCloseTo(600, 6);
  });
});
