import { describe, expect, it } from "vitest";
import {
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSTextFrame,
  TTSUpdateSettingsFrame,
} from "@voxpipe/core";
import type { Frame } from "@voxpipe/core";
import { runProcessorTest } from "@voxpipe/core/testing";
import { ToneTTSService } from "../../src/tts/index.js";

const audio = (frames: Frame[]) =>
  frames.filter((f): f is TTSAudioRawFrame => f instanceof TTSAudioRawFrame);
const seconds = (frames: Frame[]) => audio(frames).reduce((s, f) => s + f.durationMs, 0) / 1000;

describe("ToneTTSService", () => {
  it("speaks each sentence as a tone as long as the text, at the pipeline's output rate", async () => {
    const { down } = await runProcessorTest({
      processor: new ToneTTSService(),
      taskParams: { audioOutSampleRate: 8000 },
      framesToSend: [
        new LLMFullResponseStartFrame(),
        ...["Sure. ", "A table for two."].map((text) => new LLMTextFrame({ text })),
        new LLMFullResponseEndFrame(),
      ],
    });
    const spoken = down.filter((f): f is TTSTextFrame => f instanceof TTSTextFrame);
    expect(spoken.map((f) => f.text)).toEqual(["Sure.", "A table for two."]);
    expect(audio(down).every((f) => f.sampleRate === 8000)).toBe(true);
    // (5 + 16) characters × 60 ms.
    expect(seconds(down)).toBeCloseTo(21 * 0.06, 3);
    // Not silence: a tone at 0.3 of full scale.
    const first = audio(down)[0].audio;
    const peak = Math.max(
      ...new Int16Array(first.buffer, first.byteOffset, first.byteLength / 2).map(Math.abs),
    );
    expect(peak).toBeGreaterThan(9000);
  });

  it("follows msPerCharacter set mid-call", async () => {
    const { down } = await runProcessorTest({
      processor: new ToneTTSService(),
      framesToSend: [
        new TTSUpdateSettingsFrame({ settings: { msPerCharacter: 10 } }),
        new TTSSpeakFrame({ text: "Ten chars." }),
      ],
    });
    expect(seconds(down)).toBeCloseTo(0.1, 3);
  });

  it("yields the first audio after firstByteDelayMs", async () => {
    const tts = new ToneTTSService({ firstByteDelayMs: 150 });
    let text = 0;
    let first = 0;
    await runProcessorTest({
      processor: tts,
      framesToSend: [new TTSSpeakFrame({ text: "Hello." })],
      onTask: (task) =>
        task.frames$.subscribe(({ frame, timestamp }) => {
          if (frame instanceof TTSTextFrame) text = timestamp;
          else if (frame instanceof TTSAudioRawFrame && first === 0) first = timestamp;
        }),
    });
    expect(first - text).toBeGreaterThanOrEqual(145);
  });

  it("refuses out-of-range settings, naming them", () => {
    expect(() => new ToneTTSService({ settings: { frequencyHz: 5 } })).toThrow(
      /frequencyHz must be a number from 20 to 4000, got 5/,
    );
    expect(() => new ToneTTSService({ firstByteDelayMs: -1 })).toThrow(/firstByteDelayMs/);
  });
});
