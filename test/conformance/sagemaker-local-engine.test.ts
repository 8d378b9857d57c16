/**
 * Conformance of the SageMaker path with real speech: FluxClient on `sagemakerCarrier` streams
 * the LibriVox conversation (`sampleConversation()`: three turns of human read speech, 1.5 s
 * apart) through the local SageMaker runtime endpoint (h2c, SigV4 request and event signatures
 * verified) to the local Flux server running the real `local` engine (pocketsphinx + Silero VAD
 * + turn-end estimator), not the scripted one. Audio is sent as fast as the client's
 * backpressure allows (`whenWritable`: at most 3 s of audio ahead of Flux), so the run takes a
 * few seconds of CPU rather than 16 s of wall time.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { normalizeWords, wordErrors } from "@voxpipe/cli/eval";
import { FluxClient, type FluxEvent } from "@voxpipe/deepgram";
import { startFluxServer, type FluxServer } from "@voxpipe/flux-server";
import { sagemakerCarrier, type SageMakerCarrier } from "@voxpipe/sagemaker";
import {
  startLocalSageMakerEndpoint,
  type LocalSageMakerEndpoint,
} from "@voxpipe/sagemaker/local-endpoint";
import { readWav16k, sampleConversation, type SampleConversation } from "@voxpipe/speech-local";

const CHUNK_SAMPLES = 1280; // 80 ms at 16 kHz
let flux: FluxServer;
let endpoint: LocalSageMakerEndpoint;
let carrier: SageMakerCarrier | undefined;
let sample: SampleConversation;

beforeAll(async () => {
  sample = await sampleConversation();
  flux = await startFluxServer({ engine: "local" });
  endpoint = await startLocalSageMakerEndpoint({ fluxUrl: flux.url, tls: false });
});
afterAll(async () => {
  carrier?.destroy();
  await endpoint.close();
  await flux.close();
});

it("gives one EndOfTurn per spoken turn, turns opened and closed in order, with the spoken words", async () => {
  carrier = sagemakerCarrier({
    endpointName: "flux-local",
    region: endpoint.region,
    endpointUrl: endpoint.url,
    credentials: endpoint.credentials,
  });
  const client = new FluxClient({
    settings: {
      model: "flux-general-en",
      encoding: "linear16",
      sampleRate: 16000,
      eotThreshold: 0.7,
      eagerEotThreshold: 0.4,
    },
    carrier,
  });
  const events: FluxEvent[] = [];
  const done = new Promise<void>((resolve, reject) =>
    client.events$.subscribe({ next: (e) => events.push(e), error: reject, complete: resolve }),
  );
  await client.start();
  const pcm = await readWav16k(sample.path);
  for (let at = 0; at < pcm.length; at += CHUNK_SAMPLES) {
    await client.whenWritable();
    const chunk = pcm.subarray(at, at + CHUNK_SAMPLES);
    client.sendAudio(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  await client.close(); // graceful: CloseStream, then every result up to the end of the audio
  await done;

  const counters = endpoint.counters();
  expect(counters.opened).toBe(1); // no reconnect: one stream carried the whole conversation
  expect(counters.eventsRejected).toBe(0);
  expect(events.some((e) => e.type === "Reconnecting")).toBe(false);

  // Every turn opens with StartOfTurn and closes with exactly one EndOfTurn, turns in order.
  const lifecycle = events.flatMap((e) =>
    e.type === "StartOfTurn" || e.type === "EndOfTurn" ? [`${e.type} ${e.turnIndex}`] : [],
  );
  expect(lifecycle).toEqual(sample.turns.flatMap((_, i) => [`StartOfTurn ${i}`, `EndOfTurn ${i}`]));

  const ends = events.flatMap((e) => (e.type === "EndOfTurn" ? [e] : []));
  expect(ends).toHaveLength(sample.turns.length);
  ends.forEach((end, i) => {
    // Each final falls after its turn's speech and before the next turn begins.
    expect(end.audioWindowEnd).toBeGreaterThanOrEqual(sample.turns[i].end);
    expect(end.audioWindowEnd).toBeLessThan(sample.turns[i + 1]?.start ?? sample.duration + 0.1);
    expect(end.transcript).toMatch(/^[A-Z].*[.?]$/);
    expect([end.trigger, end.synthetic]).toEqual(["model", false]); // Flux ended it, not the client
  });
  const reference = normalizeWords(sample.turns.map((t) => t.transcript).join(" "));
  const hypothesis = normalizeWords(ends.map((e) => e.transcript).join(" "));
  expect(wordErrors(reference, hypothesis) / reference.length).toBeLessThanOrEqual(0.4);
}, 90_000);
