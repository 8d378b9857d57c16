import { describe, expect, it } from "vitest";
import {
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  TTSUpdateSettingsFrame,
} from "@voxpipe/core";
import type { Frame } from "@voxpipe/core";
import { runProcessorTest } from "@voxpipe/core/testing";
import { EspeakTTSService, synthesizeWithEspeak } from "../../src/tts/index.js";

const audioSeconds = (frames: Frame[]): number =>
  frames
    .filter((f): f is TTSAudioRawFrame => f instanceof TTSAudioRawFrame)
    .reduce((s, f) => s + f.durationMs, 0) / 1000;

describe("EspeakTTSService", () => {
  it("speaks an LLM reply sentence by sentence at the pipeline's output rate", async () => {
    const tts = new EspeakTTSService();
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [
        new LLMFullResponseStartFrame(),
        ...["Sure. ", "A table ", "for two ", "at eight."].map(
          (text) => new LLMTextFrame({ text }),
        ),
        new LLMFullResponseEndFrame(),
      ],
    });
    const spoken = down
      .filter((f): f is TTSTextFrame => f instanceof TTSTextFrame)
      .map((f) => f.text);
    expect(spoken).toEqual(["Sure.", "A table for two at eight."]);
    expect(down.filter((f) => f instanceof TTSStartedFrame)).toHaveLength(1);
    expect(down.filter((f) => f instanceof TTSStoppedFrame)).toHaveLength(1);
    const audio = down.filter((f): f is TTSAudioRawFrame => f instanceof TTSAudioRawFrame);
    expect(audio.every((f) => f.sampleRate === 24000)).toBe(true);
    // Roughly 7 words at 175 wpm.
    expect(audioSeconds(down)).toBeGreaterThan(1);
    expect(audioSeconds(down)).toBeLessThan(5);
  });

  it("speaks slower when wordsPerMinute is lowered mid-call", async () => {
    const text = "The quick brown fox jumps over the lazy dog.";
    const run = async (frames: Frame[]) =>
      audioSeconds(
        (await runProcessorTest({ processor: new EspeakTTSService(), framesToSend: frames })).down,
      );
    const normal = await run([new TTSSpeakFrame({ text })]);
    const slow = await run([
      new TTSUpdateSettingsFrame({ settings: { wordsPerMinute: 90 } }),
      new TTSSpeakFrame({ text }),
    ]);
    expect(slow).toBeGreaterThan(normal * 1.5);
  });

  it("reports a missing espeak-ng with the package to install, and bad settings by name", async () => {
    const tts = new EspeakTTSService({ command: "voxpipe-no-espeak" });
    const { errors } = await runProcessorTest({
      processor: tts,
      framesToSend: [new TTSSpeakFrame({ text: "Hello." })],
    });
    expect(errors[0]?.error).toMatch(
      /voxpipe-no-espeak was not found on PATH; install it \(Debian\/Ubuntu: sudo apt-get install -y espeak-ng\)/,
    );
    expect(() => new EspeakTTSService({ settings: { wordsPerMinute: 1000 } })).toThrow(
      /wordsPerMinute must be a number from 80 to 450, got 1000/,
    );
  });

  it("kills the synthesis when aborted", async () => {
    const controller = new AbortController();
    const pending = synthesizeWithEspeak("This sentence is never heard.", {}, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });
});
