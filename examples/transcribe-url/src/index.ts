/**
 * Transcribe a live URL — or any file ffmpeg reads — turn by turn with Flux, like the Flux
 * quickstart's "stream a live radio URL through ffmpeg" flow:
 *
 *   pnpm --filter @voxpipe/example-transcribe-url start [url-or-file]
 *
 * Without DEEPGRAM_API_KEY it runs offline against the embedded local Flux server; the
 * default input is `sampleConversation()`: three LibriVox recordings (Debian's
 * pocketsphinx-testdata) joined into a three-turn conversation in a temp WAV.
 */
import { Pipeline, PipelineRunner, PipelineTask, createLogger, setRootLogger } from "@voxpipe/core";
import { DeepgramFluxSTTService, resolveFluxEndpoint } from "@voxpipe/deepgram";
import { sampleConversation } from "@voxpipe/speech-local";
import { FfmpegInputTransport } from "@voxpipe/transports";

const source = process.argv[2] ?? (await sampleConversation()).path;

// Structured logs (pino) only for warnings here; the example prints its own lines.
setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

const flux = await resolveFluxEndpoint();
try {
  // ffmpeg decodes anything (MP3/AAC/Ogg streams, video files…) to 16 kHz mono PCM, paced in real time.
  const input = new FfmpegInputTransport({ input: source });
  const stt = new DeepgramFluxSTTService({
    url: flux.url,
    apiKey: flux.apiKey,
    settings: { model: "flux-general-en", eotThreshold: 0.7 },
  });

  // The live view: the interim transcript redraws in place; each final gets its own line.
  stt.on("update", (e) => {
    if (e.transcript !== "") process.stdout.write(`\r\x1b[2K… ${e.transcript}`);
  });
  stt.on("endOfTurn", (e) => {
    const confidence = e.confidence === undefined ? "" : ` (confidence ${e.confidence.toFixed(2)})`;
    process.stdout.write(
      `\r\x1b[2K[${e.audioWindowStart.toFixed(1)}–${e.audioWindowEnd.toFixed(1)} s] ${e.transcript}${confidence}\n`,
    );
  });

  // Ctrl-C ends gracefully (the last turn is still transcribed); the end of the stream does too.
  await new PipelineRunner().run(
    new PipelineTask(new Pipeline([input, stt]), { idleTimeoutMs: null }),
  );
} finally {
  await flux.close();
}
