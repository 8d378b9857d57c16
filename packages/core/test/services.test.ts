import { describe, expect, it, onTestFinished, vi } from "vitest";
import {
  BotStartedSpeakingFrame,
  ErrorFrame,
  InputAudioRawFrame,
  InterruptionFrame,
  LLMContext,
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  LLMUserContextAggregator,
  SentenceAggregator,
  STTMuteFrame,
  STTService,
  STTUpdateSettingsFrame,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  TextFrame,
  TranscriptionFrame,
  createContextAggregators,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  EndOfTurnFrame,
} from "@voxpipe/core";
import {
  ScriptedTTSService,
  SleepFrame,
  frameWith,
  runProcessorTest,
  silenceFrames,
  transcriptionFrame,
  turnFrames,
} from "@voxpipe/core/testing";

interface FakeSttSettings {
  eotThreshold: number;
  language: string;
}

/** Fake STT (named as such): counts audio bytes it "sends"; validates eotThreshold like a provider would. */
class CountingSTT extends STTService<FakeSttSettings> {
  bytesSent = 0;
  applied: Partial<FakeSttSettings>[] = [];
  constructor(passthrough = true) {
    super({ settings: { eotThreshold: 0.7, language: "en" }, audioPassthrough: passthrough });
  }
  protected override runStt(audio: Uint8Array): void {
    this.bytesSent += audio.byteLength;
  }
  protected override async applySettings(changed: Partial<FakeSttSettings>): Promise<void> {
    await Promise.resolve();
    const eot = changed.eotThreshold;
    if (eot !== undefined && (eot < 0.5 || eot > 0.9)) {
      throw new RangeError(`eotThreshold must be in 0.5–0.9, got ${eot}`);
    }
    this.applied.push(changed);
  }
}

describe("STTService", () => {
  it("feeds audio to the provider, passes it through, and honours mute", async () => {
    const stt = new CountingSTT();
    const audio = silenceFrames(100); // 5 × 640 bytes
    const { down } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        ...audio.slice(0, 2),
        new STTMuteFrame({ mute: true }),
        ...audio.slice(2, 4),
        new STTMuteFrame({ mute: false }),
        ...audio.slice(4),
      ],
    });
    expect(stt.bytesSent).toBe(3 * 640);
    expect(down.filter((f) => f instanceof InputAudioRawFrame)).toHaveLength(5);
    expect(down.some((f) => f instanceof STTMuteFrame)).toBe(false);
    expect(stt.sampleRate).toBe(16000);
  });

  it("applies STTUpdateSettingsFrame in order; a rejected update is an error and changes nothing", async () => {
    const stt = new CountingSTT();
    const updates: unknown[] = [];
    stt.on("settingsUpdated", (u) => updates.push(u.previous));
    const { down, errors } = await runProcessorTest({
      processor: stt,
      framesToSend: [
        new STTUpdateSettingsFrame<FakeSttSettings>({ settings: { eotThreshold: 0.8 } }),
        new STTUpdateSettingsFrame<FakeSttSettings>({ settings: { eotThreshold: 1.5 } }),
        new STTUpdateSettingsFrame<FakeSttSettings>({ settings: { language: "en" } }), // unchanged: no-op
        new TextFrame({ text: "after" }),
      ],
    });
    expect(stt.settings).toEqual({ eotThreshold: 0.8, language: "en" });
    expect(stt.applied).toEqual([{ eotThreshold: 0.8 }]);
    expect(updates).toEqual([{ eotThreshold: 0.7 }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatch(/eotThreshold must be in 0.5–0.9, got 1.5/);
    expect(down).toHaveLength(1); // settings frames are consumed, the text passes
  });

  it("forwards a settings frame addressed to another service", async () => {
    const a = new CountingSTT();
    const other = new CountingSTT();
    const frame = new STTUpdateSettingsFrame<FakeSttSettings>({
      settings: { eotThreshold: 0.6 },
      service: other,
    });
    await runProcessorTest({
      processor: a,
      framesToSend: [frame],
      expectedDown: [STTUpdateSettingsFrame],
    });
    expect(a.settings.eotThreshold).toBe(0.7);
  });
});

