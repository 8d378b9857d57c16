/**
 * The booking agent's pipeline: input → Flux → user aggregator → LLM (with tools) → TTS →
 * output → assistant aggregator, plus the latency observer. The caller is greeted first
 * (`LLMRunFrame`), and the agent hangs up itself (`end_call` → `EndTaskFrame`).
 */
import {
  FunctionCallInProgressFrame,
  FunctionCallResultFrame,
  LLMContext,
  LLMRunFrame,
  Pipeline,
  PipelineTask,
  TTSTextFrame,
  TurnLatencyObserver,
  createContextAggregators,
} from "@voxpipe/core";
import type { FrameProcessor } from "@voxpipe/core";
import { OpenAILLMService } from "@voxpipe/openai";
import {
  ReservationBook,
  SYSTEM_PROMPT,
  registerRestaurantFunctions,
  tools,
} from "./restaurant.js";

/** Options of {@link createBookingAgent}. */
export interface BookingAgentOptions {
  readonly input: FrameProcessor;
  readonly stt: FrameProcessor;
  readonly tts: FrameProcessor;
  readonly output: FrameProcessor;
  /** Any OpenAI-compatible chat-completions endpoint. */
  readonly llm: { readonly baseURL?: string; readonly apiKey?: string; readonly model: string };
  /** Start the reply on Flux EagerEndOfTurn (needs an eager threshold on the STT). Default false. */
  readonly speculative?: boolean;
  /** What the agent says and does, as lines (`caller: …`, `agent: …`, `  → tool(args)`, …). */
  readonly print?: (line: string) => void;
}

/** Builds the task; run it with `new PipelineRunner().run(agent.task)`. */
export function createBookingAgent(options: BookingAgentOptions) {
  const { context, user, assistant } = createContextAggregators(
    new LLMContext([{ role: "system", content: SYSTEM_PROMPT }], tools),
  );
  const llm = new OpenAILLMService({
    ...options.llm,
    context,
    speculative: options.speculative ?? false,
  });
  const book = new ReservationBook();
  registerRestaurantFunctions(llm, book);
  const task = new PipelineTask(
    new Pipeline([options.input, options.stt, user, llm, options.tts, options.output, assistant]),
    { idleTimeoutMs: null, audioInSampleRate: 16000, audioOutSampleRate: 24000 },
  );
  const latency = new TurnLatencyObserver(task);
  const print = options.print;
  if (print !== undefined) {
    user.on("userMessage", ({ text }) => print(`caller: ${text}`));
    task.frames$.subscribe(({ processor, frame }) => {
      // Each sentence when it starts playing; each call as the LLM makes it and its result.
      if (processor === options.output && frame instanceof TTSTextFrame)
        print(`agent:  ${frame.text}`);
      else if (processor === llm && frame instanceof FunctionCallInProgressFrame)
        print(`  → ${frame.functionName}(${JSON.stringify(frame.arguments)})`);
      else if (processor === llm && frame instanceof FunctionCallResultFrame)
        print(`  ← ${JSON.stringify(frame.result)}`);
    });
  }
  // The agent speaks first: run the LLM on the system prompt alone.
  task.queueFrame(new LLMRunFrame());
  return { task, llm, context, book, latency };
}
