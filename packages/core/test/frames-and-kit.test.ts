import { describe, expect, it } from "vitest";
import {
  CancelFrame,
  EagerEndOfTurnFrame,
  EndFrame,
  EndOfTurnFrame,
  ErrorFrame,
  FrameProcessor,
  InputAudioRawFrame,
  InterimTranscriptionFrame,
  InterruptionFrame,
  isTurnFrame,
  meanWordConfidence,
  LLMTextFrame,
  OutputAudioRawFrame,
  pcmDurationMs,
  StartFrame,
  StartOfTurnFrame,
  STTUpdateSettingsFrame,
  TextFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  UserStartedSpeakingFrame,
} from "@voxpipe/core";
import {
  expectFrames,
  frameWith,
  ManualClock,
  runProcessorTest,
  silenceFrames,
  toneFrames,
  transcriptionFrame,
  turnFrames,
} from "@voxpipe/core/testing";

describe("frames", () => {
  it("have kinds, unique ids and the documented interruption behaviour", () => {
    const cases: [object, string, boolean][] = [
      [new StartFrame(), "system", false],
      [new CancelFrame(), "system", false],
      [new InterruptionFrame(), "system", false],
      [new ErrorFrame({ error: "x" }), "system", false],
      [new InputAudioRawFrame({ audio: new Uint8Array(2), sampleRate: 16000 }), "system", false],
      [new OutputAudioRawFrame({ audio: new Uint8Array(2), sampleRate: 16000 }), "data", false],
      [new TextFrame({ text: "x" }), "data", false],
      [new LLMTextFrame({ text: "x" }), "data", false],
      [new EndFrame(), "control", true],
      [new STTUpdateSettingsFrame({ settings: {} }), "control", true],
      [new UserStartedSpeakingFrame(), "control", true],
      [new StartOfTurnFrame({ turnIndex: 0 }), "control", true],
      [new TranscriptionFrame({ text: "x", turnIndex: 0 }), "data", true],
      [new InterimTranscriptionFrame({ text: "x", turnIndex: 0 }), "data", true],
      [new EndOfTurnFrame({ turnIndex: 0 }), "control", true],
    ];
    for (const [frame, kind, uninterruptible] of cases) {
      const f = frame as TextFrame;
      expect([f.constructor.name, f.kind, f.uninterruptible]).toEqual([
        f.constructor.name,
        kind,
        uninterruptible,
      ]);
    }
    const a = new TextFrame({ text: "a" });
    const b = new TextFrame({ text: "b" });
    expect(b.id).toBeGreaterThan(a.id);
    expect(a.name).toBe(`TextFrame#${a.id}`);
  });

  it("audio frames know their duration; bad audio fields are rejected with the field named", () => {
    const f = new InputAudioRawFrame({
      audio: new Uint8Array(1280),
      sampleRate: 16000,
      numChannels: 2,
    });
    expect([f.numFrames, f.durationMs]).toEqual([320, 20]);
    expect(pcmDurationMs(640, 16000)).toBe(20);
    expect(() => new OutputAudioRawFrame({ audio: new Uint8Array(2), sampleRate: 0 })).toThrow(
      /sampleRate must be a positive number of Hz, got 0/,
    );
    expect(
      () => new OutputAudioRawFrame({ audio: new Uint8Array(2), sampleRate: 8000, numChannels: 0 }),
    ).toThrow(/numChannels must be an integer ≥ 1, got 0/);
  });

  it("turn frames carry Flux's fields", () => {
    const raw = { type: "TurnInfo", event: "EndOfTurn" };
    const f = new EndOfTurnFrame({
      turnIndex: 3,
      transcript: "hola",
      words: [{ word: "hola", confidence: 0.9, start: 4.2, end: 4.5 }],
      languages: ["es", "en"],
      endOfTurnConfidence: 0.86,
      audioWindowStart: 4.2,
      audioWindowEnd: 6.8,
      trigger: "manual",
      result: raw,
    });
    expect([f.turnIndex, f.transcript, f.language, f.trigger, f.result, f.audioWindowEnd]).toEqual([
      3,
      "hola",
      "es",
      "manual",
      raw,
      6.8,
    ]);
    const plain = new TranscriptionFrame({ text: "x", turnIndex: 1 });
    expect([plain.transcript, plain.trigger, plain.confidence]).toEqual([
      "x",
      undefined,
      undefined,
    ]);
    const final = new TranscriptionFrame({
      text: "hola",
      turnIndex: 3,
      words: [{ word: "hola", confidence: 0.9 }],
      trigger: "timeout",
      confidence: 0.9,
    });
    expect([final.trigger, final.confidence, final.words.length]).toEqual(["timeout", 0.9, 1]);
    expect(meanWordConfidence([{ confidence: 0.5 }, { confidence: 1 }])).toBe(0.75);
    expect(meanWordConfidence([])).toBeUndefined();
    expect(
      isTurnFrame(f) && isTurnFrame(new InterimTranscriptionFrame({ text: "", turnIndex: 0 })),
    ).toBe(true);
    expect(isTurnFrame(new TextFrame({ text: "" }))).toBe(false);
  });
});

