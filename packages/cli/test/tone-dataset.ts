import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeWav } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";

/**
 * Writes a `voxpipe eval` dataset of tones and silences into `dir` (created): for the
 * scripted Flux engine each tone is speech and, after it, end-of-turn confidence ramps
 * 0.2 → 0.95 over 800 ms of audio. `pause.wav`: turn 0 at 0.5–1.5 s; turn 1 at 3.0–5.0 s
 * with a 400 ms pause at 3.8–4.2 s (cut at eot 0.5, not at 0.9); 2 s of silence after.
 * With `files` > 1, copies `pause-2.wav`… are added (same audio and labels).
 */
export async function writeToneDataset(dir: string, files = 1): Promise<void> {
  await mkdir(dir, { recursive: true });
  const pcm = (ms: number, tone: boolean) =>
    tone ? tonePcm(300, ms, 16000, 0.3) : new Uint8Array((ms * 16000) / 500);
  const parts = [
    pcm(500, false),
    pcm(1000, true),
    pcm(1500, false),
    pcm(800, true),
    pcm(400, false),
    pcm(800, true),
    pcm(2000, false),
  ];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  const sidecar = JSON.stringify({
    tags: ["tones"],
    turns: [
      { start: 0.5, end: 1.5, transcript: "hello there" },
      { start: 3.0, end: 5.0, transcript: "i would like to book a table for two" },
    ],
  });
  for (let i = 1; i <= files; i++) {
    const name = i === 1 ? "pause" : `pause-${i}`;
    await writeFile(join(dir, `${name}.wav`), encodeWav(all, 16000));
    await writeFile(join(dir, `${name}.json`), sidecar);
  }
}
