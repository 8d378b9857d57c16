import { describe, expect, it } from "vitest";
import { LatencyRecorder } from "../src/stress/latency.js";
import { AggregateStats, ConnectionStats } from "../src/stress/stats.js";
import type { ObservedTurnEvent } from "../src/stress/stats.js";

/** HDR histograms keep 3 significant digits: values come back within 0.1%. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * 0.001 + 1e-3);
}

describe("LatencyRecorder", () => {
  it("reports percentiles of the recorded durations within HDR precision (3 digits)", () => {
    const r = new LatencyRecorder();
    for (let ms = 1; ms <= 1000; ms++) r.record(ms);
    const s = r.summary();
    expect(s.count).toBe(1000);
    expectNear(s.min, 1);
    expectNear(s.p50, 500);
    expectNear(s.p90, 900);
    expectNear(s.p99, 990);
    expectNear(s.max, 1000);
    expectNear(s.mean, 500.5);
  });

  it("keeps sub-millisecond resolution", () => {
    const r = new LatencyRecorder();
    for (const ms of [0.12, 0.25, 0.31]) r.record(ms);
    expectNear(r.summary().p50, 0.25);
    expectNear(r.summary().max, 0.31);
  });

  it("merges exactly: the merge of two recorders equals one recorder of all samples", () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    const all = new LatencyRecorder();
    for (let i = 0; i < 300; i++) {
      const v = (i * 7.3) % 250;
      (i % 2 ? a : b).record(v);
      all.record(v);
    }
    const merged = new LatencyRecorder();
    merged.merge(a);
    merged.merge(b);
    expect(merged.summary()).toEqual(all.summary());
  });

  it("is all zeros without samples, clamps negatives to 0 and ignores non-finite values", () => {
    const r = new LatencyRecorder();
    expect(r.summary()).toEqual({
      count: 0,
      mean: 0,
      min: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      max: 0,
    });
    r.record(Number.NaN);
    r.record(Number.POSITIVE_INFINITY);
    expect(r.count).toBe(0);
    r.record(-3);
    expect(r.summary()).toMatchObject({ count: 1, min: 0, max: 0 });
  });
});

const turn = (
  event: ObservedTurnEvent["event"],
  turnIndex: number,
  extra: Partial<ObservedTurnEvent> = {},
): ObservedTurnEvent => ({
  event,
  turnIndex,
  transcript: "hello",
  ...extra,
});

describe("ConnectionStats", () => {
  it("counts events and turns and records each ended turn's latencies", () => {
    const s = new ConnectionStats(1, 32000);
    s.turnEvent(turn("Update", 0, { transcript: "" }));
    s.turnEvent(turn("StartOfTurn", 0));
    s.turnEvent(turn("Update", 0));
    s.turnEvent(turn("EagerEndOfTurn", 0));
    s.turnEvent(turn("TurnResumed", 0));
    s.turnEvent(turn("EagerEndOfTurn", 0));
    s.turnEvent(
      turn("EndOfTurn", 0, {
        metrics: {
          endOfSpeechToEndOfTurnAudioMs: 240,
          endOfSpeechToEndOfTurnWallMs: 262.5,
          processingDelayMs: 22.5,
          eagerToEndOfTurnMs: 40,
        },
      }),
    );
    s.turnEvent(turn("StartOfTurn", 1));
    // A turn without word timings: no audio or wall latency, no eager.
    s.turnEvent(turn("EndOfTurn", 1, { metrics: { endOfSpeechToEndOfTurnAudioMs: undefined } }));
    const sum = s.summary();
    expect(sum.turns).toBe(2);
    expect(sum.events).toEqual({
      Update: 2,
      StartOfTurn: 2,
      EagerEndOfTurn: 2,
      TurnResumed: 1,
      EndOfTurn: 2,
    });
    expect(sum.eotLatencyAudioMs.count).toBe(1);
    expectNear(sum.eotLatencyAudioMs.p50, 240);
    expect(sum.eotLatencyWallMs.count).toBe(1);
    expectNear(sum.eotLatencyWallMs.p50, 262.5);
    expect(sum.eotProcessingDelayMs.count).toBe(1);
    expectNear(sum.eotProcessingDelayMs.p50, 22.5);
    expect(sum.eagerLeadMs.count).toBe(1);
    expectNear(sum.eagerLeadMs.p50, 40);
  });

  it("pairs Configure acknowledgements with sends in order and measures the round trip", () => {
    const s = new ConnectionStats(2, 32000);
    s.configureSent(100);
    s.configureSent(150);
    s.configureAcknowledged(145, true);
    s.configureAcknowledged(230, false);
    const c = s.summary().configure;
    expect(c).toMatchObject({ sent: 2, succeeded: 1, failed: 1 });
    expect(c.roundTripMs.count).toBe(2);
    expectNear(c.roundTripMs.min, 45);
    expectNear(c.roundTripMs.max, 80);
  });

  it("tracks connection state, connect time, reconnects, errors by code and audio seconds", () => {
    const s = new ConnectionStats(3, 32000);
    s.connecting(1000);
    expect(s.up).toBe(false);
    s.connected(1012);
    expect(s.up).toBe(true);
    s.audioSent(32000 * 2.5);
    s.error("NET_CLOSED");
    s.disconnected();
    expect(s.up).toBe(false);
    s.connecting(3000);
    s.connected(3020);
    s.reconnected();
    s.error("NET_CLOSED");
    s.error("UNPARSABLE_CLIENT_MESSAGE");
    const sum = s.summary();
    expect(sum.audioSeconds).toBe(2.5);
    expect(sum.reconnects).toBe(1);
    expect(sum.errors).toEqual({ NET_CLOSED: 2, UNPARSABLE_CLIENT_MESSAGE: 1 });
    expect(sum.connectMs.count).toBe(2);
    expectNear(sum.connectMs.max, 20);
  });

  it("refuses a non-positive byte rate", () => {
    expect(() => new ConnectionStats(1, 0)).toThrow(/bytesPerSecond/);
  });
});

describe("AggregateStats", () => {
  it("sums counts and merges latency distributions of all connections", () => {
    const a = new ConnectionStats(1, 32000);
    const b = new ConnectionStats(2, 32000);
    a.audioSent(32000);
    b.audioSent(64000);
    a.turnEvent(
      turn("EndOfTurn", 0, {
        metrics: { endOfSpeechToEndOfTurnAudioMs: 100, processingDelayMs: 30 },
      }),
    );
    b.turnEvent(turn("EndOfTurn", 0, { metrics: { endOfSpeechToEndOfTurnAudioMs: 300 } }));
    b.turnEvent(
      turn("EndOfTurn", 1, {
        metrics: { endOfSpeechToEndOfTurnAudioMs: 500, processingDelayMs: 2500 },
      }),
    );
    a.error("X");
    b.error("X");
    b.warning("ENGINE_BEHIND_AUDIO");
    b.warning("ENGINE_BEHIND_AUDIO");
    a.warning("FORCE_END_TURN_NO_ACTIVE_TURN");
    b.reconnected();
    const total = AggregateStats.of([a, b]).summary();
    expect(total.turns).toBe(3);
    expect(total.events.EndOfTurn).toBe(3);
    expect(total.audioSeconds).toBe(3);
    expect(total.errors).toEqual({ X: 2 });
    // An overloaded server's Warnings, counted by code (a stream that fell behind stands out).
    expect(total.warnings).toEqual({ ENGINE_BEHIND_AUDIO: 2, FORCE_END_TURN_NO_ACTIVE_TURN: 1 });
    expect(b.summary().warnings).toEqual({ ENGINE_BEHIND_AUDIO: 2 });
    expect(total.eotProcessingDelayMs.count).toBe(2);
    expectNear(total.eotProcessingDelayMs.max, 2500);
    expect(total.reconnects).toBe(1);
    expect(total.eotLatencyAudioMs.count).toBe(3);
    expectNear(total.eotLatencyAudioMs.min, 100);
    expectNear(total.eotLatencyAudioMs.p50, 300);
    expectNear(total.eotLatencyAudioMs.max, 500);
  });
});
