import { Option } from "commander";
import type { Command } from "commander";
import {
  LLMContext,
  Pipeline,
  PipelineTask,
  TurnLatencyObserver,
  createContextAggregators,
} from "@voxpipe/core";
import type { FrameProcessor } from "@voxpipe/core";
import { DeepgramAuraTTSService } from "@voxpipe/deepgram/tts";
import { EchoLLMService, OpenAILLMService } from "@voxpipe/openai";
import { EspeakTTSService, ToneTTSService } from "@voxpipe/speech-local/tts";
import { SpeakerOutputTransport, WavFileOutputTransport } from "@voxpipe/transports";
import type { BaseOutputTransport } from "@voxpipe/transports";
import { runFluxTask, watchTurnEvents } from "../flux-events.js";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { CliUsageError, addFluxOptions } from "../options/flux.js";
import { toJsonLine } from "../view/json-view.js";
import {
  latencySummaryJson,
  latencySummaryTable,
  turnLatencyJson,
  turnLatencyLine,
} from "../view/latency-view.js";
import type { TranscriptViewEvent } from "../view/turn-event.js";
import { addInputOptions, openTurnView, prepareInput, sttFor } from "./transcribe.js";
import type { FluxRunFlags } from "./transcribe.js";

/** The flags that choose the agent's brain and voice (shared by `agent` and `serve`). */
export interface AgentServiceFlags {
  llm?: "echo" | "openai";
  llmUrl?: string;
  llmModel: string;
  systemPrompt: string;
  tts: "espeak" | "aura" | "tone";
  voice?: string;
}

interface AgentFlags extends FluxRunFlags, AgentServiceFlags {
  output: string;
}

const DEFAULT_SYSTEM_PROMPT =
  "You are a helpful voice assistant. Answer in one or two short spoken sentences, without lists or markup.";

/** Adds the LLM and TTS flags `agent` and `serve` share. */
export function addAgentServiceOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--llm <name>",
        "LLM: openai (any OpenAI-compatible server) or echo (repeats what it heard; offline). Default: openai with OPENAI_API_KEY or --llm-url, else echo",
      ).choices(["echo", "openai"]),
    )
    .option(
      "--llm-url <url>",
      "OpenAI-compatible base URL, e.g. http://localhost:11434/v1 (Ollama)",
    )
    .option("--llm-model <name>", "model name", "gpt-4o-mini")
    .option("--system-prompt <text>", "system prompt", DEFAULT_SYSTEM_PROMPT)
    .addOption(
      new Option(
        "--tts <name>",
        "TTS: espeak (offline), aura (Deepgram, needs DEEPGRAM_API_KEY), or tone (a tone per sentence, in-process: for load tests, not a voice)",
      )
        .choices(["espeak", "aura", "tone"])
        .default("espeak"),
    )
    .option(
      "--voice <name>",
      "espeak-ng voice (e.g. en-us, en-gb+f3) or Aura model (e.g. aura-2-thalia-en)",
    );
}

/**
 * Which LLM the flags pick: `--llm`, else openai with a key or URL, else echo.
 * @throws {CliUsageError} for `--llm openai` with neither `OPENAI_API_KEY` nor `--llm-url`.
 */
export function llmNameFor(flags: AgentServiceFlags, io: CliIO): "echo" | "openai" {
  if (flags.llm === "openai" && flags.llmUrl === undefined && !io.env.OPENAI_API_KEY) {
    throw new CliUsageError(
      "--llm openai needs OPENAI_API_KEY in the environment or --llm-url <url> of an OpenAI-compatible server (e.g. http://localhost:11434/v1); or use --llm echo",
    );
  }
  return flags.llm ?? (flags.llmUrl !== undefined || io.env.OPENAI_API_KEY ? "openai" : "echo");
}

/**
 * The agent's context aggregators, LLM and TTS for the flags — one set per conversation
 * (`agent` builds one, `serve` one per call).
 */
export function createAgentServices(
  flags: AgentServiceFlags,
  io: CliIO,
  options: { speculative: boolean },
) {
  const { context, user, assistant } = createContextAggregators(
    new LLMContext([{ role: "system", content: flags.systemPrompt }]),
  );
  const speculative = options.speculative;
  const llm: FrameProcessor =
    llmNameFor(flags, io) === "openai"
      ? new OpenAILLMService({
          model: flags.llmModel,
          context,
          speculative,
          ...(flags.llmUrl !== undefined && { baseURL: flags.llmUrl }),
          ...(io.env.OPENAI_API_KEY !== undefined && { apiKey: io.env.OPENAI_API_KEY }),
        })
      : new EchoLLMService({ context, speculative });
  const tts =
    flags.tts === "aura"
      ? new DeepgramAuraTTSService({
          ...(io.env.DEEPGRAM_API_KEY !== undefined && { apiKey: io.env.DEEPGRAM_API_KEY }),
          ...(flags.voice !== undefined && { settings: { model: flags.voice } }),
        })
      : flags.tts === "tone"
        ? new ToneTTSService()
        : new EspeakTTSService({
            ...(flags.voice !== undefined && { settings: { voice: flags.voice } }),
          });
  return { context, user, assistant, llm, tts };
}

