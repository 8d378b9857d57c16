import { describe, expect, it } from "vitest";
import { RecentAudio } from "../src/recent-audio.js";

/** Samples numbered by their place in the stream (mod 2^15), so a window shows what it holds. */
const numbered = (from: number, n: number): Int16Array =>
  Int16Array.from({ length: n }, (_, i) => (from + i) % 32768);

describe("RecentAudio", () => {
  it("keeps the last window of the stream, oldest first, whatever the chunk sizes", () => {
    const recent = new RecentAudio(0.1); // 1600 samples
    let sent = 0;
    // Chunks that fill it partly, wrap its end, exceed it whole, and land exactly on its end.
    for (const n of [1280, 7, 333, 1600, 5000, 1, 1599, 1280, 960]) {
      recent.push(numbered(sent, n), (sent + n) / 16000);
      sent += n;
      const { pcm, start } = recent.read();
      const kept = Math.min(sent, 1600);
      expect(pcm).toEqual(numbered(sent - kept, kept));
      expect(start).toBeCloseTo((sent - kept) / 16000, 9);
    }
  });

  it("dates the window by the stream time the latest chunk ends at", () => {
    // A stream that began before this window: 0.5 s of audio ending at 12 s of stream time.
    const recent = new RecentAudio(2.5);
    recent.push(new Int16Array(8000), 12);
    const { pcm, start } = recent.read();
    expect(pcm.length).toBe(8000);
    expect(start).toBeCloseTo(11.5, 9);
    expect(new RecentAudio(1).read()).toEqual({ pcm: new Int16Array(0), start: 0 });
    expect(() => new RecentAudio(0)).toThrow(/seconds must be a positive number, got 0/);
  });

  it("hands out a copy: later audio does not change a window already read", () => {
    const recent = new RecentAudio(0.01); // 160 samples
    recent.push(numbered(0, 160), 0.01);
    const before = recent.read().pcm;
    recent.push(numbered(160, 160), 0.02);
    expect(before).toEqual(numbered(0, 160));
  });
});
