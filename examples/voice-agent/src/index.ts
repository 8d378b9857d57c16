/**
 * A voice agent in ~40 lines: input → Flux → context aggregator → LLM → TTS → output.
 *
 *   pnpm --filter @voxpipe/example-voice-agent start [input.wav|mic] [output.wav|speaker]
 *
 * What runs offline (the default): the local Flux server (no DEEPGRAM_API_KEY), the echo
 * "LLM" (no OPENAI_API_KEY / OPENAI_BASE_URL) and espeak-ng. Set the keys to use Deepgram
 * Flux and OpenAI (or point OPENAI_BASE_URL at Ollama/vLLM) — the pipeline does not change.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LLMContext,
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
import { EspeakTTSService } from "@voxpipe/speech-local/tts";
import {
  MicrophoneInputTransport,
  SpeakerOutputTransport,
  WavFileInputTransport,
  WavFileOutputTransport,
} from "@voxpipe/transports";

const [
  inputArg = (await sampleConversation()).path,
  outputArg = join(tmpdir(), "voxpipe-agent-reply.wav"),
] = process.argv.slice(2);

const input =
  inputArg === "mic"
    ? new MicrophoneInputTransport()
    : new WavFileInputTransport({ path: inputArg });
const output =
  outputArg === "speaker"
    ? new SpeakerOutputTransport()
    : new WavFileOutputTransport({ path: outputArg });

const { context, user, assistant } = createContextAggregators(
  new LLMContext([
    { role: "system", content: "You are a friendly receptionist. Answer in one short sentence." },
  ]),
);
const useOpenAI =
  process.env.OPENAI_API_KEY !== undefined || process.env.OPENAI_BASE_URL !== undefined;
const llm = useOpenAI
  ? new OpenAILLMService({ model: process.env.OPENAI_MODEL ?? "gpt-4o-mini", context })
  : new EchoLLMService({ context });
console.error(
  `LLM: ${useOpenAI ? "OpenAI-compatible" : "echo (offline; set OPENAI_API_KEY for a real model)"}, TTS: espeak-ng`,
);

// Structured logs (pino) only for warnings here; the example prints its own lines.
setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

const flux = await resolveFluxEndpoint();
try {
  const stt = new DeepgramFluxSTTService({ url: flux.url, apiKey: flux.apiKey });
  const tts = new EspeakTTSService({ settings: { voice: "en-us", wordsPerMinute: 190 } });
  const task = new PipelineTask(new Pipeline([input, stt, user, llm, tts, output, assistant]), {
    idleTimeoutMs: null,
  });

  user.on("userMessage", ({ text }) => console.log(`user: ${text}`));
  assistant.on("assistantMessage", ({ text, interrupted }) =>
    console.log(`bot:  ${text}${interrupted ? "  [interrupted]" : ""}`),
  );

  await new PipelineRunner().run(task);
  if (output instanceof WavFileOutputTransport) console.error(`bot audio: ${output.path}`);
} finally {
  await flux.close();
}
