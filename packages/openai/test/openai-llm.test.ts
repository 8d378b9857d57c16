import { afterEach, describe, expect, it } from "vitest";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  InterruptionFrame,
  LLMContext,
  LLMContextFrame,
  LLMFullResponseEndFrame,
  LLMFullResponseStartFrame,
  LLMTextFrame,
  LLMUpdateSettingsFrame,
  Pipeline,
  StartOfTurnFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  createContextAggregators,
} from "@voxpipe/core";
import type { Frame } from "@voxpipe/core";
import { SleepFrame, runProcessorTest } from "@voxpipe/core/testing";
import { OpenAILLMService } from "../src/index.js";
import { startScriptedChatServer } from "../src/testing/index.js";
import type { ScriptedChatServer } from "../src/testing/index.js";

let server: ScriptedChatServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const texts = (frames: Frame[]): string =>
  frames
    .filter((f): f is LLMTextFrame => f instanceof LLMTextFrame)
    .map((f) => f.text)
    .join("");

/** The frames of one user turn as Flux + the STT service deliver them. */
function turn(turnIndex: number, transcript: string, eager: boolean): Frame[] {
  return [
    new StartOfTurnFrame({ turnIndex, transcript: "" }),
    ...(eager ? [new EagerEndOfTurnFrame({ turnIndex, transcript }), new SleepFrame(150)] : []),
    new TranscriptionFrame({ turnIndex, text: transcript }),
    new EndOfTurnFrame({ turnIndex, transcript }),
  ];
}

describe("OpenAILLMService", () => {
  it("streams a reply for the context through the openai client", async () => {
    server = await startScriptedChatServer({ reply: () => "Sure, a table for two." });
    const llm = new OpenAILLMService({
      model: "test-model",
      baseURL: server.baseURL,
      apiKey: "k",
      speculative: false,
    });
    const context = new LLMContext([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Book a table." },
    ]);
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [new LLMContextFrame({ context })],
    });
    expect(down[0]).toBeInstanceOf(LLMFullResponseStartFrame);
    expect(down.at(-1)).toBeInstanceOf(LLMFullResponseEndFrame);
    expect(texts(down)).toBe("Sure, a table for two.");
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.model).toBe("test-model");
    expect(server.requests[0]?.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Book a table." },
    ]);
  });

  it("aborts the HTTP stream on an interruption and closes nothing it did not finish", async () => {
    server = await startScriptedChatServer({
      reply: () => "one two three four five six seven eight",
      tokenDelayMs: 40,
    });
    const llm = new OpenAILLMService({
      model: "m",
      baseURL: server.baseURL,
      apiKey: "k",
      speculative: false,
    });
    const context = new LLMContext([{ role: "user", content: "count" }]);
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [
        new LLMContextFrame({ context }),
        new SleepFrame(130),
        new InterruptionFrame(),
      ],
    });
    await expect.poll(() => server?.requests[0]?.aborted).toBe(true);
    expect(texts(down).length).toBeGreaterThan(0);
    expect(texts(down)).not.toContain("eight");
    expect(down.some((f) => f instanceof LLMFullResponseEndFrame)).toBe(false);
  });

  it("reports an HTTP error upstream and closes the response", async () => {
    server = await startScriptedChatServer({
      reply: () => ({ status: 400, message: "model not found" }),
    });
    const llm = new OpenAILLMService({
      model: "nope",
      baseURL: server.baseURL,
      apiKey: "k",
      maxRetries: 0,
      speculative: false,
    });
    const { down, errors } = await runProcessorTest({
      processor: llm,
      framesToSend: [
        new LLMContextFrame({ context: new LLMContext([{ role: "user", content: "hi" }]) }),
      ],
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatch(/model not found/);
    expect(errors[0]?.fatal).toBe(false);
    expect(down.at(-1)).toBeInstanceOf(LLMFullResponseEndFrame);
  });

  it("applies LLMUpdateSettingsFrame to the next request and rejects bad values", async () => {
    server = await startScriptedChatServer();
    const llm = new OpenAILLMService({
      model: "first",
      baseURL: server.baseURL,
      apiKey: "k",
      speculative: false,
    });
    const context = new LLMContext([{ role: "user", content: "hi" }]);
    const { errors } = await runProcessorTest({
      processor: llm,
      framesToSend: [
        new LLMUpdateSettingsFrame({ settings: { model: "second" } }),
        new LLMUpdateSettingsFrame({ settings: { temperature: 7 } }),
        new LLMContextFrame({ context }),
      ],
    });
    expect(server.requests[0]?.model).toBe("second");
    expect(errors.map((e) => e.error).join()).toMatch(
      /temperature must be a number from 0 to 2, got 7/,
    );
    expect(() => new OpenAILLMService({ model: "" })).toThrow(/model must be a non-empty string/);
  });
});

