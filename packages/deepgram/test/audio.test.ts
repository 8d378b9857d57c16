import { describe, expect, it } from "vitest";
import { AudioChunker } from "../src/audio/chunker.js";
import { chunkBytes, silence } from "../src/audio/format.js";
import { ReplayBuffer, type TimedChunk } from "../src/audio/replay-buffer.js";

const PCM16K = { encoding: "linear16", sampleRate: 16000 } as const;

describe("80 ms chunking", () => {
  it("sizes 80 ms chunks per format (2560 bytes at 16 kHz linear16, 640 at 8 kHz μ-law)", () => {
    expect(chunkBytes(PCM16K, 80)).toBe(2560);
    expect(chunkBytes({ encoding: "mulaw", sampleRate: 8000 }, 80)).toBe(640);
    expect(chunkBytes({ encoding: "linear16", sampleRate: 44100 }, 80)).toBe(7056);
  });

  it("re-chunks odd-sized frames into exact chunks without losing or reordering a byte", () => {
    const chunker = new AudioChunker(2560);
    const input = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    const out: Uint8Array[] = [];
    for (let i = 0; i < input.length; i += 333)
      out.push(...chunker.push(input.subarray(i, i + 333)));
    expect(out.every((c) => c.length === 2560)).toBe(true);
    const rest = chunker.flush();
    const joined = new Uint8Array([...out.flatMap((c) => [...c]), ...(rest ?? [])]);
    expect(joined).toEqual(input);
    expect(chunker.flush()).toBeUndefined();
  });

  it("encodes silence per encoding (0 for PCM, 0xFF μ-law, 0xD5 A-law)", () => {
    expect([...silence(PCM16K, 4)]).toEqual([0, 0, 0, 0]);
    expect([...silence({ encoding: "mulaw", sampleRate: 8000 }, 2)]).toEqual([0xff, 0xff]);
    expect([...silence({ encoding: "alaw", sampleRate: 8000 }, 2)]).toEqual([0xd5, 0xd5]);
  });
});

describe("ReplayBuffer", () => {
  const chunk = (start: number, sent = true): TimedChunk => ({
    start,
    duration: 0.08,
    bytes: new Uint8Array(2560),
    format: PCM16K,
    sentAt: sent ? 1 : undefined,
  });

  it("returns the audio after a point in time and trims what results covered", () => {
    const buffer = new ReplayBuffer(10);
    for (let i = 0; i < 10; i++) buffer.push(chunk(i * 0.08));
    const starts = buffer.from(0.4).map((c) => c.start);
    expect(starts).toHaveLength(5);
    [0.4, 0.48, 0.56, 0.64, 0.72].forEach((t, i) => expect(starts[i]).toBeCloseTo(t, 6));
    buffer.trimBefore(0.4);
    expect(buffer.start).toBeCloseTo(0.4, 6);
    expect(buffer.seconds).toBeCloseTo(0.4, 6);
    expect(buffer.at(0.5)?.start).toBeCloseTo(0.48, 6);
  });

  it("stays bounded and reports only never-sent audio as lost", () => {
    const buffer = new ReplayBuffer(0.4);
    let lost = 0;
    for (let i = 0; i < 5; i++) lost += buffer.push(chunk(i * 0.08, true));
    for (let i = 5; i < 10; i++) lost += buffer.push(chunk(i * 0.08, false));
    expect(buffer.seconds).toBeLessThanOrEqual(0.4 + 1e-9);
    expect(lost).toBe(0); // only sent chunks were dropped so far
    lost += buffer.push(chunk(0.8, false));
    expect(lost).toBeCloseTo(0.08, 6);
  });
});
