/**
 * Speculative replies with Flux eager end-of-turn: the LLM starts on `EagerEndOfTurn`, is
 * cancelled on `TurnResumed`, and its buffered reply is used at `EndOfTurn` — so the reply is
 * ready when the turn ends instead of one LLM round trip later.
 *
 *   pnpm --filter @voxpipe/example-eager-speculation start [input.wav]
 *
 * Offline by default: the local Flux server and the echo "LLM" made as slow as a real one
 * (600 ms to first token). With OPENAI_API_KEY it uses OpenAI instead.
 */
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  LLMContext,
  LLMTextFrame,
  Pipeline,
  PipelineRunner,
  PipelineTask,
  createContextAggregators,
  createLogger,
  setRootLogger,
} from "@voxpipe/core";
import { DeepgramFluxSTTService, resolveFluxEndpoint } from "@voxpipe/deepgram";
import { EchoLLMService, OpenAILLMService } from "@voxpipe/openai";
import { sampleConversation } from "@voxpipe/speech-local";
import { WavFileInputTransport } from "@voxpipe/transports";

const path = process.argv[2] ?? (await sampleConversation()).path;

const { context, user } = createContextAggregators(
  new LLMContext([{ role: "system", content: "Answer in one short sentence." }]),
);
// `context` lets the LLM build the speculative request before the final transcript arrives.
// The echo "LLM" answers after this long, as a hosted model might: without speculation the
// reply could not start earlier than this after EndOfTurn.
const ECHO_FIRST_TOKEN_MS = 600;
const llm = process.env.OPENAI_API_KEY
  ? new OpenAILLMService({ model: "gpt-4o-mini", context, speculative: true })
  : new EchoLLMService({
      context,
      speculative: true,
      settings: { firstTokenDelayMs: ECHO_FIRST_TOKEN_MS, tokenDelayMs: 30 },
    });

// Structured logs (pino) only for warnings here; the example prints its own lines.
setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

const flux = await resolveFluxEndpoint();
try {
  const stt = new DeepgramFluxSTTService({
    url: flux.url,
    apiKey: flux.apiKey,
    // Eager mode: EagerEndOfTurn once the end-of-turn confidence passes 0.4, EndOfTurn at 0.7.
    settings: { eagerEotThreshold: 0.4, eotThreshold: 0.7 },
  });
  // Real-time pace, as from a microphone: the eager event's lead in audio time is then a head
  // start in wall time for the speculative reply (streamed faster, there would be none).
  const input = new WavFileInputTransport({ path, realtime: true });

  llm.on("speculationStarted", ({ turnIndex }) =>
    console.log(`turn ${turnIndex}: EagerEndOfTurn → speculative reply started`),
  );
  llm.on("speculationDiscarded", ({ turnIndex, reason }) =>
    console.log(`turn ${turnIndex}: speculation discarded (${reason})`),
  );
  llm.on("speculationCommitted", ({ turnIndex, bufferedChunks }) =>
    console.log(
      `turn ${turnIndex}: EndOfTurn → speculation used, ${bufferedChunks} chunk(s) already generated`,
    ),
  );

  const task = new PipelineTask(new Pipeline([input, stt, user, llm]), { idleTimeoutMs: null });
  // Measure what the user would wait for: EndOfTurn → the reply's first words.
  let endOfTurnAt: number | undefined;
  let eagerAt: number | undefined;
  const waits: number[] = [];
  task.frames$.subscribe(({ processor, frame, timestamp }) => {
    if (processor === stt && frame instanceof EagerEndOfTurnFrame) eagerAt = timestamp;
    if (processor === stt && frame instanceof EndOfTurnFrame) {
      endOfTurnAt = timestamp;
      if (eagerAt !== undefined)
        console.log(`  eager → final: ${(timestamp - eagerAt).toFixed(0)} ms`);
    }
    if (frame instanceof LLMTextFrame && processor === llm && endOfTurnAt !== undefined) {
      waits.push(timestamp - endOfTurnAt);
      console.log(
        `  first words of the reply ${(timestamp - endOfTurnAt).toFixed(0)} ms after EndOfTurn: "${frame.text.trim()}…"`,
      );
      endOfTurnAt = undefined;
      eagerAt = undefined;
    }
  });
  await new PipelineRunner().run(task);
  if (!process.env.OPENAI_API_KEY && waits.length > 0) {
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    console.log(
      `reply's first words ${mean.toFixed(0)} ms after EndOfTurn on average over ${waits.length} turn(s); ` +
        `without speculation they could come no sooner than ${ECHO_FIRST_TOKEN_MS} ms (the echo LLM's time to first token)`,
    );
  }
} finally {
  await flux.close();
}
