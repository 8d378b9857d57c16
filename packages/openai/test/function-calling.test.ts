import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  FrameProcessor,
  FunctionCallResultFrame,
  LLMContext,
  LLMContextFrame,
  LLMTextFrame,
  Pipeline,
  StartOfTurnFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  createContextAggregators,
  functionSchema,
} from "@voxpipe/core";
import type { Frame, FrameDirection } from "@voxpipe/core";
import { SleepFrame, abortableSleep, runProcessorTest } from "@voxpipe/core/testing";
import { OpenAILLMService } from "../src/index.js";
import { startScriptedChatServer } from "../src/testing/index.js";
import type {
  RecordedChatRequest,
  ScriptedChatServer,
  ScriptedReply,
} from "../src/testing/index.js";

let server: ScriptedChatServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** One `delta.tool_calls[]` item as it travels on the wire. */
interface Fragment {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

const checkAvailability = functionSchema({
  name: "check_availability",
  description: "Is a table free?",
  parameters: z.object({ time: z.string(), partySize: z.number().int() }),
});
const bookTable = functionSchema({
  name: "book_table",
  description: "Book a table.",
  parameters: z.object({ time: z.string(), name: z.string() }),
});

/** Replies with a call when the last message is the user's, else with a sentence about the result. */
function toolThenText(name: string, args: object): (r: RecordedChatRequest) => ScriptedReply {
  return (r) =>
    r.messages.at(-1)?.role === "tool"
      ? `Done: ${r.messages.at(-1)?.content ?? ""}.`
      : { tokens: [{ toolCall: { name, arguments: args } }] };
}

describe("scripted OpenAI-compatible server: tool calls", () => {
  it("streams parallel tool calls in OpenAI's chunk shape, which the openai SDK's own assembler reads", async () => {
    server = await startScriptedChatServer({
      reply: () => ({
        tokens: [
          {
            toolCall: {
              name: "check_availability",
              arguments: { time: "19:00", partySize: 2 },
              id: "call_a",
            },
          },
          {
            toolCall: {
              name: "book_table",
              arguments: { time: "19:00", name: "Ada" },
              id: "call_b",
            },
          },
        ],
      }),
    });
    // The raw chunks, as documented: first fragment has index, id, type and function.name;
    // the arguments come in later fragments; the last chunk says finish_reason "tool_calls".
    const res = await fetch(`${server.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [], tools: [checkAvailability] }),
    });
    const chunks = (await res.text())
      .split("\n\n")
      .filter((l) => l.startsWith("data: {"))
      .map(
        (l) =>
          JSON.parse(l.slice(6)) as {
            choices: { delta: { tool_calls?: Fragment[] }; finish_reason: string | null }[];
          },
      );
    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(fragments[0]).toEqual({
      index: 0,
      id: "call_a",
      type: "function",
      function: { name: "check_availability", arguments: "" },
    });
    expect(fragments.filter((f) => f.index === 0).length).toBeGreaterThan(2);
    expect(fragments.filter((f) => f.index === 1 && f.id === "call_b")).toHaveLength(1);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(server.requests[0]?.tools).toEqual(["check_availability"]);

    // Independent check: the official SDK's stream helper assembles the same calls.
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k" });
    const final = await client.chat.completions
      .stream({ model: "m", messages: [{ role: "user", content: "x" }] })
      .finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(
      final.choices[0]?.message.tool_calls?.map((c) =>
        c.type === "function"
          ? [c.id, c.function.name, JSON.parse(c.function.arguments) as unknown]
          : [],
      ),
    ).toEqual([
      ["call_a", "check_availability", { time: "19:00", partySize: 2 }],
      ["call_b", "book_table", { time: "19:00", name: "Ada" }],
    ]);
  });
});

describe("OpenAILLMService function calling", () => {
  it("sends the tools, runs the call, sends the result back and streams the answer", async () => {
    server = await startScriptedChatServer({
      reply: toolThenText("check_availability", { time: "19:00", partySize: 2 }),
    });
    const llm = new OpenAILLMService({
      model: "m",
      baseURL: server.baseURL,
      apiKey: "k",
      speculative: false,
    });
    llm.registerFunction("check_availability", ({ arguments: a }) => ({
      available: true,
      time: a.time,
    }));
    const context = new LLMContext(
      [{ role: "user", content: "Table for two at seven?" }],
      [checkAvailability],
      "auto",
    );
    const { down } = await runProcessorTest({
      processor: llm,
      framesToSend: [new LLMContextFrame({ context })],
    });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]?.tools).toEqual(["check_availability"]);
    expect(server.requests[0]?.toolChoice).toBe("auto");
    const [assistant, tool] = server.requests[1]?.messages.slice(1) ?? [];
    expect(assistant).toMatchObject({
      role: "assistant",
      toolCalls: [{ name: "check_availability", arguments: '{"time":"19:00","partySize":2}' }],
    });
    expect(tool).toEqual({
      role: "tool",
      toolCallId: assistant?.toolCalls?.[0]?.id,
      content: '{"available":true,"time":"19:00"}',
    });
    expect(
      down
        .filter((f) => f instanceof LLMTextFrame)
        .map((f) => f.text)
        .join(""),
    ).toBe('Done: {"available":true,"time":"19:00"}.');
  });
});

/** Logs when the final context reaches the LLM, to order it against function calls. */
class ContextMarker extends FrameProcessor {
  constructor(readonly log: string[]) {
    super();
  }
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof LLMContextFrame) this.log.push("final context");
    this.push(frame, direction);
  }
}

function eagerTurn(transcript: string, resumed = false): Frame[] {
  return [
    new StartOfTurnFrame({ turnIndex: 0, transcript: "" }),
    new EagerEndOfTurnFrame({ turnIndex: 0, transcript }),
    new SleepFrame(250),
    ...(resumed ? [new TurnResumedFrame({ turnIndex: 0, transcript }), new SleepFrame(50)] : []),
    new TranscriptionFrame({ turnIndex: 0, text: resumed ? `${transcript} please` : transcript }),
    new EndOfTurnFrame({ turnIndex: 0, transcript }),
    new SleepFrame(resumed ? 500 : 100),
  ];
}

describe("speculative replies and function calls", () => {
  async function run(
    fn: "book_table" | "check_availability",
    speculativeSafe: boolean,
    resumed = false,
  ) {
    server = await startScriptedChatServer({
      reply: toolThenText(fn, { time: "19:00", name: "Ada", partySize: 2 }),
    });
    const { context, user } = createContextAggregators(
      new LLMContext([], [checkAvailability, bookTable]),
    );
    const llm = new OpenAILLMService({ model: "m", baseURL: server.baseURL, apiKey: "k", context });
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    llm.registerFunction(
      fn,
      async ({ speculative, signal }) => {
        log.push(`${fn} speculative=${String(speculative)}`);
        signals.push(signal);
        // A lookup that takes a while, so a resumed turn catches it running.
        if (resumed) await abortableSleep(400, signal).catch(() => undefined);
        return { ok: true };
      },
      { speculative: speculativeSafe },
    );
    const { down } = await runProcessorTest({
      processor: new Pipeline([user, new ContextMarker(log), llm]),
      framesToSend: eagerTurn("book a table for two at seven", resumed),
    });
    return { log, signals, down, context };
  }

  it("does not run a side-effecting function before EndOfTurn: the reply stops at the call and resumes on commit", async () => {
    const { log, down } = await run("book_table", false);
    expect(log).toEqual(["final context", "book_table speculative=false"]);
    // One request for the (committed) speculative reply, one for the answer after the result.
    expect(server?.requests).toHaveLength(2);
    expect(down.filter((f) => f instanceof FunctionCallResultFrame)).toHaveLength(1);
    expect(
      down
        .filter((f) => f instanceof LLMTextFrame)
        .map((f) => f.text)
        .join(""),
    ).toBe('Done: {"ok":true}.');
  });

  it("runs a function declared safe to run speculatively ahead of EndOfTurn, once, and uses its result", async () => {
    const { log, down } = await run("check_availability", true);
    expect(log).toEqual(["check_availability speculative=true", "final context"]);
    expect(server?.requests).toHaveLength(2);
    expect(down.filter((f) => f instanceof FunctionCallResultFrame).map((f) => f.result)).toEqual([
      { ok: true },
    ]);
  });

  it("a resumed turn aborts the speculative call and runs it again for the final transcript", async () => {
    const { log, signals } = await run("check_availability", true, true);
    expect(log).toEqual([
      "check_availability speculative=true",
      "final context",
      "check_availability speculative=false",
    ]);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[1]?.aborted).toBe(false);
  });
});
