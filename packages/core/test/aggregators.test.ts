import { describe, expect, it } from "vitest";
import {
  InterruptionFrame,
  LLMContext,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  TTSStartedFrame,
  TTSStoppedFrame,
  TTSTextFrame,
  createContextAggregators,
} from "../src/index.js";
import { runProcessorTest } from "../src/testing/index.js";

describe("LLMAssistantContextAggregator", () => {
  it("behind a TTS, an interrupted reply keeps only the sentences that reached it", async () => {
    const { context, assistant } = createContextAggregators(new LLMContext());
    const messages: { text: string; interrupted: boolean }[] = [];
    assistant.on("assistantMessage", (m) => messages.push(m));
    await runProcessorTest({
      processor: assistant,
      framesToSend: [
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "Hello there. " }),
        new TTSStartedFrame(),
        new LLMTextFrame({ text: "How are you? Fine." }),
        new TTSTextFrame({ text: "Hello there." }),
        new InterruptionFrame(),
      ],
    });
    expect(messages).toEqual([{ text: "Hello there.", interrupted: true }]);
    expect(context.messages.at(-1)).toEqual({ role: "assistant", content: "Hello there." });
  });

  it("records nothing when a TTS reply is interrupted before any sentence was played", async () => {
    const { context, assistant } = createContextAggregators(new LLMContext());
    await runProcessorTest({
      processor: assistant,
      framesToSend: [
        new LLMFullResponseStartFrame(),
        new TTSStartedFrame(),
        new LLMTextFrame({ text: "Never heard." }),
        new InterruptionFrame(),
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "Heard." }),
        new TTSTextFrame({ text: "Heard." }),
        new TTSStoppedFrame(),
        new LLMFullResponseEndFrame(),
      ],
    });
    expect(context.messages).toEqual([{ role: "assistant", content: "Heard." }]);
  });

  it("without a TTS, records the LLM's text", async () => {
    const { context, assistant } = createContextAggregators(new LLMContext());
    await runProcessorTest({
      processor: assistant,
      framesToSend: [
        new LLMFullResponseStartFrame(),
        new LLMTextFrame({ text: "Text " }),
        new LLMTextFrame({ text: "only." }),
        new LLMFullResponseEndFrame(),
      ],
    });
    expect(context.messages).toEqual([{ role: "assistant", content: "Text only." }]);
  });
});
