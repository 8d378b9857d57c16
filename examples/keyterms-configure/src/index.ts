/**
 * Switching Flux settings mid-call with `Configure`: when the conversation moves to collecting
 * a one-time code, boost the digit words (keyterms) and give the caller more time between
 * digits (a higher `eot_threshold`, a longer `eot_timeout_ms`); switch back afterwards. No
 * reconnect, no audio lost: the update travels in order with the audio as an
 * `STTUpdateSettingsFrame`, and the service turns it into a Flux `Configure`.
 *
 *   pnpm --filter @voxpipe/example-keyterms-configure start [input.wav]
 */
import {
  Pipeline,
  PipelineRunner,
  PipelineTask,
  STTUpdateSettingsFrame,
  createLogger,
  setRootLogger,
} from "@voxpipe/core";
import { DeepgramFluxSTTService, resolveFluxEndpoint } from "@voxpipe/deepgram";
import type { DeepgramFluxSettings } from "@voxpipe/deepgram";
import { sampleConversation } from "@voxpipe/speech-local";
import { WavFileInputTransport } from "@voxpipe/transports";

const path = process.argv[2] ?? (await sampleConversation()).path;

/** Settings while the caller reads out a code: digits boosted, patient turn-taking. */
const COLLECTING_CODE: Partial<DeepgramFluxSettings> = {
  keyterm: [
    "zero",
    "oh",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "verification code",
  ],
  eotThreshold: 0.85,
  eotTimeoutMs: 3000,
};
/** Back to normal conversation. */
const CONVERSATION: Partial<DeepgramFluxSettings> = {
  keyterm: [],
  eotThreshold: 0.7,
  eotTimeoutMs: 5000,
};

// Structured logs (pino) only for warnings here; the example prints its own lines.
setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

const flux = await resolveFluxEndpoint();
try {
  const stt = new DeepgramFluxSTTService({
    url: flux.url,
    apiKey: flux.apiKey,
    settings: CONVERSATION,
  });
  const task = new PipelineTask(new Pipeline([new WavFileInputTransport({ path }), stt]), {
    idleTimeoutMs: null,
  });
  const switchTo = (name: string, settings: Partial<DeepgramFluxSettings>): void => {
    console.log(`→ ${name}: sending Configure`);
    task.queueFrame(new STTUpdateSettingsFrame<DeepgramFluxSettings>({ settings, service: stt }));
  };

  // A scripted dialogue: after turn 0 the agent asks for the code, after turn 1 it has it.
  stt.on("endOfTurn", (e) => {
    console.log(`turn ${e.turnIndex}: ${e.transcript}`);
    if (e.turnIndex === 0) switchTo("collecting the one-time code", COLLECTING_CODE);
    if (e.turnIndex === 1) switchTo("back to conversation", CONVERSATION);
  });
  // Flux answers each Configure with ConfigureSuccess, echoing the whole active configuration
  // (a ConfigureFailure becomes an ErrorFrame and the previous settings stay in force).
  task.on("started", () => {
    stt.flux?.events$.subscribe((event) => {
      if (event.type !== "Configured") return;
      const { keyterms, eotThreshold, eotTimeoutMs } = event.configuration;
      console.log(
        `  ConfigureSuccess: ${keyterms.length} keyterm(s), eot_threshold ${eotThreshold}, eot_timeout_ms ${eotTimeoutMs}`,
      );
    });
  });
  task.on("error", (e) => console.error(`error: ${e.error}`));

  await new PipelineRunner().run(task);
} finally {
  await flux.close();
}
