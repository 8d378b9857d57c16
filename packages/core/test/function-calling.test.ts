import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  EndTaskFrame,
  FunctionCallCancelFrame,
  FunctionCallResultFrame,
  FunctionCallsStartedFrame,
  InterruptionFrame,
  LLMContext,
  LLMContextFrame,
  LLMTextFrame,
  Pipeline,
  PipelineTask,
  TTSAudioRawFrame,
  TTSSpeakFrame,
  ToolCallAccumulator,
  createContextAggregators,
  functionCallResult,
  functionSchema,
} from "../src/index.js";
import type { Frame, FunctionCallParams, LLMTool } from "../src/index.js";
import {
  ScriptedLLMService,
  ScriptedTTSService,
  SleepFrame,
  runProcessorTest,
  toolCallDeltas,
  turnFrames,
} from "../src/testing/index.js";

const weather: LLMTool = functionSchema({
  name: "get_weather",
  description: "Weather in a city.",
  parameters: z.object({ city: z.string() }),
});

const names = (frames: readonly Frame[]): string[] =>
  frames
    .filter((f) => !(f instanceof LLMTextFrame))
    .map((f) => f.constructor.name.replace(/Frame$/, ""));

afterEach(() => {
  vi.useRealTimers();
});

describe("functionSchema", () => {
  it("turns a zod object into OpenAI's function tool schema", () => {
    const tool = functionSchema({
      name: "book_table",
      description: "Book a table.",
      parameters: z.object({
        name: z.string().describe("guest name"),
        partySize: z.number().int().min(1),
        notes: z.string().optional(),
      }),
    });
    expect(tool.type).toBe("function");
    expect(tool.function.name).toBe("book_table");
    expect(tool.function.parameters).toMatchObject({
      type: "object",
      properties: {
        name: { type: "string", description: "guest name" },
        partySize: { type: "integer", minimum: 1 },
      },
      required: ["name", "partySize"],
    });
    expect(tool.function.parameters).not.toHaveProperty("$schema");
  });

  it("refuses a tool name OpenAI would refuse, naming it", () => {
    expect(
      () => new LLMContext([], [{ type: "function", function: { name: "book table" } }]),
    ).toThrow(/tools\[0\]\.function\.name .*"book table"/);
  });
});

describe("ToolCallAccumulator", () => {
  it("assembles OpenAI-style fragments of parallel calls by index", () => {
    const acc = new ToolCallAccumulator();
    const a = toolCallDeltas(
      0,
      { id: "call_a", name: "f", arguments: '{"city":"Paris"}' },
      { chunkChars: 3 },
    );
    const b = toolCallDeltas(
      1,
      { id: "call_b", name: "g", arguments: '{"n":1}' },
      { chunkChars: 2 },
    );
    // interleaved, as a server may send them
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const [x, y] = [b[i], a[i]];
      if (x) acc.add(x);
      if (y) acc.add(y);
    }
    expect(acc.calls()).toEqual([
      { id: "call_a", name: "f", arguments: '{"city":"Paris"}' },
      { id: "call_b", name: "g", arguments: '{"n":1}' },
    ]);
  });
});

