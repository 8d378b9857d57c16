/**
 * One pipeline, any input: the transcriber below never changes; only the first processor does.
 *
 *   pnpm --filter @voxpipe/example-swap-input start wav    [file.wav]
 *   pnpm --filter @voxpipe/example-swap-input start ffmpeg <file-or-url>
 *   arecord -f S16_LE -r 16000 -c 1 -t raw | pnpm --filter @voxpipe/example-swap-input start stdin
 *   pnpm --filter @voxpipe/example-swap-input start mic    [alsa-device]
 */
import { Pipeline, PipelineRunner, PipelineTask, createLogger, setRootLogger } from "@voxpipe/core";
import { DeepgramFluxSTTService, resolveFluxEndpoint } from "@voxpipe/deepgram";
import { sampleConversation } from "@voxpipe/speech-local";
import {
  FfmpegInputTransport,
  MicrophoneInputTransport,
  PcmStreamInputTransport,
  WavFileInputTransport,
} from "@voxpipe/transports";
import type { BaseInputTransport } from "@voxpipe/transports";

/** The file to play: `arg`, else a three-turn conversation of real speech written to a temp WAV. */
async function recording(arg: string | undefined): Promise<string> {
  return arg ?? (await sampleConversation()).path;
}

/** Every input transport emits the same 20 ms `InputAudioRawFrame`s at the pipeline's rate. */
async function chooseInput(
  kind: string | undefined,
  arg: string | undefined,
): Promise<BaseInputTransport> {
  switch (kind ?? "wav") {
    case "wav":
      return new WavFileInputTransport({ path: await recording(arg) });
    case "ffmpeg":
      return new FfmpegInputTransport({ input: await recording(arg) });
    case "stdin":
      return new PcmStreamInputTransport({ inputSampleRate: Number(arg ?? 16000) });
    case "mic":
      return new MicrophoneInputTransport({ ...(arg !== undefined && { device: arg }) });
    default:
      throw new Error(`unknown input ${JSON.stringify(kind)}: use wav, ffmpeg, stdin or mic`);
  }
}

/** The rest of the application: it does not know where the audio comes from. */
async function transcribe(input: BaseInputTransport): Promise<void> {
  // Structured logs (pino) only for warnings here; the example prints its own lines.
  setRootLogger(createLogger("voxpipe", { level: process.env.VOXPIPE_LOG_LEVEL ?? "warn" }));

  const flux = await resolveFluxEndpoint();
  try {
    const stt = new DeepgramFluxSTTService({ url: flux.url, apiKey: flux.apiKey });
    stt.on("endOfTurn", (e) => console.log(`turn ${e.turnIndex}: ${e.transcript}`));
    await new PipelineRunner().run(
      new PipelineTask(new Pipeline([input, stt]), { idleTimeoutMs: null }),
    );
  } finally {
    await flux.close();
  }
}

await transcribe(await chooseInput(process.argv[2], process.argv[3]));