describe("TTSService", () => {
  it("speaks sentence by sentence with TTSStarted/Text/Audio/Stopped, passing the LLM text on", async () => {
    const tts = new ScriptedTTSService({ chunksPerSentence: 2 });
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "Hello there." }),
        new LLMTextFrame({ text: " How are" }),
        new LLMTextFrame({ text: " you?" }),
        new LLMFullResponseEndFrame(),
      ],
    });
    expect(tts.spoken).toEqual(["Hello there.", "How are you?"]);
    const kinds = down.map((f) => f.constructor.name);
    expect(kinds).toEqual([
      "LLMFullResponseStartFrame",
      "LLMTextFrame",
      "LLMTextFrame",
      "TTSStartedFrame",
      "TTSTextFrame",
      "TTSAudioRawFrame",
      "TTSAudioRawFrame",
      "LLMTextFrame",
      "TTSTextFrame",
      "TTSAudioRawFrame",
      "TTSAudioRawFrame",
      "TTSStoppedFrame",
      "LLMFullResponseEndFrame",
    ]);
    const audio = down.find((f) => f instanceof TTSAudioRawFrame);
    expect(audio?.sampleRate).toBe(24000); // StartFrame default output rate
    expect(audio?.durationMs).toBe(20);
    const started = down.find((f) => f instanceof TTSStartedFrame);
    expect(started?.contextId).toBeDefined();
    expect(down.find((f) => f instanceof TTSStoppedFrame)?.contextId).toBe(started?.contextId);
  });

  it("speaks TTSSpeakFrame verbatim, never speaks transcriptions, flushes at EndFrame", async () => {
    const tts = new ScriptedTTSService({ chunksPerSentence: 1 });
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [
        transcriptionFrame("the user said this"),
        new TTSSpeakFrame({ text: "Welcome" }),
        new TextFrame({ text: "Unfinished sentence" }),
      ],
    });
    expect(tts.spoken).toEqual(["Welcome", "Unfinished sentence"]);
    expect(down[0]).toBeInstanceOf(TranscriptionFrame);
    expect(down.filter((f) => f instanceof TTSTextFrame).map((f) => f.text)).toEqual([
      "Welcome",
      "Unfinished sentence",
    ]);
    expect(down.filter((f) => f instanceof TTSStoppedFrame)).toHaveLength(2);
  });

  it("stops synthesis at once on interruption and drops buffered text", async () => {
    // Fake timers: the chunk pacing is time, and a loaded CI machine must not change the count.
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const tts = new ScriptedTTSService({ chunksPerSentence: 10, chunkDelayMs: 10 });
    const { down } = await runProcessorTest({
      processor: tts,
      framesToSend: [
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "A long first sentence. And a second" }),
        new SleepFrame(35),
        new InterruptionFrame(),
        new SleepFrame(30),
      ],
      advanceTime: (ms) => vi.advanceTimersByTimeAsync(ms),
    });
    expect(tts.aborted).toEqual(["A long first sentence."]);
    const cut = down.findIndex((f) => f instanceof InterruptionFrame);
    const audioBefore = down.slice(0, cut).filter((f) => f instanceof TTSAudioRawFrame).length;
    expect(audioBefore).toBeGreaterThanOrEqual(2);
    expect(audioBefore).toBeLessThan(10);
    expect(down.slice(cut + 1).some((f) => f instanceof TTSAudioRawFrame)).toBe(false);
    expect(tts.spoken).toEqual(["A long first sentence."]); // "And a second" was dropped, not flushed at end
  });

  it("SentenceAggregator completes a sentence once the next one starts", () => {
    const agg = new SentenceAggregator();
    expect(agg.push("Hello wor")).toEqual([]);
    expect(agg.push("ld. It costs $3.50 today")).toEqual(["Hello world."]);
    expect(agg.push("! Bye")).toEqual(["It costs $3.50 today!"]);
    expect(agg.flush()).toBe("Bye");
  });
});