describe("LLMService function calling", () => {
  it("runs parallel calls, records them in the context and runs the LLM again on the results", async () => {
    const context = new LLMContext(
      [{ role: "user", content: "Weather in Paris and Rome?" }],
      [weather],
    );
    const llm = new ScriptedLLMService({
      replies: [
        [
          "Let me check. ",
          { toolCall: { name: "get_weather", arguments: { city: "Paris" }, id: "call_1" } },
          { toolCall: { name: "get_weather", arguments: { city: "Rome" }, id: "call_2" } },
        ],
        ["Sunny in both."],
      ],
    });
    const seen: FunctionCallParams[] = [];
    llm.registerFunction("get_weather", (params) => {
      seen.push(params);
      return { city: params.arguments.city, sky: "sunny" };
    });
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [new LLMContextFrame({ context })],
    });
    expect(names(down)).toEqual([
      "LLMFullResponseStart",
      "FunctionCallsStarted",
      "FunctionCallInProgress",
      "FunctionCallInProgress",
      "LLMFullResponseEnd",
      "FunctionCallResult",
      "FunctionCallResult",
      "LLMFullResponseStart",
      "LLMFullResponseEnd",
    ]);
    expect(seen.map((p) => p.arguments)).toEqual([{ city: "Paris" }, { city: "Rome" }]);
    expect(seen.every((p) => p.speculative === false && p.context === context)).toBe(true);
    const started = down.find((f) => f instanceof FunctionCallsStartedFrame);
    expect(started?.functionCalls.map((c) => c.toolCallId)).toEqual(["call_1", "call_2"]);
    expect(context.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: "Let me check. ",
        toolCalls: [
          { id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { id: "call_2", name: "get_weather", arguments: '{"city":"Rome"}' },
        ],
      },
      { role: "tool", toolCallId: "call_1", content: '{"city":"Paris","sky":"sunny"}' },
      { role: "tool", toolCallId: "call_2", content: '{"city":"Rome","sky":"sunny"}' },
    ]);
    // The second run saw the results and the tools.
    expect(llm.calls[1]?.messages.at(-1)).toEqual({
      role: "tool",
      toolCallId: "call_2",
      content: '{"city":"Rome","sky":"sunny"}',
    });
    expect(llm.calls[1]?.tools.map((t) => t.function.name)).toEqual(["get_weather"]);
  });

  it("reports a throwing handler, an unknown function and bad JSON to the LLM, not as a crash", async () => {
    const context = new LLMContext([{ role: "user", content: "go" }], [weather]);
    const llm = new ScriptedLLMService({
      replies: [
        [
          { toolCall: { name: "get_weather", arguments: { city: "X" }, id: "c1" } },
          { toolCall: { name: "no_such_fn", arguments: {}, id: "c2" } },
          { toolCall: { name: "get_weather", arguments: '{"city": "Par', id: "c3" } },
        ],
        ["Sorry, something went wrong."],
      ],
    });
    llm.registerFunction("get_weather", () => {
      throw new Error("weather service down");
    });
    const { errors, down } = await runProcessorTest({
      processor: llm,
      framesToSend: [new LLMContextFrame({ context })],
    });
    expect(errors).toEqual([]);
    const results = down.filter((f) => f instanceof FunctionCallResultFrame);
    // Results are pushed as calls finish; check them by call.
    expect(Object.fromEntries(results.map((r) => [r.toolCallId, r.result] as const))).toEqual({
      c1: { error: "get_weather failed: weather service down" },
      c2: { error: 'no function named "no_such_fn" is registered' },
      c3: {
        error: expect.stringMatching(/^arguments of get_weather are not valid JSON/) as unknown,
      },
    });
    expect(llm.calls).toHaveLength(2); // the LLM ran again to explain
  });

  it("a catch-all handles calls without their own handler", async () => {
    const context = new LLMContext([{ role: "user", content: "go" }]);
    const llm = new ScriptedLLMService({
      replies: [[{ toolCall: { name: "anything", arguments: { a: 1 } } }], ["ok"]],
    });
    const called: string[] = [];
    llm.registerFunction(null, ({ functionName }) => {
      called.push(functionName);
      return "done";
    });
    await runProcessorTest({ processor: llm, framesToSend: [new LLMContextFrame({ context })] });
    expect(called).toEqual(["anything"]);
    expect(context.messages.at(-1)).toMatchObject({ role: "tool", content: "done" });
  });

  it("does not run the LLM again when a result says runLlm: false, or the service is set so", async () => {
    for (const setup of ["result", "service"] as const) {
      const context = new LLMContext([{ role: "user", content: "bye" }]);
      const llm = new ScriptedLLMService({
        replies: [[{ toolCall: { name: "end_call" } }], ["should not run"]],
        runLlmAfterFunctionCalls: setup === "service" ? false : undefined,
      });
      llm.registerFunction("end_call", () =>
        setup === "result" ? functionCallResult({ ok: true }, { runLlm: false }) : { ok: true },
      );
      const { down } = await runProcessorTest({
        processor: llm,
        framesToSend: [new LLMContextFrame({ context })],
      });
      expect(llm.calls, setup).toHaveLength(1);
      expect(down.find((f) => f instanceof FunctionCallResultFrame)?.runLlm).toBe(false);
    }
  });

  it("a handler's own timeout aborts its signal and tells the LLM (fake timers)", async () => {
    vi.useFakeTimers();
    const context = new LLMContext([{ role: "user", content: "go" }]);
    const llm = new ScriptedLLMService({
      replies: [[{ toolCall: { name: "slow" } }], ["It took too long."]],
    });
    let signal: AbortSignal | undefined;
    llm.registerFunction(
      "slow",
      (p) => {
        signal = p.signal;
        return new Promise((resolve) => setTimeout(resolve, 60_000));
      },
      { timeoutMs: 1000 },
    );
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [new LLMContextFrame({ context }), new SleepFrame(1500)],
      advanceTime: (ms) => vi.advanceTimersByTimeAsync(ms),
    });
    expect(signal?.aborted).toBe(true);
    expect(down.find((f) => f instanceof FunctionCallResultFrame)?.result).toEqual({
      error: "slow did not finish within 1000 ms",
    });
    expect(llm.calls).toHaveLength(2);
  });

  it("stops re-running a model stuck calling functions after maxFunctionCallRounds", async () => {
    const context = new LLMContext([{ role: "user", content: "go" }]);
    const llm = new ScriptedLLMService({
      replies: [[{ toolCall: { name: "again" } }]],
      maxFunctionCallRounds: 3,
    });
    llm.registerFunction("again", () => "again");
    const { errors } = await runProcessorTest({
      processor: llm,
      framesToSend: [new LLMContextFrame({ context })],
    });
    expect(llm.calls).toHaveLength(3);
    expect(errors.map((e) => e.error)).toEqual([
      expect.stringMatching(/called functions in 3 replies in a row/),
    ]);
  });

  it("an interruption cancels running calls (signal aborted, CANCELLED recorded) except uninterruptible ones", async () => {
    vi.useFakeTimers();
    const context = new LLMContext([{ role: "user", content: "go" }]);
    const llm = new ScriptedLLMService({
      replies: [
        [
          { toolCall: { name: "lookup", id: "c1" } },
          { toolCall: { name: "charge_card", id: "c2" } },
        ],
        ["never"],
      ],
    });
    let lookupSignal: AbortSignal | undefined;
    llm.registerFunction("lookup", (p) => {
      lookupSignal = p.signal;
      return new Promise((resolve) => setTimeout(() => resolve("found"), 5000));
    });
    llm.registerFunction(
      "charge_card",
      () => new Promise((resolve) => setTimeout(() => resolve({ charged: true }), 1000)),
      { cancelOnInterruption: false },
    );
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [
        new LLMContextFrame({ context }),
        new SleepFrame(100),
        new InterruptionFrame(),
        new SleepFrame(6000),
      ],
      advanceTime: (ms) => vi.advanceTimersByTimeAsync(ms),
    });
    expect(lookupSignal?.aborted).toBe(true);
    expect(
      down.filter((f) => f instanceof FunctionCallCancelFrame).map((f) => f.toolCallId),
    ).toEqual(["c1"]);
    expect(
      down.filter((f) => f instanceof FunctionCallResultFrame).map((f) => [f.toolCallId, f.result]),
    ).toEqual([["c2", { charged: true }]]);
    expect(context.messages.filter((m) => m.role === "tool")).toEqual([
      { role: "tool", toolCallId: "c1", content: "CANCELLED" },
      { role: "tool", toolCallId: "c2", content: '{"charged":true}' },
    ]);
    expect(llm.calls).toHaveLength(1); // the user has the floor: no re-run
    expect(llm.runningFunctionCalls).toEqual([]);
  });

  it("validates registrations, naming the field", () => {
    const llm = new ScriptedLLMService({ replies: [[]] });
    expect(() => llm.registerFunction("bad name", () => 1)).toThrow(/"bad name"/);
    expect(() => llm.registerFunction("ok", () => 1, { timeoutMs: -1 })).toThrow(/timeoutMs .* -1/);
  });
});

