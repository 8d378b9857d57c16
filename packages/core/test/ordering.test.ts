/**
 * Ordering under mixed load: turn frames pushed by an STT from its "receive loop"
 * (timers), interleaved with a stream of system frames (user audio, bot-speaking
 * feedback, metrics) and slow asynchronous data work downstream.
 */
import { describe, expect, it } from "vitest";
import {
  BotStartedSpeakingFrame,
  EndOfTurnFrame,
  FrameProcessor,
  InputAudioRawFrame,
  isTurnFrame,
  MetricsFrame,
  OutputAudioRawFrame,
  Pipeline,
  STTService,
  TranscriptionFrame,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import { runProcessorTest, silenceFrames, SleepFrame, turnFrames } from "@voxpipe/core/testing";

/**
 * Scripted (fake) STT: every 10th audio frame, it emits the next scripted turn from a
 * timer callback — like a WebSocket receive loop, outside `process()`.
 */
class ScriptedTurnSTT extends STTService<{ model: string }> {
  readonly emitted: Frame[] = [];
  #audio = 0;
  #turn = 0;
  constructor() {
    super({ settings: { model: "scripted" } });
  }
  protected override runStt(): void {
    if (++this.#audio % 10 !== 0) return;
    const turnIndex = this.#turn++;
    void this.createTask("receive", async () => {
      await new Promise((r) => setTimeout(r, turnIndex % 3));
      for (const f of turnFrames(`turn number ${turnIndex} is here`, { turnIndex })) {
        this.emitted.push(f);
        this.push(f);
      }
    });
  }
}

/** Slow, asynchronous data work (a "TTS"): takes a little time per output audio frame. */
class SlowData extends FrameProcessor {
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame.kind !== "system") await new Promise((r) => setImmediate(r));
    this.push(frame, direction);
  }
}

/** Emits system frames in both directions whenever it sees audio (bot feedback, metrics). */
class SystemNoise extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void {
    this.push(frame, direction);
    if (frame instanceof InputAudioRawFrame) {
      this.push(new BotStartedSpeakingFrame(), "upstream");
      this.push(new MetricsFrame({ data: [] }), "downstream");
    }
  }
}

describe("ordering under mixed system and data load", () => {
  it("keeps every turn's frames in provider order; a TranscriptionFrame is never overtaken by its EndOfTurnFrame", async () => {
    const stt = new ScriptedTurnSTT();
    const audio = silenceFrames(2000); // 100 × 20 ms → 10 turns
    const toSend: Frame[] = [];
    audio.forEach((frame, i) => {
      toSend.push(frame);
      // Data frames interleaved with the audio, and a pause now and then so timers fire.
      toSend.push(new OutputAudioRawFrame({ audio: new Uint8Array(640), sampleRate: 16000 }));
      if (i % 7 === 0) toSend.push(new SleepFrame(1));
    });
    toSend.push(new SleepFrame(30));

    const { down } = await runProcessorTest({
      processor: new Pipeline([stt, new SystemNoise(), new SlowData(), new SlowData()]),
      framesToSend: toSend,
    });

    const turns = down.filter(isTurnFrame);
    expect(stt.emitted.length).toBe(10 * 8); // start + 5 interims + transcription + end per turn
    expect(turns.map((f) => f.id)).toEqual(stt.emitted.map((f) => f.id));
    for (let t = 0; t < 10; t++) {
      const ofTurn = turns.filter((f) => f.turnIndex === t);
      const transcription = ofTurn.findIndex((f) => f instanceof TranscriptionFrame);
      const end = ofTurn.findIndex((f) => f instanceof EndOfTurnFrame);
      expect(transcription).toBeGreaterThanOrEqual(0);
      expect(end).toBe(transcription + 1);
    }
    // The load really was mixed: user audio (system) overtook data frames sent before it.
    const positions = new Map(toSend.map((f, i) => [f.id, i]));
    let minLater = Number.POSITIVE_INFINITY;
    let overtook = false;
    for (let i = down.length - 1; i >= 0; i--) {
      const p = positions.get(down[i].id);
      if (p === undefined) continue;
      if (down[i] instanceof InputAudioRawFrame && p > minLater) overtook = true;
      minLater = Math.min(minLater, p);
    }
    expect(overtook).toBe(true);
  });

  it("keeps frames of one kind in order end to end through async processors", async () => {
    const data = Array.from(
      { length: 200 },
      () => new OutputAudioRawFrame({ audio: new Uint8Array(320), sampleRate: 16000 }),
    );
    const audioIn = silenceFrames(1000);
    const mixed: Frame[] = data.flatMap((d, i) =>
      audioIn[i % 50] && i < 50 ? [d, audioIn[i] as Frame] : [d],
    );
    const { down } = await runProcessorTest({
      processor: new Pipeline([new SlowData(), new FrameProcessor(), new SlowData()]),
      framesToSend: mixed,
    });
    const outIds = down.filter((f) => f instanceof OutputAudioRawFrame).map((f) => f.id);
    const inIds = down.filter((f) => f instanceof InputAudioRawFrame).map((f) => f.id);
    expect(outIds).toEqual(data.map((f) => f.id));
    expect(inIds).toEqual(audioIn.slice(0, 50).map((f) => f.id));
  });
});
