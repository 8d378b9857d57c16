/**
 * A user's program, outside the voxpipe repo, on the packed packages: starts the scripted
 * Flux server, streams one WAV through FluxClient and through a Pipeline with
 * DeepgramFluxSTTService and a custom processor, and prints what it heard — and nothing
 * else may appear on stdout (the consumer test checks).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  FrameProcessor,
  Pipeline,
  PipelineRunner,
  PipelineTask,
  TranscriptionFrame,
  decodeWav,
  encodeWav,
  type Frame,
  type FrameDirection,
} from "@voxpipe/core";
import { DeepgramFluxSTTService, FluxClient } from "@voxpipe/deepgram";
import { startFluxServer } from "@voxpipe/flux-server";
import { silence, tone } from "@voxpipe/flux-server/testing";
import { WavFileInputTransport } from "@voxpipe/transports";

const RATE = 16000;
const SAID = ["Hello from a consumer.", "Second turn here."];

// The scripted engine (a named fake) hears a tone as speech and assigns the next transcript.
const pcm = Buffer.concat([
  silence(300, RATE),
  tone(1200, RATE),
  silence(1500, RATE),
  tone(1200, RATE),
  silence(1500, RATE),
]);
const wavPath = join(tmpdir(), `voxpipe-consumer-${process.pid}.wav`);
writeFileSync(wavPath, encodeWav(pcm, RATE));

const server = await startFluxServer({ engine: "scripted", engineOptions: { transcripts: SAID } });
const settings = { model: "flux-general-en", encoding: "linear16", sampleRate: RATE } as const;

// 1. FluxClient alone: the WAV's samples, sent as fast as the client takes them.
const client = new FluxClient({ url: server.url, settings });
const heard: string[] = [];
client.events$.subscribe((event) => {
  if (event.type === "EndOfTurn") heard.push(event.transcript);
});
await client.start();
client.sendAudio(decodeWav(readFileSync(wavPath)).audio);
await client.close();
console.log(`FluxClient: ${heard.join(" | ")}`);

// 2. A pipeline: WAV file → Flux STT → a custom processor that keeps the final transcripts.
class TranscriptCollector extends FrameProcessor {
  readonly transcripts: string[] = [];
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof TranscriptionFrame) this.transcripts.push(frame.text);
    this.push(frame, direction);
  }
}
const collector = new TranscriptCollector();
const stt = new DeepgramFluxSTTService({ url: server.url, settings: { model: "flux-general-en" } });
await new PipelineRunner({ handleSigint: false, handleSigterm: false }).run(
  new PipelineTask(
    new Pipeline([new WavFileInputTransport({ path: wavPath, realtime: false }), stt, collector]),
  ),
);
console.log(`Pipeline: ${collector.transcripts.join(" | ")}`);

await server.close();
const ok = [heard, collector.transcripts].every((t) => t.join("|") === SAID.join("|"));
if (!ok) {
  console.error(`expected ${SAID.join(" | ")}`);
  process.exitCode = 1;
}