describe("speculative replies on Flux eager end-of-turn", () => {
  async function runTurns(frames: Frame[], reply = (last: string) => `Reply to ${last}.`) {
    server = await startScriptedChatServer({
      reply: (r) => reply(r.messages.filter((m) => m.role === "user").at(-1)?.content ?? ""),
      firstTokenDelayMs: 20,
      tokenDelayMs: 5,
    });
    const { context, user } = createContextAggregators(
      new LLMContext([{ role: "system", content: "Be brief." }]),
    );
    const llm = new OpenAILLMService({ model: "m", baseURL: server.baseURL, apiKey: "k", context });
    const events: string[] = [];
    llm.on("speculationStarted", () => events.push("started"));
    llm.on("speculationCommitted", () => events.push("committed"));
    llm.on("speculationDiscarded", (e) => events.push(`discarded:${e.reason}`));
    const { down } = await runProcessorTest({
      processor: new Pipeline([user, llm]),
      framesToSend: frames,
    });
    return { down, events, context };
  }

  it("starts on EagerEndOfTurn and commits on EndOfTurn: one request, reply already buffered", async () => {
    const { down, events } = await runTurns(turn(0, "book a table for two", true));
    expect(events).toEqual(["started", "committed"]);
    expect(server?.requests).toHaveLength(1);
    // The request was made before the final context existed: it carries the eager transcript.
    expect(server?.requests[0]?.messages.at(-1)).toEqual({
      role: "user",
      content: "book a table for two",
    });
    expect(texts(down)).toBe("Reply to book a table for two.");
    const order = down.map((f) => f.constructor.name);
    expect(order.indexOf("LLMFullResponseStartFrame")).toBeGreaterThan(
      order.indexOf("EndOfTurnFrame"),
    );
  });

  it("aborts on TurnResumed and answers the final transcript instead", async () => {
    const frames = [
      new StartOfTurnFrame({ turnIndex: 0, transcript: "" }),
      new EagerEndOfTurnFrame({ turnIndex: 0, transcript: "book a table" }),
      new SleepFrame(60),
      new TurnResumedFrame({ turnIndex: 0, transcript: "book a table" }),
      new SleepFrame(50),
      new TranscriptionFrame({ turnIndex: 0, text: "book a table for two" }),
      new EndOfTurnFrame({ turnIndex: 0, transcript: "book a table for two" }),
    ];
    const { down, events } = await runTurns(
      frames,
      (last) => `Reply to ${last} with quite a few words to stream.`,
    );
    expect(events).toEqual(["started", "discarded:resumed"]);
    expect(server?.requests).toHaveLength(2);
    expect(server?.requests[0]?.aborted).toBe(true);
    expect(texts(down)).toBe("Reply to book a table for two with quite a few words to stream.");
  });

  it("drops the speculation when the final context differs from the eager one", async () => {
    const frames = [
      new StartOfTurnFrame({ turnIndex: 0, transcript: "" }),
      new EagerEndOfTurnFrame({ turnIndex: 0, transcript: "book a table" }),
      new SleepFrame(60),
      new TranscriptionFrame({ turnIndex: 0, text: "book a cable" }),
      new EndOfTurnFrame({ turnIndex: 0, transcript: "book a cable" }),
    ];
    const { down, events } = await runTurns(frames);
    expect(events).toEqual(["started", "discarded:mismatch"]);
    expect(texts(down)).toBe("Reply to book a cable.");
  });

  it("is off without eager events: a plain turn makes one normal request", async () => {
    const { down, events, context } = await runTurns(turn(0, "hello", false));
    expect(events).toEqual([]);
    expect(server?.requests).toHaveLength(1);
    expect(texts(down)).toBe("Reply to hello.");
    expect(context.messages.at(-1)).toEqual({ role: "user", content: "hello" });
  });
});
