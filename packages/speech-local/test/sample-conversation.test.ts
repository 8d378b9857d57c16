import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import wavefile from "wavefile";
import {
  librivoxClip,
  readWav16k,
  sampleConversation,
  SpeechLocalSetupError,
} from "../src/index.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Peak absolute sample of `pcm` between `from` and `to` seconds. */
function peak(pcm: Int16Array, from: number, to: number): number {
  let max = 0;
  for (let i = Math.round(from * 16000); i < Math.round(to * 16000); i++)
    max = Math.max(max, Math.abs(pcm[i]));
  return max;
}

describe("sampleConversation", () => {
  it("writes the three LibriVox turns as one 16 kHz mono WAV, 1.5 s apart, with their transcripts", async () => {
    const sample = await sampleConversation();
    dirs.push(join(sample.path, ".."));
    expect(sample.path.startsWith(tmpdir())).toBe(true);
    const wav = new wavefile.WaveFile(await readFile(sample.path));
    const fmt = wav.fmt as { numChannels: number; sampleRate: number };
    expect([fmt.numChannels, fmt.sampleRate, wav.bitDepth]).toEqual([1, 16000, "16"]);

    expect(sample.turns.map((t) => t.transcript)).toEqual([
      "he was not an ill disposed young man",
      "he might even have been made amiable himself",
      "unless to be rather cold hearted and rather selfish is to be ill disposed",
    ]);
    const pcm = await readWav16k(sample.path);
    expect(pcm.length / 16000).toBeCloseTo(sample.duration, 6);
    // Each turn holds its clip, sample for sample; the gaps, lead and tail are silent.
    for (const [i, id] of ["0880", "0930", "0890"].entries()) {
      const clip = await readWav16k(librivoxClip(id));
      const turn = sample.turns[i];
      expect(turn.end - turn.start).toBeCloseTo(clip.length / 16000, 6);
      const at = Math.round(turn.start * 16000);
      expect(pcm.subarray(at, at + clip.length)).toEqual(clip);
      expect(peak(pcm, turn.start, turn.end)).toBeGreaterThan(3000); // speech, not room tone
      if (i > 0) {
        expect(turn.start - sample.turns[i - 1].end).toBeCloseTo(1.5, 6);
        expect(peak(pcm, sample.turns[i - 1].end, turn.start)).toBe(0);
      }
    }
    expect(sample.turns[0].start).toBeCloseTo(0.5, 6);
    expect(sample.duration - sample.turns[2].end).toBeCloseTo(2, 6);
  });

  it("takes other clips, gaps and an output path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voxpipe-sample-test-"));
    dirs.push(dir);
    const path = join(dir, "two.wav");
    const sample = await sampleConversation({ clips: ["0870", "0920"], gapMs: 3000, path });
    expect(sample.path).toBe(path);
    expect(sample.turns).toHaveLength(2);
    expect(sample.turns[1].start - sample.turns[0].end).toBeCloseTo(3, 6);
    expect(sample.turns[1].transcript).toMatch(/^had he married/);
  });

  it("names what is wrong: unknown clip, missing clips (with the apt-get command), bad gap", async () => {
    await expect(sampleConversation({ clips: ["9999"] })).rejects.toThrow(
      /clip "9999" is not in .*transcription; known clips: 0870, 0880/,
    );
    const missing = sampleConversation({ librivoxDir: "/nonexistent/librivox" });
    await expect(missing).rejects.toBeInstanceOf(SpeechLocalSetupError);
    await expect(missing).rejects.toThrow(/apt-get install .*pocketsphinx-testdata/);
    await expect(sampleConversation({ gapMs: -1 })).rejects.toThrow(/gapMs .* got -1/);
  });
});
