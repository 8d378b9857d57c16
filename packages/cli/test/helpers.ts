/** Shared by the CLI tests: a runner and a two-utterance WAV for the scripted engine (captured IO: capture-io.ts). */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeWav } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { runCli } from "../src/index.js";
import type { CliIO } from "../src/index.js";

/** Runs `voxpipe <args>` in-process. */
export const cli = (io: CliIO, ...args: string[]): Promise<number> =>
  runCli(["node", "voxpipe", ...args], io);

/**
 * Writes `<dir>/two-turns.wav`: two "utterances" (tones, which the scripted Flux engine
 * hears as speech) separated by `gapMs` of silence, 16 kHz mono.
 */
export async function writeTwoTurns(dir: string, gapMs: number): Promise<string> {
  const pcm = (ms: number, tone: boolean) =>
    tone ? tonePcm(300, ms, 16000, 0.3) : new Uint8Array((ms * 16000) / 500);
  const parts = [
    pcm(300, false),
    pcm(1200, true),
    pcm(gapMs, false),
    pcm(1000, true),
    pcm(1500, false),
  ];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((off, p) => (all.set(p, off), off + p.byteLength), 0);
  const path = join(dir, "two-turns.wav");
  await writeFile(path, encodeWav(all, 16000));
  return path;
}
