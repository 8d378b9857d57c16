/**
 * Multilingual detect-then-lock: start on `flux-general-multi` with no language hints (Flux
 * detects the language per turn), then — once the first turn's language is known — pin
 * `language_hint` to it with a `Configure`, so later turns are not misdetected (a short
 * "OK" or a name can flip detection to the wrong language).
 *
 *   pnpm --filter @voxpipe/example-multilingual start [input.wav]
 *
 * Offline, the local server accepts the multilingual model and the hints, but its recognizer
 * is English-only: it reports `en`. With DEEPGRAM_API_KEY, try a recording in Spanish or German.
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

// Structured logs (pino) only for warnings here; the example prints its own lines.
setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

const flux = await resolveFluxEndpoint();
try {
  const stt = new DeepgramFluxSTTService({
    url: flux.url,
    apiKey: flux.apiKey,
    settings: { model: "flux-general-multi" },
  });
  const task = new PipelineTask(new Pipeline([new WavFileInputTransport({ path }), stt]), {
    idleTimeoutMs: null,
  });

  let locked: string | undefined;
  stt.on("endOfTurn", (e) => {
    const detected = e.languages?.[0];
    console.log(
      `turn ${e.turnIndex} [detected ${e.languages?.join(",") ?? "?"}; hinted ${e.languagesHinted?.join(",") || "none"}]: ${e.transcript}`,
    );
    if (locked === undefined && detected !== undefined) {
      locked = detected;
      console.log(`→ locking to "${detected}" (Configure language_hints=[${detected}])`);
      task.queueFrame(
        new STTUpdateSettingsFrame<DeepgramFluxSettings>({
          settings: { languageHints: [detected] },
          service: stt,
        }),
      );
    }
  });
  task.on("error", (e) => console.error(`error: ${e.error}`));

  await new PipelineRunner().run(task);
} finally {
  await flux.close();
}