describe("test kit", () => {
  it("builds silence and tones of the requested duration", () => {
    const s = silenceFrames(100);
    expect(s).toHaveLength(5);
    expect(s.every((f) => f.durationMs === 20 && f.audio.every((b) => b === 0))).toBe(true);
    const t = toneFrames(440, 50, { sampleRate: 8000, frameMs: 10 });
    expect(t).toHaveLength(5);
    expect(t[1]?.audio.some((b) => b !== 0)).toBe(true);
  });

  it("builds whole turns in Flux order, with word times in seconds", () => {
    const frames = turnFrames("hi there you", {
      turnIndex: 2,
      resumeAfterWords: 1,
      eager: true,
      startTime: 1,
    });
    expect(frames.map((f) => f.constructor.name)).toEqual([
      "StartOfTurnFrame",
      "InterimTranscriptionFrame",
      "EagerEndOfTurnFrame",
      "TurnResumedFrame",
      "InterimTranscriptionFrame",
      "InterimTranscriptionFrame",
      "EagerEndOfTurnFrame",
      "TranscriptionFrame",
      "EndOfTurnFrame",
    ]);
    const final = frames.find((f) => f instanceof TranscriptionFrame);
    expect(final?.words.map((w) => [w.word, w.start, w.end])).toEqual([
      ["hi", 1, 1.3],
      ["there", 1.3, 1.6],
      ["you", 1.6, expect.closeTo(1.9, 5)],
    ]);
    expect([final?.trigger, final?.confidence]).toEqual(["model", expect.closeTo(0.95, 9)]);
    expect(frames.every((f) => isTurnFrame(f) && f.turnIndex === 2)).toBe(true);
    void EagerEndOfTurnFrame;
    void TurnResumedFrame;
    expect(transcriptionFrame("a b").words).toHaveLength(2);
  });

  it("expectFrames explains mismatches", () => {
    const frames = [new TextFrame({ text: "a" })];
    expect(() => expectFrames(frames, [frameWith(TextFrame, { text: "b" })])).toThrow(
      /#0: TextFrame.text: expected "b", got "a"[\s\S]*received: \[TextFrame\]/,
    );
    expect(() => expectFrames(frames, [EndFrame])).toThrow(/expected EndFrame, got TextFrame/);
    expect(() => expectFrames(frames, [])).toThrow(/expected 0 frames, got 1/);
  });

  it("runProcessorTest sends upstream frames from the end and captures them at the start", async () => {
    const { up, down } = await runProcessorTest({
      processor: new FrameProcessor(),
      framesToSend: [new TextFrame({ text: "up" })],
      direction: "upstream",
    });
    expect(down).toEqual([]);
    expectFrames(up, [frameWith(TextFrame, { text: "up" })]);
  });

  it("ManualClock only moves when told", () => {
    const c = new ManualClock(5);
    c.advance(10);
    expect(c.now()).toBe(15);
    expect(() => c.set(1)).toThrow(/cannot go back/);
  });
});
