import { Option } from "commander";
import type { Command } from "commander";
import { Pipeline, PipelineTask } from "@voxpipe/core";
import { resolveFluxEndpoint } from "@voxpipe/deepgram";
import { PlivoRestHangUp, TelnyxRestHangUp, TwilioRestHangUp } from "@voxpipe/transports";
import type { CallHangUp, CallInfo } from "@voxpipe/transports";
import { watchTurnEvents } from "../flux-events.js";
import type { CliIO } from "../io.js";
import { note } from "../io.js";
import { LOG_LEVELS, setupLogging } from "../logging.js";
import type { LogLevel } from "../logging.js";
import { parseEngineOptions } from "../options/engine.js";
import { addFluxOptions, parseInteger, resolveFluxFlags } from "../options/flux.js";
import type { FluxFlagValues } from "../options/flux.js";
import { ROUTES, startVoxpipeServer } from "../serve/server.js";
import type { ServeProtocol, VoxpipeServer } from "../serve/server.js";
import { addAgentServiceOptions, createAgentServices, llmNameFor } from "./agent.js";
import type { AgentServiceFlags } from "./agent.js";
import { sttFor } from "./transcribe.js";

interface ServeFlags extends FluxFlagValues, AgentServiceFlags {
  host: string;
  port: number;
  publicUrl?: string;
  maxCalls?: number;
  drainTimeoutMs: number;
  passthrough: boolean;
  logLevel: LogLevel;
  localEngine: string;
  localEngineOptions?: Record<string, unknown>;
}

/**
 * The provider REST hang-ups the environment has credentials for: `TWILIO_AUTH_TOKEN`
 * (+ `TWILIO_ACCOUNT_SID`, else the call's), `TELNYX_API_KEY`, `PLIVO_AUTH_ID` +
 * `PLIVO_AUTH_TOKEN`. `*_API_URL` variables point them elsewhere (a regional edge, a test fake).
 */
export function hangUpsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<Record<ServeProtocol, CallHangUp>> {
  const out: Partial<Record<ServeProtocol, CallHangUp>> = {};
  if (env.TWILIO_AUTH_TOKEN)
    out.twilio = new TwilioRestHangUp({
      authToken: env.TWILIO_AUTH_TOKEN,
      accountSid: env.TWILIO_ACCOUNT_SID || undefined,
      baseUrl: env.TWILIO_API_URL || undefined,
    });
  if (env.TELNYX_API_KEY)
    out.telnyx = new TelnyxRestHangUp({
      apiKey: env.TELNYX_API_KEY,
      baseUrl: env.TELNYX_API_URL || undefined,
    });
  if (env.PLIVO_AUTH_ID && env.PLIVO_AUTH_TOKEN)
    out.plivo = new PlivoRestHangUp({
      authId: env.PLIVO_AUTH_ID,
      authToken: env.PLIVO_AUTH_TOKEN,
      baseUrl: env.PLIVO_API_URL || undefined,
    });
  return out;
}

/**
 * `voxpipe serve`: the agent of `voxpipe agent` (Flux → LLM → TTS, chosen by the same flags)
 * as a server — phone calls on `/twilio`, `/telnyx`, `/plivo`, `/exotel`, browsers on `/ws`
 * and the page at `/`. Runs until SIGINT/SIGTERM, then drains.
 */
export function registerServeCommand(
  program: Command,
  io: CliIO,
  done: (code: number) => void,
): void {
  const command = program
    .command("serve")
    .description(
      "Run the agent as a server: phone calls (Twilio, Telnyx, Plivo, Exotel) and browsers over WebSocket",
    )
    .option("--host <address>", "interface to listen on", "127.0.0.1")
    .addOption(
      new Option("--port <n>", "port to listen on (0: any free port)")
        .argParser(parseInteger("--port"))
        .default(8080),
    )
    .option(
      "--public-url <url>",
      "base URL the providers reach this server at (https://…); default: from each request's Host header",
    )
    .addOption(
      new Option("--max-calls <n>", "most calls at once; the next is refused as busy").argParser(
        parseInteger("--max-calls"),
      ),
    )
    .addOption(
      new Option(
        "--drain-timeout-ms <ms>",
        "on SIGTERM, how long live calls may go on before they are ended",
      )
        .argParser(parseInteger("--drain-timeout-ms"))
        .default(30_000),
    )
    .option(
      "--no-passthrough",
      "decode and resample call audio to 16 kHz PCM instead of sending the call's μ-law to Flux as is",
    )
    .addOption(
      new Option("--log-level <level>", "structured logs (pino JSON) on stderr")
        .choices(LOG_LEVELS)
        .default("info"),
    )
    .addOption(
      new Option("--local-engine <name>", "engine of the embedded local Flux server")
        .default("local")
        .hideHelp(),
    )
    .addOption(
      new Option(
        "--local-engine-options <json>",
        'options of the embedded local Flux server\'s engine (without DEEPGRAM_API_KEY), e.g. \'{"search":"fast"}\' for more calls per core',
      ).argParser(parseEngineOptions("--local-engine-options")),
    )
    .addHelpText(
      "after",
      `
Routes (one port):
  GET  /                     the browser page (microphone, playback, live turn view)
  WS   /ws                   the browser page's protocol
  WS   /twilio /telnyx /plivo /exotel     telephony media streams
  GET|POST /twilio/twiml  /telnyx/texml  /plivo/xml  /exotel/url
                             what the provider fetches to connect a call to its stream
  GET  /healthz              readiness (503 while draining or full), /livez liveness
  GET  /stats                live calls and EndOfTurn → first audio latency

Hang-up when the agent ends a call: TWILIO_AUTH_TOKEN (+TWILIO_ACCOUNT_SID), TELNYX_API_KEY,
PLIVO_AUTH_ID + PLIVO_AUTH_TOKEN. Without DEEPGRAM_API_KEY the embedded local Flux server runs.

Examples:
  voxpipe serve --port 8080 --llm echo
  voxpipe serve --host 0.0.0.0 --public-url https://agent.example.com --max-calls 50
  voxpipe serve --max-calls 10 --local-engine-options '{"search":"fast"}'   (offline, more calls per core)`,
    );
  addAgentServiceOptions(command);
  addFluxOptions(command);
  command.action(async (flags: ServeFlags) => {
    done(await serve(flags, io, io.signals ?? process));
  });
}