describe("a tool-using agent: aggregators, control frames, hang-up", () => {
  it("keeps one assistant message with the calls, then the results, then the final reply", async () => {
    const { context, user, assistant } = createContextAggregators(
      new LLMContext([{ role: "system", content: "You book tables." }], [weather]),
    );
    const llm = new ScriptedLLMService({
      replies: [["One moment. ", { toolCall: { name: "get_weather", id: "w1" } }], ["Sunny."]],
    });
    llm.registerFunction("get_weather", () => ({ sky: "sunny" }));
    await runProcessorTest({
      processor: new Pipeline([user, llm, assistant]),
      framesToSend: turnFrames("what is the weather"),
    });
    expect(context.messages.map((m) => [m.role, m.content])).toEqual([
      ["system", "You book tables."],
      ["user", "what is the weather"],
      ["assistant", "One moment. "],
      ["tool", '{"sky":"sunny"}'],
      ["assistant", "Sunny."],
    ]);
    expect(context.messages[2]?.toolCalls?.[0]?.id).toBe("w1");
  });

  it("LLMMessagesAppendFrame / LLMMessagesUpdateFrame change the context and run the LLM only when asked", async () => {
    const { LLMMessagesAppendFrame, LLMMessagesUpdateFrame } = await import("../src/index.js");
    const { context, user } = createContextAggregators(
      new LLMContext([{ role: "system", content: "S" }]),
    );
    const llm = new ScriptedLLMService({ replies: [["ok"]] });
    await runProcessorTest({
      processor: new Pipeline([user, llm]),
      framesToSend: [
        new LLMMessagesAppendFrame({ messages: [{ role: "system", content: "VIP caller" }] }),
        new LLMMessagesAppendFrame({
          messages: [{ role: "user", content: "hi" }],
          runLlm: true,
        }),
      ],
    });
    expect(llm.calls.map((c) => c.messages.map((m) => m.content))).toEqual([
      ["S", "VIP caller", "hi"],
    ]);
    await runProcessorTest({
      processor: new Pipeline([user, llm]),
      framesToSend: [
        new LLMMessagesUpdateFrame({
          messages: [{ role: "system", content: "Fresh start" }],
          runLlm: true,
        }),
      ],
    });
    expect(context.messages).toEqual([{ role: "system", content: "Fresh start" }]);
    expect(llm.calls[1]?.messages).toEqual([{ role: "system", content: "Fresh start" }]);
  });

  it("LLMSetToolsFrame changes the tools the LLM is given; invalid tools are refused with an error", async () => {
    const { LLMSetToolsFrame, LLMRunFrame } = await import("../src/index.js");
    const { context, user } = createContextAggregators(
      new LLMContext([{ role: "system", content: "S" }]),
    );
    const llm = new ScriptedLLMService({ replies: [["ok"]] });
    const { errors } = await runProcessorTest({
      processor: new Pipeline([user, llm]),
      framesToSend: [
        new LLMSetToolsFrame({ tools: [weather] }),
        new LLMRunFrame(),
        new LLMSetToolsFrame({ tools: [{ type: "function", function: { name: "has space" } }] }),
      ],
    });
    expect(llm.calls[0]?.tools.map((t) => t.function.name)).toEqual(["get_weather"]);
    expect(context.tools.map((t) => t.function.name)).toEqual(["get_weather"]);
    expect(errors.map((e) => e.error)).toEqual([
      expect.stringMatching(/LLMSetToolsFrame refused: .*"has space"/),
    ]);
  });

  it("LLMRunFrame makes the bot speak first (a greeting before the user says anything)", async () => {
    const { LLMRunFrame } = await import("../src/index.js");
    const { user, assistant, context } = createContextAggregators(
      new LLMContext([{ role: "system", content: "Greet the caller." }]),
    );
    const llm = new ScriptedLLMService({ replies: [["Hello, ", "Bella Vista."]] });
    const tts = new ScriptedTTSService();
    await runProcessorTest({
      processor: new Pipeline([user, llm, tts, assistant]),
      framesToSend: [new LLMRunFrame()],
    });
    expect(tts.spoken).toEqual(["Hello, Bella Vista."]);
    expect(context.messages.at(-1)).toEqual({ role: "assistant", content: "Hello, Bella Vista." });
  });

  it("a goodbye tool says goodbye (TTSSpeakFrame) and hangs up (EndTaskFrame) after it is spoken", async () => {
    const { user, context } = createContextAggregators(new LLMContext([]));
    const llm = new ScriptedLLMService({
      replies: [[{ toolCall: { name: "end_call" } }], ["must not run"]],
    });
    llm.registerFunction("end_call", ({ llm: service }) => {
      service.push(new TTSSpeakFrame({ text: "Goodbye!" }));
      service.push(new EndTaskFrame({ reason: "caller said goodbye" }), "upstream");
      return functionCallResult({ ended: true }, { runLlm: false });
    });
    const tts = new ScriptedTTSService({ chunkDelayMs: 5 });
    const task = new PipelineTask(new Pipeline([user, llm, tts]), { idleTimeoutMs: null });
    const out: Frame[] = [];
    task.frames$.subscribe((e) => {
      if (e.processor === tts && e.direction === "downstream") out.push(e.frame);
    });
    // No EndFrame from here: the tool ends the run by itself.
    void task.queueFrames(turnFrames("thanks bye"));
    const result = await task.run();
    expect(result.reason).toBe("end");
    expect(tts.spoken).toEqual(["Goodbye!"]);
    expect(tts.aborted).toEqual([]);
    // All of the goodbye's audio went out before the end.
    const audio = out.filter((f) => f instanceof TTSAudioRawFrame).length;
    expect(audio).toBe(2);
    expect(llm.calls).toHaveLength(1);
    expect(context.messages.at(-1)).toMatchObject({ role: "tool", content: '{"ended":true}' });
  });
});
