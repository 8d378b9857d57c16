/**
 * An interruption in the middle of a streamed LLM reply: the stream is aborted, queued
 * bot output is flushed, while EndFrame and settings frames survive and apply.
 */
import { describe, expect, it } from "vitest";
import {
  BotStartedSpeakingFrame,
  EndFrame,
  FrameProcessor,
  InterruptionFrame,
  LLMContext,
  LLMFullResponseEndFrame,
  LLMTextFrame,
  LLMUpdateSettingsFrame,
  Pipeline,
  PipelineTask,
  TextFrame,
  TTSAudioRawFrame,
  TTSTextFrame,
  TTSUpdateSettingsFrame,
  createContextAggregators,
  interruptOnEveryUserTurn,
  type LLMUserAggregatorOptions,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import {
  FrameCapture,
  ScriptedLLMService,
  ScriptedTTSService,
  abortableSleep,
  turnFrames,
} from "@voxpipe/core/testing";
import type { ScriptedLLMSettings, ScriptedTTSSettings } from "@voxpipe/core/testing";

/** Plays bot output slowly (like an output transport pacing audio), honouring interruptions. */
class SlowOutput extends FrameProcessor {
  override async process(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof TTSAudioRawFrame || frame instanceof LLMTextFrame) {
      await abortableSleep(15, this.signal);
    }
    this.push(frame, direction);
  }
}

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe("interruption", () => {
  it("aborts a streaming LLM reply, flushes queued output, keeps EndFrame and settings", async () => {
    const tokens = [
      "Hello",
      " there.",
      " I",
      " am",
      " a",
      " very",
      " long",
      " reply.",
      ...Array.from({ length: 30 }, () => " more"),
    ];
    const llm = new ScriptedLLMService({ replies: [tokens], tokenDelayMs: 10, name: "llm" });
    const tts = new ScriptedTTSService({ chunksPerSentence: 3, chunkDelayMs: 5, name: "tts" });
    const output = new SlowOutput({ name: "output" });
    const { context, user, assistant } = createContextAggregators(new LLMContext());
    const assistantMessages: { text: string; interrupted: boolean }[] = [];
    assistant.on("assistantMessage", (m) => assistantMessages.push(m));
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(new Pipeline([user, llm, tts, output, assistant, sink]), {
      idleTimeoutMs: null,
    });
    const running = task.run();

    for (const f of turnFrames("tell me a story")) task.queueFrame(f);
    // Mid-stream: some tokens out, the first sentence delivered (its text reached the end
    // of the pipeline: waiting on token counts alone races a loaded machine), and some bot
    // output queued behind the slow output.
    await waitFor(
      () => (llm.calls[0]?.tokens ?? 0) >= 5 && sink.frames.some((f) => f instanceof TTSTextFrame),
    );
    expect(output.queuedFrames).toBeGreaterThan(0);

    // Ordered, uninterruptible frames queued behind the in-flight reply.
    task.queueFrame(
      new LLMUpdateSettingsFrame<ScriptedLLMSettings>({ settings: { temperature: 0.7 } }),
    );
    task.queueFrame(
      new TTSUpdateSettingsFrame<ScriptedTTSSettings>({ settings: { voice: "other" } }),
    );
    task.queueFrame(new TextFrame({ text: "queued and interruptible." }));
    const end = new EndFrame();
    task.queueFrame(end);
    expect(llm.queuedFrames).toBe(4);

    const tokensBefore = llm.calls[0]?.tokens ?? 0;
    task.queueFrame(new InterruptionFrame());

    // Synchronously: the stream's signal fired and the queues were flushed.
    expect(llm.calls[0]?.aborted).toBe(true);
    expect(output.queuedFrames).toBe(0);

    const result = await running;
    expect(result.reason).toBe("end");
    expect(llm.calls).toHaveLength(1);
    expect(llm.calls[0]?.tokens).toBeLessThanOrEqual(tokensBefore + 1);
    expect(llm.calls[0]?.tokens).toBeLessThan(tokens.length);
    // Settings survived the interruption and applied in order.
    expect(llm.settings.temperature).toBe(0.7);
    expect(tts.settings.voice).toBe("other");

    const names = sink.frames.map((f) => f.constructor.name);
    // (The first InterruptionFrame comes from the user aggregator at the turn start.)
    const cut = names.lastIndexOf("InterruptionFrame");
    expect(cut).toBeGreaterThan(0);
    // After the interruption: no more of the old reply, no response end, the EndFrame last.
    const after = sink.frames.slice(cut + 1);
    expect(after.some((f) => f instanceof LLMTextFrame || f instanceof TTSAudioRawFrame)).toBe(
      false,
    );
    expect(after.some((f) => f instanceof LLMFullResponseEndFrame)).toBe(false);
    expect(
      after.some((f) => f instanceof TextFrame && f.text === "queued and interruptible."),
    ).toBe(false);
    expect(sink.frames.at(-1)).toBe(end);
    // Synthesis in flight was aborted too.
    expect(tts.aborted.length + tts.spoken.length).toBeGreaterThan(0);

    // The assistant message is what was actually produced before the cut.
    expect(assistantMessages).toHaveLength(1);
    expect(assistantMessages[0]?.interrupted).toBe(true);
    const stored = context.messages.at(-1);
    expect(stored?.role).toBe("assistant");
    // With a TTS in the pipeline, "produced" means the sentences whose audio went out.
    const delivered = sink.frames
      .slice(0, cut)
      .filter((f) => f instanceof TTSTextFrame)
      .map((f) => f.text)
      .join(" ");
    expect(delivered).not.toBe("");
    expect(stored?.content).toBe(delivered);
    expect(delivered.length).toBeLessThan(tokens.join("").length);
    expect(context.messages[0]).toEqual({ role: "user", content: "tell me a story" });
  });

  it("a new user turn while the bot speaks interrupts it (user aggregator) and the next reply runs at once", async () => {
    const llm = new ScriptedLLMService({
      replies: [["One", " two", " three", " four", " five", " six."], ["Sure."]],
      tokenDelayMs: 20,
    });
    const { context, user, assistant } = createContextAggregators();
    const sink = new FrameCapture("downstream", "sink");
    const task = new PipelineTask(new Pipeline([user, llm, assistant, sink]), {
      idleTimeoutMs: null,
    });
    const running = task.run();
    for (const f of turnFrames("count to six")) task.queueFrame(f);
    await waitFor(() => (llm.calls[0]?.tokens ?? 0) >= 2);
    task.queueFrame(new BotStartedSpeakingFrame()); // what an output transport reports
    for (const f of turnFrames("stop", { turnIndex: 1 })) task.queueFrame(f);
    await waitFor(() => llm.calls.length === 2 && llm.calls[1]?.tokens === 1);
    task.stopWhenDone();
    await running;
    expect(llm.calls[0]?.aborted).toBe(true);
    expect(context.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(context.messages[3]?.content).toBe("Sure.");
    // The second call saw the partial first reply in its context.
    expect(llm.calls[1]?.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  /**
   * A second user turn while the first reply is still being generated (the bot not speaking):
   * the LLM calls, once the second reply is done.
   */
  async function secondTurnDuringReply(
    user: LLMUserAggregatorOptions,
    taskOptions: { allowInterruptions?: boolean } = {},
  ): Promise<ScriptedLLMService["calls"]> {
    const llm = new ScriptedLLMService({ replies: [["a", "b", "c"], ["d"]], tokenDelayMs: 20 });
    const aggregators = createContextAggregators(undefined, { user });
    const task = new PipelineTask(new Pipeline([aggregators.user, llm, aggregators.assistant]), {
      idleTimeoutMs: null,
      ...taskOptions,
    });
    const running = task.run();
    for (const f of turnFrames("first")) task.queueFrame(f);
    await waitFor(() => (llm.calls[0]?.tokens ?? 0) >= 1);
    for (const f of turnFrames("second", { turnIndex: 1 })) task.queueFrame(f);
    await waitFor(() => llm.calls.length === 2 && llm.calls[1]?.tokens === 1);
    task.stopWhenDone();
    await running;
    return llm.calls;
  }

  it("by default a user turn that starts before the bot speaks lets the reply being generated finish", async () => {
    const calls = await secondTurnDuringReply({});
    expect(calls[0]).toMatchObject({ aborted: false, tokens: 3 });
  });

  it("interruptOnEveryUserTurn: a new user turn cancels the reply being generated, the bot speaking or not", async () => {
    const calls = await secondTurnDuringReply({ interruptionStrategy: interruptOnEveryUserTurn });
    expect(calls[0]?.aborted).toBe(true);
  });

  it("does not interrupt when the task disallows interruptions", async () => {
    const calls = await secondTurnDuringReply(
      { interruptionStrategy: interruptOnEveryUserTurn },
      { allowInterruptions: false },
    );
    expect(calls[0]).toMatchObject({ aborted: false, tokens: 3 });
  });
});
