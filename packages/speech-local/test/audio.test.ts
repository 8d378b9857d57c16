import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import wavefile from "wavefile";
import { readWav16k } from "../src/index.js";

const dir = await mkdtemp(join(tmpdir(), "speech-local-audio-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** 1 s of a 440 Hz tone at amplitude 0.3, as a WAV file of the given encoding and rate. */
async function toneWav(name: string, rate: number, encode?: (w: wavefile.WaveFile) => void) {
  const samples = Int16Array.from({ length: rate }, (_, i) =>
    Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 440 * i) / rate)),
  );
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, rate, "16", samples);
  encode?.(wav);
  const path = join(dir, name);
  await writeFile(path, wav.toBuffer());
  return path;
}

const rms = (pcm: Int16Array): number =>
  Math.sqrt(pcm.reduce((s, x) => s + (x / 32768) ** 2, 0) / pcm.length);

describe("readWav16k", () => {
  it("decodes 8 kHz μ-law and A-law telephone recordings to 16 kHz PCM", async () => {
    for (const [name, encode] of [
      ["mulaw.wav", (w: wavefile.WaveFile) => w.toMuLaw()],
      ["alaw.wav", (w: wavefile.WaveFile) => w.toALaw()],
    ] as const) {
      const pcm = await readWav16k(await toneWav(name, 8000, encode));
      expect(Math.abs(pcm.length - 16000)).toBeLessThan(50);
      // A sine of amplitude 0.3 has RMS 0.212 (companding noise is far smaller); reading the
      // 8-bit codes as linear PCM gives a loud, clipped signal instead.
      expect(rms(pcm)).toBeCloseTo(0.3 / Math.SQRT2, 1.5);
    }
  });

  it("keeps 16 kHz PCM as it is", async () => {
    const pcm = await readWav16k(await toneWav("pcm.wav", 16000));
    expect(pcm.length).toBe(16000);
    expect(pcm[40]).toBe(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 440 * 40) / 16000)));
  });
});
