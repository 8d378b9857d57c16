/**
 * A restaurant booking agent with tools: it greets the caller, checks availability, books a
 * table and hangs up after saying goodbye — and reports where each reply's time went.
 *
 *   pnpm --filter @voxpipe/example-booking-agent start [call.wav|mic] [--output reply.wav|speaker]
 *       [--llm-url URL --llm-model NAME]  [--eager-eot-threshold 0.5]
 *
 * Offline by default: the local Flux server (no DEEPGRAM_API_KEY), espeak-ng, and a scripted
 * OpenAI-compatible LLM server that plays this conversation's script. `--llm-url` (or
 * OPENAI_API_KEY for OpenAI itself) uses a real model: Ollama, vLLM, OpenAI, …
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { PipelineRunner, TURN_LATENCY_STAGES, createLogger, setRootLogger } from "@voxpipe/core";
import type { TurnLatency, TurnLatencySummary } from "@voxpipe/core";
import { DeepgramFluxSTTService, resolveFluxEndpoint } from "@voxpipe/deepgram";
import { startScriptedChatServer } from "@voxpipe/openai/testing";
import { EspeakTTSService } from "@voxpipe/speech-local/tts";
import {
  MicrophoneInputTransport,
  SpeakerOutputTransport,
  WavFileInputTransport,
  WavFileOutputTransport,
} from "@voxpipe/transports";
import { createBookingAgent } from "./agent.js";
import { scriptedWaiter } from "./scripted-waiter.js";

const { values: flags, positionals } = parseArgs({
  // `pnpm start -- --flag` passes the "--" through: drop it.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  allowPositionals: true,
  options: {
    output: { type: "string", default: join(tmpdir(), "voxpipe-booking-agent.wav") },
    "llm-url": { type: "string" },
    "llm-model": { type: "string", default: "gpt-4o-mini" },
    "eager-eot-threshold": { type: "string" },
  },
});
const inputArg =
  positionals[0] ?? fileURLToPath(new URL("../audio/booking-call.wav", import.meta.url));
const eager =
  flags["eager-eot-threshold"] === undefined ? undefined : Number(flags["eager-eot-threshold"]);
if (eager !== undefined && !(eager >= 0.3 && eager <= 0.9)) {
  console.error(
    `--eager-eot-threshold must be a number from 0.3 to 0.9, got ${flags["eager-eot-threshold"]}`,
  );
  process.exit(2);
}

setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

// The LLM: a real OpenAI-compatible endpoint, or the scripted one for this conversation.
const realLlm = flags["llm-url"] !== undefined || process.env.OPENAI_API_KEY !== undefined;
const scripted = realLlm ? undefined : await startScriptedChatServer({ reply: scriptedWaiter });
console.error(
  realLlm
    ? `LLM: ${flags["llm-model"]} at ${flags["llm-url"] ?? "api.openai.com"}`
    : "LLM: scripted (offline; pass --llm-url or set OPENAI_API_KEY for a real model)",
);
const flux = await resolveFluxEndpoint({ notify: (text) => console.error(text) });
try {
  const agent = createBookingAgent({
    input:
      inputArg === "mic"
        ? new MicrophoneInputTransport()
        : new WavFileInputTransport({ path: inputArg }),
    stt: new DeepgramFluxSTTService({
      url: flux.url,
      apiKey: flux.apiKey,
      ...(eager !== undefined && { settings: { eagerEotThreshold: eager, eotThreshold: 0.7 } }),
    }),
    tts: new EspeakTTSService({ settings: { voice: "en-us", wordsPerMinute: 190 } }),
    output:
      flags.output === "speaker"
        ? new SpeakerOutputTransport()
        : new WavFileOutputTransport({ path: flags.output }),
    llm: {
      model: flags["llm-model"],
      ...(scripted !== undefined && { baseURL: scripted.baseURL, apiKey: "unused" }),
      ...(flags["llm-url"] !== undefined && { baseURL: flags["llm-url"] }),
    },
    speculative: eager !== undefined,
    print: (line) => console.log(line),
  });
  agent.latency.on("turnLatency", (t) => console.log(latencyLine(t)));

  const result = await new PipelineRunner().run(agent.task);
  console.log(summaryTable(agent.latency.summary()));
  console.log(`bookings: ${JSON.stringify(agent.book.bookings)}`);
  console.error(`call ended (${result.reason}); agent audio: ${flags.output}`);
  if (result.reason === "error") process.exitCode = 1;
} finally {
  await flux.close();
  await scripted?.close();
}

function ms(x: number | undefined): string {
  return x === undefined ? "–" : x < 10 ? x.toFixed(1) : Math.round(x).toString();
}

function latencyLine(t: TurnLatency): string {
  if (!t.complete) return `  latency: turn ${t.turnIndex}: no reply played`;
  const stages = TURN_LATENCY_STAGES.map((s) => `${s} ${ms(t.stages[s])}`).join(" · ");
  const calls = t.functionCallsMs === undefined ? "" : `; functions ${ms(t.functionCallsMs)}`;
  const spec =
    t.speculation === undefined
      ? ""
      : `; eager ${ms(t.speculation.leadMs)} ahead, ${t.speculation.matched ? "matched" : "changed"}`;
  return `  latency: ${ms(t.voiceToVoiceMs)} ms voice-to-voice (${stages}; voxpipe ${ms(t.voxpipeMs)}${calls}${spec})`;
}

function summaryTable(s: TurnLatencySummary): string {
  const rows = [
    ...TURN_LATENCY_STAGES.map((k) => [k, s.stages[k]] as const),
    ["voice-to-voice", s.voiceToVoice] as const,
    ["voxpipe's share", s.voxpipe] as const,
  ];
  return [
    `latency over ${s.completeTurns} answered turns (ms)   p50     p90`,
    ...rows.map(
      ([name, p]) => `  ${name.padEnd(34)}${ms(p.p50).padStart(6)}  ${ms(p.p90).padStart(6)}`,
    ),
  ].join("\n");
}
