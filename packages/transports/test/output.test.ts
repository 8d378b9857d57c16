import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  BotStartedSpeakingFrame,
  BotStoppedSpeakingFrame,
  InterruptionFrame,
  OutputAudioRawFrame,
  TTSAudioRawFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  StreamResampler,
  pcmToInt16,
  readWav,
} from "@voxpipe/core";
import type { Frame } from "@voxpipe/core";
import { SleepFrame, audioFrames, runProcessorTest, tonePcm } from "@voxpipe/core/testing";
import { SpeakerOutputTransport, WavFileOutputTransport } from "../src/index.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-out-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A TTS-like reply: started, `ms` of tone at `rate` in 40 ms frames, stopped. */
function reply(ms: number, rate = 24000): Frame[] {
  const audio = audioFrames(tonePcm(500, ms, rate), {
    sampleRate: rate,
    frameMs: 40,
    kind: "output",
  });
  return [new TTSStartedFrame(), ...audio, new TTSStoppedFrame()];
}

const loud = (samples: Int16Array): number => samples.filter((s) => Math.abs(s) > 1000).length;

describe("WavFileOutputTransport", () => {
  it("writes what it plays as a valid WAV, resampled to the output rate", async () => {
    const path = join(dir, "fast.wav");
    const output = new WavFileOutputTransport({ path, realtime: false, sampleRate: 16000 });
    const { down, up } = await runProcessorTest({
      processor: output,
      framesToSend: reply(500, 24000),
    });
    const wav = await readWav(path);
    expect(wav.sampleRate).toBe(16000);
    expect(wav.numChannels).toBe(1);
    expect(wav.audio.byteLength / 2 / 16000).toBeCloseTo(0.5, 1);
    expect(loud(pcmToInt16(wav.audio))).toBeGreaterThan(7000);
    // Played frames continue downstream; speaking state goes both ways.
    expect(down.filter((f) => f instanceof OutputAudioRawFrame)).toHaveLength(13);
    expect(up.filter((f) => f instanceof BotStartedSpeakingFrame)).toHaveLength(1);
    expect(up.filter((f) => f instanceof BotStoppedSpeakingFrame)).toHaveLength(1);
    expect(down.findIndex((f) => f instanceof BotStoppedSpeakingFrame)).toBeGreaterThan(
      down.findLastIndex((f) => f instanceof TTSAudioRawFrame),
    );
  });

  it("plays in real time and keeps the call's timeline (silence between replies)", async () => {
    const path = join(dir, "timeline.wav");
    const output = new WavFileOutputTransport({ path, sampleRate: 16000 });
    const t0 = performance.now();
    await runProcessorTest({
      processor: output,
      framesToSend: [...reply(200, 16000), new SleepFrame(700), ...reply(200, 16000)],
    });
    const elapsed = performance.now() - t0;
    const samples = pcmToInt16((await readWav(path)).audio);
    // The second reply is queued 0.7 s after the first (which plays 0.2 s): ≈0.5 s of silence
    // between them in the file, as in the call.
    expect(elapsed).toBeGreaterThanOrEqual(870);
    const loudAt: number[] = [];
    samples.forEach((s, i) => {
      if (Math.abs(s) > 1000) loudAt.push(i / 16000);
    });
    const gaps = loudAt.slice(1).map((t, i) => t - loudAt[i]);
    expect(Math.max(...gaps)).toBeGreaterThan(0.35);
    // Exactly two replies: one long gap. (A short underrun inside a reply, when a loaded machine
    // delays the playout timer, is part of the real timeline and is not a reply boundary.)
    expect(gaps.filter((g) => g > 0.3)).toHaveLength(1);
    expect(loud(samples)).toBeGreaterThan(0.35 * 16000);
  });

  it("cuts the reply's audio at once on an interruption", async () => {
    const path = join(dir, "interrupted.wav");
    const output = new WavFileOutputTransport({ path, sampleRate: 16000 });
    const stopped: boolean[] = [];
    output.on("botStoppedSpeaking", (e) => stopped.push(e.interrupted));
    const { down } = await runProcessorTest({
      processor: output,
      framesToSend: [...reply(2000, 16000), new SleepFrame(300), new InterruptionFrame()],
    });
    const seconds = (await readWav(path)).audio.byteLength / 2 / 16000;
    expect(seconds).toBeGreaterThan(0.2);
    expect(seconds).toBeLessThan(0.8); // of 2 s
    expect(stopped).toEqual([true]);
    expect(down.filter((f) => f instanceof TTSAudioRawFrame).length).toBeLessThan(15);
  });
});

describe("resampler lifetime", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("frees every resampler exactly once when an interruption races its creation", async () => {
    const create = StreamResampler.create.bind(StreamResampler);
    const frees = new Map<StreamResampler, number>();
    // The first creation is held until the reply after the interruption asks for its own,
    // so the abandoned one finishes while the new reply is already resampling.
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    vi.spyOn(StreamResampler, "create").mockImplementation(async (options) => {
      const first = frees.size === 0;
      if (!first) releaseFirst();
      const resampler = await create(options);
      frees.set(resampler, 0);
      const destroy = resampler.destroy.bind(resampler);
      resampler.destroy = () => {
        frees.set(resampler, (frees.get(resampler) ?? 0) + 1);
        destroy();
      };
      if (first) await firstHeld;
      return resampler;
    });
    const output = new WavFileOutputTransport({
      path: join(dir, "raced.wav"),
      realtime: false,
      sampleRate: 16000,
    });
    const [first] = reply(40, 24000).filter((f) => f instanceof OutputAudioRawFrame);
    const { down } = await runProcessorTest({
      processor: output,
      framesToSend: [
        new TTSStartedFrame(),
        first,
        new SleepFrame(50), // its #play is waiting for the resampler
        new InterruptionFrame(),
        ...reply(200, 24000),
      ],
    });
    expect(frees.size).toBe(2);
    expect([...frees.values()]).toEqual([1, 1]);
    // The reply after the interruption played in full; the abandoned frame did not.
    expect(down.filter((f) => f instanceof OutputAudioRawFrame)).toHaveLength(5);
  });
});

