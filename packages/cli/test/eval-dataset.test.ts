import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeWav } from "@voxpipe/core";
import { DatasetError, checkSidecar, formatSidecar, loadDataset } from "../src/eval/index.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-dataset-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A silent WAV of `seconds` at `rate` Hz with `channels` channels. */
async function wav(name: string, seconds: number, rate = 16000, channels = 1): Promise<void> {
  const bytes = new Uint8Array(Math.round(seconds * rate) * channels * 2);
  await writeFile(join(dir, `${name}.wav`), encodeWav(bytes, rate, channels));
}

async function problems(): Promise<string[]> {
  try {
    await loadDataset(dir);
  } catch (error) {
    if (error instanceof DatasetError)
      return error.issues.map((i) => `${i.file}: ${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}

describe("loadDataset", () => {
  it("reads WAVs of any rate and channel count with their sidecars", async () => {
    await wav("call-a", 3, 8000, 2);
    await writeFile(
      join(dir, "call-a.json"),
      formatSidecar({
        tags: ["phone"],
        turns: [{ start: 0.5, end: 1.9, transcript: "hello there" }],
      }),
    );
    const dataset = await loadDataset(dir);
    expect(dataset.files).toHaveLength(1);
    const [file] = dataset.files;
    expect(file.name).toBe("call-a");
    expect(file.duration).toBeCloseTo(3, 3);
    expect([file.sampleRate, file.channels]).toEqual([8000, 2]);
    expect(file.tags).toEqual(["phone"]);
    expect(file.turns).toEqual([{ start: 0.5, end: 1.9, transcript: "hello there" }]);
  });

  it("names the file and the field of every problem, all at once", async () => {
    await wav("missing", 2);
    await wav("overlap", 5);
    await writeFile(
      join(dir, "overlap.json"),
      JSON.stringify({
        turns: [
          { start: 0.5, end: 2.0, transcript: "a" },
          { start: 1.5, end: 2.5, transcript: "b" },
          { start: 3.0, end: 2.8, transcript: "c" },
          { start: 3.5, end: 9.0, transcript: "d" },
        ],
      }),
    );
    await wav("broken", 2);
    await writeFile(join(dir, "broken.json"), "{ turns: ");
    const found = await problems();
    expect(found).toContain(
      'missing.wav: : has no sidecar missing.json ({"turns": [{"start", "end", "transcript"}]}; draft one with `voxpipe eval label`)',
    );
    expect(found.some((p) => p.startsWith("broken.json: : is not valid JSON"))).toBe(true);
    expect(found).toContain(
      "overlap.json: turns[1].start: is 1.5: overlaps turns[0] (ends at 2); turns must be in time order and must not overlap",
    );
    expect(found).toContain("overlap.json: turns[2].end: is 2.8, not after start 3");
    expect(found).toContain("overlap.json: turns[3].end: is 9 s, beyond the audio (5.000 s long)");
  });

  it("refuses a folder without WAVs and a path that is not a folder", async () => {
    await expect(loadDataset(dir)).rejects.toThrow(/holds no \.wav file/);
    await expect(loadDataset(join(dir, "nope"))).rejects.toThrow(/is not a folder/);
  });
});

describe("checkSidecar", () => {
  it("accepts turns without transcripts and refuses wrong types", () => {
    expect(checkSidecar({ turns: [{ start: 0, end: 1 }] }, "a.json", 2)).toEqual([]);
    expect(checkSidecar({ turns: "x" }, "a.json", 2)[0]).toMatchObject({ field: "turns" });
    expect(checkSidecar([], "a.json", 2)[0]).toMatchObject({ field: "" });
    expect(
      checkSidecar({ tags: [1], turns: [{ start: "0", end: 1, transcript: 3 }] }, "a.json", 2).map(
        (i) => i.field,
      ),
    ).toEqual(["tags", "turns[0].start", "turns[0].transcript"]);
  });
});