describe("context aggregators", () => {
  it("user aggregator: a turn's final transcript becomes a user message and an LLMContextFrame after its EndOfTurnFrame", async () => {
    const context = new LLMContext([{ role: "system", content: "be brief" }]);
    const user = new LLMUserContextAggregator(context);
    const { down } = await runProcessorTest({
      processor: user,
      framesToSend: [...turnFrames("what time is it", { eager: true })],
    });
    expect(context.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "what time is it" },
    ]);
    const names = down.map((f) => f.constructor.name);
    expect(names.slice(-3)).toEqual(["TranscriptionFrame", "EndOfTurnFrame", "LLMContextFrame"]);
    // The bot was not speaking: by default (interruptWhileBotSpeaks) nothing is interrupted.
    expect(names).not.toContain("InterruptionFrame");
    expect((down.at(-1) as LLMContextFrame).context).toBe(context);
  });

  it("user aggregator: interrupts the speaking bot once per turn even when the STT sends StartOfTurn and UserStartedSpeaking", async () => {
    const { down } = await runProcessorTest({
      processor: new LLMUserContextAggregator(new LLMContext()),
      framesToSend: [
        new BotStartedSpeakingFrame(), // the bot speaks through both turns
        ...turnFrames("one").flatMap((f) =>
          f instanceof EndOfTurnFrame ? [f, new UserStoppedSpeakingFrame()] : [f],
        ),
        new UserStartedSpeakingFrame(),
        ...turnFrames("two", { turnIndex: 1 }),
      ],
    });
    expect(down.filter((f) => f instanceof InterruptionFrame)).toHaveLength(2);
  });

  it("user aggregator: works with plain transcriptions + UserStoppedSpeakingFrame; empty turns add nothing", async () => {
    const context = new LLMContext();
    await runProcessorTest({
      processor: new LLMUserContextAggregator(context, { interruptOnUserTurnStart: false }),
      framesToSend: [
        transcriptionFrame("first part"),
        transcriptionFrame("second part"),
        new UserStoppedSpeakingFrame(),
        new EndOfTurnFrame({ turnIndex: 1, transcript: "" }),
      ],
      expectedDown: [
        TranscriptionFrame,
        TranscriptionFrame,
        UserStoppedSpeakingFrame,
        LLMContextFrame,
        EndOfTurnFrame,
      ],
    });
    expect(context.messages).toEqual([{ role: "user", content: "first part second part" }]);
  });

  it("assistant aggregator stores spoken sentences (TTS) or LLM text, once per reply", async () => {
    const context = new LLMContext();
    const { assistant } = createContextAggregators(context);
    await runProcessorTest({
      processor: assistant,
      framesToSend: [
        new TTSStartedFrame(),
        new TTSTextFrame({ text: "Welcome." }),
        new TTSStoppedFrame(),
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "Hi" }),
        new LLMTextFrame({ text: " there." }),
        new TTSTextFrame({ text: "Hi there." }),
        new LLMFullResponseEndFrame(),
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "No TTS here." }),
        new LLMFullResponseEndFrame(),
      ],
    });
    expect(context.messages).toEqual([
      { role: "assistant", content: "Welcome." },
      { role: "assistant", content: "Hi there." },
      { role: "assistant", content: "No TTS here." },
    ]);
  });

  it("errors from services surface as ErrorFrames with the service named", async () => {
    class FailingTTS extends ScriptedTTSService {
      // eslint-disable-next-line require-yield
      protected override async *synthesize(): AsyncIterable<Uint8Array> {
        await Promise.resolve();
        throw new Error("HTTP 503 from provider");
      }
    }
    const { up } = await runProcessorTest({
      processor: new FailingTTS({ name: "tts" }),
      framesToSend: [new TTSSpeakFrame({ text: "hi" })],
      expectedUp: [
        frameWith(ErrorFrame, { error: "tts: synthesis failed: HTTP 503 from provider" }),
      ],
    });
    expect(up).toHaveLength(1);
  });
});