describe("TTSTextFrame synced with the audio played", () => {
  /** Sentences as the TTS pushes them: each `TTSTextFrame` just before its audio. */
  function sentences(parts: readonly [text: string, ms: number][]): Frame[] {
    const frames: Frame[] = [new TTSStartedFrame()];
    for (const [text, ms] of parts) {
      frames.push(new TTSTextFrame({ text }));
      frames.push(
        ...audioFrames(tonePcm(500, ms, 16000), { sampleRate: 16000, frameMs: 40, kind: "output" }),
      );
    }
    return [...frames, new TTSStoppedFrame()];
  }
  const texts = (frames: Frame[]): string[] =>
    frames.filter((f): f is TTSTextFrame => f instanceof TTSTextFrame).map((f) => f.text);

  it("forwards every sentence of a reply played to the end, each just ahead of its audio", async () => {
    const output = new WavFileOutputTransport({
      path: join(dir, "synced.wav"),
      realtime: false,
      sampleRate: 16000,
    });
    const { down } = await runProcessorTest({
      processor: output,
      framesToSend: sentences([
        ["One.", 100],
        ["Two.", 100],
        ["Three.", 100],
      ]),
    });
    expect(texts(down)).toEqual(["One.", "Two.", "Three."]);
    const kinds = down
      .filter((f) => f instanceof TTSTextFrame || f instanceof OutputAudioRawFrame)
      .map((f) => (f instanceof TTSTextFrame ? f.text : "audio"));
    expect(kinds).toEqual([
      "One.",
      ...Array<string>(3).fill("audio"),
      "Two.",
      ...Array<string>(3).fill("audio"),
      "Three.",
      ...Array<string>(3).fill("audio"),
    ]);
    expect(down.findIndex((f) => f instanceof TTSTextFrame)).toBeGreaterThan(
      down.findIndex((f) => f instanceof BotStartedSpeakingFrame),
    );
    expect(down.findLastIndex((f) => f instanceof TTSTextFrame)).toBeLessThan(
      down.findIndex((f) => f instanceof TTSStoppedFrame),
    );
  });

  it("drops the sentences whose audio an interruption discarded; played ones pass, in order", async () => {
    const output = new WavFileOutputTransport({ path: join(dir, "cut.wav"), sampleRate: 16000 });
    const { down } = await runProcessorTest({
      processor: output,
      framesToSend: [
        ...sentences([
          ["First.", 120],
          ["Second, a long one.", 1500],
          ["Third.", 300],
        ]),
        new SleepFrame(400), // "First." has played, "Second…" is playing
        new InterruptionFrame(),
      ],
    });
    expect(texts(down)).toEqual(["First.", "Second, a long one."]);
    expect(down.findIndex((f) => f instanceof InterruptionFrame)).toBeGreaterThan(
      down.findLastIndex((f) => f instanceof TTSTextFrame),
    );
  });

  it("never forwards a sentence interrupted before any of its audio played", async () => {
    const output = new WavFileOutputTransport({
      path: join(dir, "unheard.wav"),
      sampleRate: 16000,
    });
    // The TTS has pushed the sentence's text but is still synthesizing its audio.
    const { down } = await runProcessorTest({
      processor: output,
      framesToSend: [
        new TTSStartedFrame(),
        new TTSTextFrame({ text: "Never heard." }),
        new SleepFrame(100),
        new InterruptionFrame(),
        ...sentences([["Heard.", 100]]),
      ],
    });
    expect(texts(down)).toEqual(["Heard."]);
  });
});

describe("SpeakerOutputTransport", () => {
  it("streams audio to aplay in real time (ALSA null device)", async () => {
    const output = new SpeakerOutputTransport({
      player: "aplay",
      device: "null",
      sampleRate: 16000,
    });
    expect(output.playerArgs(16000)).toEqual(expect.arrayContaining(["-r", "16000", "-D", "null"]));
    const t0 = performance.now();
    const { errors } = await runProcessorTest({
      processor: output,
      framesToSend: reply(300, 16000),
    });
    expect(errors).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(230);
  });

  it("fails the run with the player's own error when the device cannot be opened", async () => {
    const output = new SpeakerOutputTransport({
      player: "aplay",
      device: "voxpipe-no-such-device",
      sampleRate: 16000,
    });
    const { errors } = await runProcessorTest({
      processor: output,
      framesToSend: [...reply(200, 16000), new SleepFrame(300)],
      sendEndFrame: false,
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fatal).toBe(true);
    expect(errors[0]?.error).toMatch(/aplay exited with code 1: .*audio open error/);
  });
});
