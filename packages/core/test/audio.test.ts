import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  alawToPcm,
  decodeWav,
  encodeWav,
  float32ToS16,
  int16ToPcm,
  mulawToPcm,
  pcmToAlaw,
  pcmToInt16,
  pcmToMulaw,
  readWav,
  resample,
  s16ToFloat32,
  StreamResampler,
} from "@voxpipe/core";
import { tonePcm, wavFrames } from "@voxpipe/core/testing";

const dir = mkdtempSync(join(tmpdir(), "voxpipe-audio-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Zero crossings per second of a mono signal: 2 × its frequency for a pure tone. */
function crossingsPerSecond(samples: Int16Array, sampleRate: number): number {
  let n = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1] < 0 !== samples[i] < 0) n++;
  return n / (samples.length / sampleRate);
}

describe("WAV", () => {
  it("round-trips PCM s16le exactly", () => {
    const pcm = tonePcm(440, 100, 16000);
    const back = decodeWav(encodeWav(pcm, 16000));
    expect(back.sampleRate).toBe(16000);
    expect(back.numChannels).toBe(1);
    expect(Buffer.from(back.audio).equals(Buffer.from(pcm))).toBe(true);
  });

  it("reads sox-made 24-bit stereo and μ-law files as 16-bit PCM", async () => {
    const f24 = join(dir, "tone24.wav");
    const fmu = join(dir, "toneu.wav");
    execFileSync("sox", [
      "-n",
      "-r",
      "8000",
      "-b",
      "24",
      "-c",
      "2",
      f24,
      "synth",
      "0.5",
      "sine",
      "440",
      "vol",
      "0.5",
    ]);
    execFileSync("sox", [
      "-n",
      "-r",
      "8000",
      "-e",
      "u-law",
      "-c",
      "1",
      fmu,
      "synth",
      "0.5",
      "sine",
      "440",
      "vol",
      "0.5",
    ]);
    const w24 = await readWav(f24);
    expect([w24.sampleRate, w24.numChannels, w24.audio.byteLength]).toEqual([
      8000,
      2,
      4000 * 2 * 2,
    ]);
    const left = pcmToInt16(w24.audio).filter((_, i) => i % 2 === 0);
    expect(Math.max(...left)).toBeGreaterThan(15000);
    expect(Math.max(...left)).toBeLessThan(17000);
    expect(crossingsPerSecond(left, 8000)).toBeCloseTo(880, -1);
    const wmu = await readWav(fmu);
    expect([wmu.sampleRate, wmu.numChannels, wmu.audio.byteLength]).toEqual([8000, 1, 4000 * 2]);
    expect(crossingsPerSecond(pcmToInt16(wmu.audio), 8000)).toBeCloseTo(880, -1);
  });

  it("rejects data that is not WAV with a clear error", () => {
    expect(() => decodeWav(new TextEncoder().encode("hello, not a wav"))).toThrow(
      /not a readable WAV file/,
    );
  });

  it("wavFrames cuts a file into 20 ms frames at its own rate", async () => {
    const path = join(dir, "frames.wav");
    writeFileSync(path, encodeWav(tonePcm(300, 1000, 16000), 16000));
    const frames = await wavFrames(path);
    expect(frames).toHaveLength(50);
    expect(frames.every((f) => f.durationMs === 20 && f.sampleRate === 16000)).toBe(true);
  });
});

describe("sample formats", () => {
  it("s16 ⇄ float32 round-trips exactly and clips", () => {
    const s = new Int16Array([0, 1, -1, 1000, -1000, 32767, -32768]);
    const f = s16ToFloat32(int16ToPcm(s));
    expect(f[5]).toBeLessThan(1);
    expect(f[6]).toBe(-1);
    expect(Array.from(pcmToInt16(float32ToS16(f)))).toEqual(Array.from(s));
    expect(Array.from(pcmToInt16(float32ToS16(new Float32Array([2, -2]))))).toEqual([
      32767, -32768,
    ]);
  });

  it("μ-law and A-law encode like sox (G.711) and decode back closely", () => {
    const pcm = tonePcm(440, 50, 8000, 0.8);
    const raw = join(dir, "in.raw");
    writeFileSync(raw, pcm);
    const soxU = readFileSync(
      execFileSync("sh", [
        "-c",
        `sox -t raw -r 8000 -e signed -b 16 -c 1 ${raw} -t raw -e u-law ${join(dir, "u.raw")} && echo ${join(dir, "u.raw")}`,
      ])
        .toString()
        .trim(),
    );
    const soxA = readFileSync(
      execFileSync("sh", [
        "-c",
        `sox -t raw -r 8000 -e signed -b 16 -c 1 ${raw} -t raw -e a-law ${join(dir, "a.raw")} && echo ${join(dir, "a.raw")}`,
      ])
        .toString()
        .trim(),
    );
    const ours = { u: pcmToMulaw(pcm), a: pcmToAlaw(pcm) };
    const diff = (x: Uint8Array, y: Uint8Array): number =>
      x.reduce((n, b, i) => n + (b === y[i] ? 0 : 1), 0);
    expect(ours.u.byteLength).toBe(pcm.byteLength / 2);
    expect(diff(ours.u, soxU)).toBeLessThanOrEqual(ours.u.byteLength * 0.02);
    expect(diff(ours.a, soxA)).toBeLessThanOrEqual(ours.a.byteLength * 0.02);
    const orig = pcmToInt16(pcm);
    for (const back of [pcmToInt16(mulawToPcm(ours.u)), pcmToInt16(alawToPcm(ours.a))]) {
      const maxErr = Math.max(...Array.from(orig, (v, i) => Math.abs(v - back[i])));
      expect(maxErr).toBeLessThan(1100); // G.711 quantisation step at full scale
    }
  });
});

describe("resampling", () => {
  it("streams 48 kHz → 16 kHz in 20 ms chunks, keeping length and pitch", async () => {
    const rs = await StreamResampler.create({ inputRate: 48000, outputRate: 16000 });
    const input = tonePcm(440, 1000, 48000);
    const out: Uint8Array[] = [];
    for (let off = 0; off < input.byteLength; off += 1920)
      out.push(rs.process(input.subarray(off, off + 1920)));
    rs.destroy();
    const joined = pcmToInt16(Buffer.concat(out));
    expect(joined.length).toBeGreaterThan(16000 - 200);
    expect(joined.length).toBeLessThanOrEqual(16000);
    expect(crossingsPerSecond(joined.subarray(200), 16000)).toBeCloseTo(880, -1);
    expect(() => rs.process(input)).toThrow(/after destroy/);
  });

  it("resamples a whole buffer and validates its arguments", async () => {
    const out = await resample(tonePcm(440, 500, 16000), 16000, 8000);
    expect(pcmToInt16(out).length).toBeGreaterThan(3900);
    await expect(StreamResampler.create({ inputRate: 0, outputRate: 16000 })).rejects.toThrow(
      /inputRate must be an integer of Hz in 1–192000, got 0/,
    );
  });
});