/**
 * `voxpipe agent [input]`: input transport → Flux → context aggregator → LLM → TTS → output
 * transport → assistant aggregator, each chosen by a flag.
 */
export function registerAgentCommand(
  program: Command,
  io: CliIO,
  done: (code: number) => void,
): void {
  const command = program
    .command("agent")
    .description("Run a voice agent: input → Flux STT → LLM → TTS → output")
    .argument("[input]", 'file, URL, "-" for raw PCM on stdin, or "mic"', "mic")
    .option(
      "--output <speaker|file.wav>",
      "where the bot speaks: the speaker, or a WAV file (recorded on the call's timeline)",
      "speaker",
    )
    .option(
      "--json",
      "print one JSON object per line per turn event, bot reply and turn latency, then a LatencySummary",
      false,
    )
    .addHelpText(
      "after",
      `
Latency: after each reply starts playing, a line says where its time went (end of speech →
EndOfTurn → LLM request → first token → first sentence → TTS audio → audio out, and
voxpipe's own share); the run ends with p50/p90 per stage.

Speculative replies: with --eager-eot-threshold the LLM starts on Flux's EagerEndOfTurn,
is cancelled on TurnResumed and used on EndOfTurn. Barge-in: speaking while the bot talks
stops its reply at once. Fully offline: the embedded local Flux server, --llm echo and
--tts espeak.

Examples:
  voxpipe agent                                    # microphone → speaker
  voxpipe agent call.wav --output reply.wav --llm echo
  voxpipe agent --llm-url http://localhost:11434/v1 --llm-model llama3.2 --eager-eot-threshold 0.5`,
    );
  addAgentServiceOptions(command);
  addFluxOptions(command);
  addInputOptions(command);
  command.action(async (input: string, flags: AgentFlags) => {
    done(await agent(input, flags, io));
  });
}

function createOutput(spec: string): BaseOutputTransport {
  if (spec === "speaker") return new SpeakerOutputTransport();
  if (/\.wave?$/i.test(spec)) return new WavFileOutputTransport({ path: spec });
  throw new CliUsageError(
    `--output must be "speaker" or a path ending in .wav, got ${JSON.stringify(spec)}`,
  );
}

async function agent(inputSpec: string, flags: AgentFlags, io: CliIO): Promise<number> {
  llmNameFor(flags, io); // refuses --llm openai without a key or URL before anything starts
  const { logger, flux, input } = prepareInput(inputSpec, flags, io);
  const output = createOutput(flags.output);
  // Speculation only pays off (and only happens) when Flux sends eager ends of turn.
  const { user, assistant, llm, tts } = createAgentServices(flags, io, {
    speculative: flux.eagerEotThreshold !== undefined,
  });
  if (llmNameFor(flags, io) === "echo")
    note(
      io,
      "LLM: echo (repeats what it heard); use --llm openai with OPENAI_API_KEY or --llm-url for a real model",
    );

  const { endpoint, terminal } = await openTurnView(flux, flags.localEngine, io, logger);
  const show = flags.json
    ? (event: TranscriptViewEvent | { event: "BotReply"; text: string; interrupted: boolean }) =>
        io.stdout.write(
          `${event.event === "BotReply" ? JSON.stringify(event) : toJsonLine(event)}\n`,
        )
    : (event: TranscriptViewEvent | { event: "BotReply"; text: string; interrupted: boolean }) => {
        if (event.event === "BotReply") {
          terminal.close();
          io.stdout.write(`  bot: ${event.text}${event.interrupted ? " [interrupted]" : ""}\n`);
        } else if (event.event !== "Update" && event.event !== "StartOfTurn") {
          terminal.handle(event);
        }
      };
  try {
    const stt = sttFor(flux, endpoint);
    const task = new PipelineTask(
      new Pipeline([input.transport, stt, user, llm, tts, output, assistant]),
      {
        audioInSampleRate: 16000,
        audioOutSampleRate: 24000,
        idleTimeoutMs: null,
      },
    );
    watchTurnEvents(stt, task, show);
    assistant.on("assistantMessage", (m) =>
      show({ event: "BotReply", text: m.text, interrupted: m.interrupted }),
    );
    // Where each reply's time went, from frames$ only (nothing added to the frame path).
    const latency = new TurnLatencyObserver(task);
    latency.on("turnLatency", (t) => {
      if (flags.json) io.stdout.write(`${turnLatencyJson(t)}\n`);
      else {
        terminal.close();
        io.stdout.write(`${turnLatencyLine(t)}\n`);
      }
    });
    const { code } = await runFluxTask(task, stt, io);
    const summary = latency.summary();
    if (flags.json) io.stdout.write(`${latencySummaryJson(summary)}\n`);
    else if (summary.turns > 0) {
      terminal.close();
      io.stdout.write(`${latencySummaryTable(summary)}\n`);
    }
    if (output instanceof WavFileOutputTransport && code === 0)
      note(io, `bot audio written to ${output.path}`);
    return code;
  } finally {
    terminal.close();
    await endpoint.close();
  }
}