async function serve(flags: ServeFlags, io: CliIO, signals: NodeJS.EventEmitter): Promise<number> {
  const logger = setupLogging(flags.logLevel);
  const flux = resolveFluxFlags(flags);
  const llmName = llmNameFor(flags, io); // refuses --llm openai without a key or URL up front
  const endpoint = await resolveFluxEndpoint({
    url: flux.url,
    engine: flags.localEngine,
    ...(flags.localEngineOptions !== undefined && { engineOptions: flags.localEngineOptions }),
    env: io.env,
    notify: (text) => note(io, text),
    logger,
  });
  if (llmName === "echo")
    note(io, "LLM: echo (repeats what it heard); use --llm openai or --llm-url for a real model");
  const hangUps = hangUpsFromEnv(io.env);
  const speculative = flux.eagerEotThreshold !== undefined;
  let server: VoxpipeServer;
  try {
    server = await startVoxpipeServer({
      host: flags.host,
      port: flags.port,
      publicUrl: flags.publicUrl,
      maxCalls: flags.maxCalls,
      passthrough: flags.passthrough,
      logger,
      hangUp: (protocol: ServeProtocol, _call: CallInfo) => hangUps[protocol],
      pipeline: ({ session, call, latency }) => {
        // A call's G.711 goes to Flux as is (encoding=mulaw&sample_rate=8000) when the input
        // passes it through; otherwise the transport resamples to 16 kHz PCM.
        const wire = call.inputFormat;
        const passthrough = flags.passthrough && wire.encoding !== "linear16";
        const audio = passthrough ? wire : { encoding: "linear16" as const, sampleRate: 16000 };
        // Nothing after the STT uses the caller's audio: it stops there instead of crossing
        // five processors (and the task's observation) 50 times a second per call.
        const stt = sttFor(flux, endpoint, audio, { audioPassthrough: false });
        const { user, assistant, llm, tts } = createAgentServices(flags, io, { speculative });
        // The TTS speaks at the wire's rate (8 kHz on a phone line, as Pipecat does for
        // telephony): the output then sends its audio as is, with no resampler per call.
        const task = new PipelineTask(
          new Pipeline([session.input, stt, user, llm, tts, session.output, assistant]),
          {
            audioInSampleRate: audio.sampleRate,
            audioOutSampleRate: session.serializer.outputFormat.sampleRate,
            idleTimeoutMs: null,
          },
        );
        // The browser page's live view (telephony serializers have no events: a no-op there).
        watchTurnEvents(stt, task, (event) => session.sendEvent(event));
        assistant.on("assistantMessage", (m) =>
          session.sendEvent({ event: "BotReply", text: m.text, interrupted: m.interrupted }),
        );
        latency.watch(task.frames$);
        return task;
      },
    });
  } catch (err) {
    await endpoint.close();
    throw err;
  }
  io.stdout.write(
    `voxpipe serve: listening on ${server.url} — ${Object.keys(ROUTES).join(" ")} (WebSocket), / (browser page), /healthz\n`,
  );
  if (Object.keys(hangUps).length === 0)
    note(
      io,
      "no provider credentials (TWILIO_AUTH_TOKEN, TELNYX_API_KEY, PLIVO_AUTH_ID/PLIVO_AUTH_TOKEN): calls the agent ends are closed on the socket only",
    );
  // SIGINT/SIGTERM: drain (a second signal ends at once).
  let stopListening = (): void => {};
  await new Promise<void>((resolve) => {
    let signalled = 0;
    const onSignal = (name: string): void => {
      signalled++;
      if (signalled === 1) {
        note(io, `${name}: draining ${server.calls} live call(s) (a second signal stops at once)`);
        void server.drain(flags.drainTimeoutMs).then((forced) => {
          if (forced > 0) note(io, `ended ${forced} call(s) still live after the drain timeout`);
          resolve();
        });
      } else {
        void server.close().then(resolve);
      }
    };
    signals.on("SIGINT", onSignal);
    signals.on("SIGTERM", onSignal);
    stopListening = () => {
      signals.off("SIGINT", onSignal);
      signals.off("SIGTERM", onSignal);
    };
  });
  stopListening();
  await endpoint.close();
  note(io, "stopped");
  return 0;
}
