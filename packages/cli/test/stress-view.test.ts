import { describe, expect, it } from "vitest";
import { StressLiveView } from "../src/stress/live-view.js";
import { formatReport } from "../src/stress/report.js";
import type { StressReport } from "../src/stress/report.js";
import { AggregateStats, ConnectionStats } from "../src/stress/stats.js";

function capture(interactive: boolean): { view: StressLiveView; out: () => string } {
  let text = "";
  const view = new StressLiveView({ write: (t) => (text += t), interactive, color: false });
  return { view, out: () => text };
}

describe("StressLiveView", () => {
  it("prints each event with its connection, confidence and turn", () => {
    const { view, out } = capture(false);
    view.turnEvent(3, { event: "Update", turnIndex: 0, transcript: "" });
    view.turnEvent(3, { event: "Update", turnIndex: 0, transcript: "hello how are you" });
    view.turnEvent(3, {
      event: "EagerEndOfTurn",
      turnIndex: 0,
      transcript: "hello, how are you?",
      endOfTurnConfidence: 0.873,
    });
    view.turnEvent(3, { event: "TurnResumed", turnIndex: 1, transcript: "hello, how are" });
    view.turnEvent(3, {
      event: "EndOfTurn",
      turnIndex: 0,
      transcript: "hello, how are you?",
      endOfTurnConfidence: 0.912,
    });
    view.error(2, { code: "UNPARSABLE_CLIENT_MESSAGE", message: "bad message", fatal: true });
    view.reconnecting(2, 1, "connection closed");
    view.reconnected(2);
    expect(out().split("\n")).toEqual([
      "[Conn 3] hello how are you [update]",
      "[Conn 3] ~ hello, how are you? (87.3%) [eager, turn 0]",
      "[Conn 3] ... resumed [turn 1]",
      "[Conn 3] ✓ hello, how are you? (91.2%) [turn 0]",
      "[Conn 2] ✗ error UNPARSABLE_CLIENT_MESSAGE: bad message",
      "[Conn 2] ↻ reconnecting (attempt 1): connection closed",
      "[Conn 2] ↻ reconnected",
      "",
    ]);
  });

  it("keeps the progress line at the bottom on a terminal", () => {
    const { view, out } = capture(true);
    view.progress({ elapsedMs: 1500, up: 2, total: 3, turns: 0, audioSeconds: 3 });
    view.turnEvent(1, { event: "EndOfTurn", turnIndex: 0, transcript: "hi" });
    view.close();
    const progress = "⏱ 1.5 s · 2/3 connections up · 0 turns completed · 3.0 s audio";
    expect(out()).toBe(`\r\x1b[2K${progress}\r\x1b[2K[Conn 1] ✓ hi [turn 0]\n${progress}\n`);
  });

  it("prints progress as plain lines when not on a terminal", () => {
    const { view, out } = capture(false);
    view.progress({ elapsedMs: 10_000, up: 50, total: 50, turns: 120, audioSeconds: 500 });
    expect(out()).toBe("⏱ 10.0 s · 50/50 connections up · 120 turns completed · 500.0 s audio\n");
  });

  it("has a legend naming every symbol", () => {
    const { view, out } = capture(false);
    view.legend();
    for (const s of ["[update]", "~", "...", "✓", "(%)", "↻", "✗"]) expect(out()).toContain(s);
  });
});

describe("formatReport", () => {
  it("shows per-connection rows, the aggregate, latency percentiles, errors and client figures", () => {
    const a = new ConnectionStats(1, 32000);
    const b = new ConnectionStats(2, 32000);
    a.audioSent(32000 * 10);
    b.audioSent(32000 * 10);
    a.turnEvent({
      event: "EndOfTurn",
      turnIndex: 0,
      transcript: "x",
      metrics: { endOfSpeechToEndOfTurnAudioMs: 250 },
    });
    b.error("INTERNAL_SERVER_ERROR");
    const report: StressReport = {
      mode: "file",
      endpoint: "ws://127.0.0.1:1234/v2/listen",
      settings: { model: "flux-general-en", sample_rate: 16000, keyterms: 0 },
      connections: 2,
      durationSeconds: 10,
      perConnection: [a, b].map((c) => ({ connection: c.id, ...c.summary() })),
      aggregate: AggregateStats.of([a, b]).summary(),
      client: {
        wallMs: 10_000,
        cpuUserMs: 800,
        cpuSystemMs: 200,
        cores: 0.1,
        rssBaselineMiB: 80,
        rssPeakMiB: 90,
        rssAboveBaselineMiB: 10,
        heapUsedMiB: 20,
        cpuMsPerConnection: 500,
        rssPerConnectionMiB: 5,
      },
    };
    const text = formatReport(report, { color: false });
    expect(text).toContain("Summary: 2 connections, 10.0 s, file → ws://127.0.0.1:1234/v2/listen");
    expect(text).toMatch(/Conn 1 +1 .* 10\.0 +250 +-/);
    expect(text).toMatch(/All +1 /);
    expect(text).toMatch(/end of turn, audio time from speech end +1 +250/);
    expect(text).toContain("Errors: INTERNAL_SERVER_ERROR ×1");
    expect(text).toContain("CPU 10.0% of one core");
    expect(text).toContain("10.0 MiB above baseline (5.00 MiB per connection)");
  });
});
