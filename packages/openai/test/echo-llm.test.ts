import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  LLMContext,
  LLMTextFrame,
  Pipeline,
  StartOfTurnFrame,
  TranscriptionFrame,
  createContextAggregators,
} from "@voxpipe/core";
import type { Frame } from "@voxpipe/core";
import { SleepFrame, runProcessorTest } from "@voxpipe/core/testing";
import { EchoLLMService } from "../src/index.js";

const texts = (frames: Frame[]): string =>
  frames
    .filter((f): f is LLMTextFrame => f instanceof LLMTextFrame)
    .map((f) => f.text)
    .join("");

describe("EchoLLMService", () => {
  it("replies with what it heard, word by word", async () => {
    const { user } = createContextAggregators(new LLMContext());
    const echo = new EchoLLMService();
    const { down } = await runProcessorTest({
      processor: new Pipeline([user, echo]),
      framesToSend: [
        new StartOfTurnFrame({ turnIndex: 0 }),
        new TranscriptionFrame({ turnIndex: 0, text: "a table for two" }),
        new EndOfTurnFrame({ turnIndex: 0 }),
      ],
    });
    expect(texts(down)).toBe("You said: a table for two.");
    expect(down.filter((f) => f instanceof LLMTextFrame).length).toBe(6);
  });

  it("has the reply ready at EndOfTurn when it speculated on EagerEndOfTurn", async () => {
    const { context, user } = createContextAggregators(new LLMContext());
    const echo = new EchoLLMService({ context, settings: { firstTokenDelayMs: 300 } });
    const committed: number[] = [];
    echo.on("speculationCommitted", (e) => committed.push(e.bufferedChunks));
    const { down, task } = await runProcessorTest({
      processor: new Pipeline([user, echo]),
      framesToSend: [
        new StartOfTurnFrame({ turnIndex: 0 }),
        new EagerEndOfTurnFrame({ turnIndex: 0, transcript: "yes please" }),
        new SleepFrame(400), // Flux's eager-to-final gap; the LLM works meanwhile
        new TranscriptionFrame({ turnIndex: 0, text: "yes please" }),
        new EndOfTurnFrame({ turnIndex: 0, transcript: "yes please" }),
      ],
    });
    expect(task.hasFinished).toBe(true);
    expect(committed).toEqual([4]); // all of "You said: yes please." was buffered before EndOfTurn
    expect(texts(down)).toBe("You said: yes please.");
  });
});

describe("SpeculativeLLMService: listeners", () => {
  it("50 committed speculations leave no abort listener behind on the processor's signal", async () => {
    // No interruptions (the bot never speaks here): the processor's signal lives all run long.
    const { context, user } = createContextAggregators(new LLMContext(), {
      user: { interruptOnUserTurnStart: false },
    });
    const echo = new EchoLLMService({ context, settings: { firstTokenDelayMs: 0 } });
    let committed = 0;
    // Counted during the run: cleanup aborts the signal, which drops `once` listeners.
    const listeners: number[] = [];
    echo.on("speculationCommitted", () => {
      committed++;
      listeners.push(getEventListeners(echo.signal, "abort").length);
    });
    const frames: Frame[] = [];
    for (let turn = 0; turn < 50; turn++) {
      const text = `turn number ${turn}`;
      frames.push(
        new StartOfTurnFrame({ turnIndex: turn }),
        new EagerEndOfTurnFrame({ turnIndex: turn, transcript: text }),
        new SleepFrame(5),
        new TranscriptionFrame({ turnIndex: turn, text }),
        new EndOfTurnFrame({ turnIndex: turn, transcript: text }),
        new SleepFrame(5),
      );
    }
    await runProcessorTest({ processor: new Pipeline([user, echo]), framesToSend: frames });
    expect(committed).toBe(50);
    expect(Math.max(...listeners)).toBeLessThanOrEqual(2);
  });
});
